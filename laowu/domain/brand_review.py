"""Brand dynamic management (动态管理) as ledger rules: applications for entry (入库) or promotion (晋级) with the
evaluated criteria attached, expert review (专家评审: reviewers assigned, scores on the rubric, a decision by the
rule), the yearly re-check (年度复核) decided by the bureau, complaints and disputes (诚信评价's inputs) and typical
persons (典型人物).

Each rule is ``apply(record, payload, occurred_at) → (record, changes)`` over the brand's record, like
``laowu.domain.brands``: the ledger writes the changes to the brand's history, so every score, decision and status
change is in ``GET /v1/brands/{id}/history``. A status or level a decision changes goes through
``brands.change_status`` / ``brands.update``, the rules of every other status change.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import Any

from laowu.domain import brand_criteria as criteria
from laowu.domain import brands
from laowu.domain.brands import BrandRecord
from laowu.domain.outcome import Changes, Rejected

OPEN = frozenset({"submitted", "in_review"})
TITLES = {"founder": "创立人", "inheritor": "传承人", "leader": "领军人", "ambassador": "形象代言人"}
ENTRY_FROM = frozenset({"candidate"})
PROMOTION_FROM = frozenset({"listed", "demonstration"})


def _known(rec: BrandRecord | None) -> BrandRecord:
    if rec is None:
        raise Rejected("unknown brand")
    if rec.status == "revoked":
        raise Rejected("brand is revoked and can no longer be changed")
    return rec


def _doc(rec: BrandRecord) -> dict[str, Any]:
    """A copy of the management document: a rule that refuses leaves the record as it was."""
    doc = copy.deepcopy(rec.management or {})
    for part in ("applications", "rechecks", "complaints", "persons"):
        doc.setdefault(part, {})
    return doc


def _application(doc: dict[str, Any], application_id: str) -> dict[str, Any]:
    app = doc["applications"].get(application_id)
    if app is None:
        raise Rejected(f"unknown application {application_id}")
    if app["status"] not in OPEN:
        raise Rejected(f"application {application_id} is already decided ({app['status']})")
    return dict(app)


# ---- applications ------------------------------------------------------------------------------------------------
def submit(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    """入库/晋级申请. Entry takes a candidate (培育) brand into the library at ``target_level``; a promotion moves a
    listed brand up a level. One application open at a time: a second is refused with the first one named."""
    rec = _known(rec)
    doc = _doc(rec)
    aid, kind, target = p["application_id"], p["kind"], p["target_level"]
    if aid in doc["applications"]:
        raise Rejected(f"application {aid} already exists")
    open_one = next((a for a in doc["applications"].values() if a["status"] in OPEN), None)
    if open_one is not None:
        raise Rejected(f"application {open_one['application_id']} of this brand is still open")
    if kind == "entry" and rec.status not in ENTRY_FROM:
        raise Rejected(f"an entry application needs a candidate brand; this one is {rec.status}")
    if kind == "promotion":
        if rec.status not in PROMOTION_FROM:
            raise Rejected(f"a promotion needs a listed brand; this one is {rec.status}")
        if not criteria.is_promotion(rec.level, target):
            raise Rejected(f"a promotion must raise the level above {rec.level}, not to {target}")
    doc["applications"][aid] = {
        "application_id": aid, "kind": kind, "target_level": target, "from_level": rec.level,
        "from_status": rec.status, "evaluation": p["evaluation"], "note": p.get("note"),
        "submitted_at": at.isoformat(), "status": "submitted", "reviewers": [], "scores": {}, "decision": None,
    }
    rec.management = doc
    return rec, {"application": [None, aid], "application_kind": [None, kind], "target_level": [None, target],
                 "criteria_met": [None, p["evaluation"]["met"]]}


def assign_reviewers(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    """评审专家 assigned to an open application (added to those already assigned)."""
    rec = _known(rec)
    doc = _doc(rec)
    app = _application(doc, p["application_id"])
    before = list(app["reviewers"])
    app["reviewers"] = list(dict.fromkeys([*before, *p["reviewers"]]))
    app["status"] = "in_review"
    doc["applications"][app["application_id"]] = app
    rec.management = doc
    return rec, {"application": [None, app["application_id"]], "reviewers": [before, app["reviewers"]]}


def score(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    """A reviewer's scores on the rubric: only an assigned reviewer, once per application."""
    rec = _known(rec)
    doc = _doc(rec)
    app = _application(doc, p["application_id"])
    who = p["reviewer"]
    if who not in app["reviewers"]:
        raise Rejected(f"{who} is not a reviewer of application {app['application_id']}")
    if who in app["scores"]:
        raise Rejected(f"{who} has already scored application {app['application_id']}")
    problem = criteria.score_problem(p["scores"])
    if problem:
        raise Rejected(problem)
    total = sum(int(s["score"]) for s in p["scores"])
    app["scores"] = {**app["scores"], who: {"scores": {s["item"]: int(s["score"]) for s in p["scores"]}, "total": total,
                                            "comment": p.get("comment"), "at": at.isoformat()}}
    doc["applications"][app["application_id"]] = app
    rec.management = doc
    return rec, {"application": [None, app["application_id"]], "reviewer": [None, who], "total": [None, total]}


def decide(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    """The decision rule (as data) decides from the scores: too few reviews is refused; an approved entry lists the
    brand at the target level, an approved promotion raises its level — both through the brands' own rules."""
    rec = _known(rec)
    doc = _doc(rec)
    app = _application(doc, p["application_id"])
    totals = [s["total"] for s in app["scores"].values()]
    outcome, mean, why = criteria.review_outcome(totals)
    if outcome is None:
        raise Rejected(f"the review is not complete: {why}")
    changes: Changes = {"application": [None, app["application_id"]], "decision": [None, outcome],
                        "mean_score": [None, str(mean)]}
    reason = f"{'入库' if app['kind'] == 'entry' else '晋级'}评审{'通过' if outcome == 'approved' else '未通过'}" \
             f"（申请 {app['application_id']}：{why}）" + (f"；{p['reason']}" if p.get("reason") else "")
    if outcome == "approved":
        if app["kind"] == "entry":
            rec, status_changes = brands.change_status(rec, {"status": "listed", "reason": reason}, at)
            changes |= status_changes
        else:
            changes["reason"] = [None, reason]
        if app["target_level"] != rec.level:
            changes["level"] = [rec.level, app["target_level"]]
            rec.level = app["target_level"]
            rec.field_times["level"] = at.isoformat()
    else:
        changes["reason"] = [None, reason]
    app["status"] = outcome
    app["decision"] = {"outcome": outcome, "mean_score": str(mean), "reviews": len(totals), "why": why,
                       "reason": p.get("reason"), "at": at.isoformat()}
    doc["applications"][app["application_id"]] = app
    rec.management = doc
    return rec, changes


# ---- the yearly re-check (年度复核) --------------------------------------------------------------------------------
def recheck(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    """The bureau's decision on the year's re-check, with the proposal and figures it was made on. Suspend and
    revoke go through ``brands.change_status``; promote raises the level one step; warn and keep change nothing but
    the record. One decision per brand and year."""
    rec = _known(rec)
    doc = _doc(rec)
    year, decision = str(p["year"]), p["decision"]
    if year in doc["rechecks"]:
        raise Rejected(f"the {year} re-check of this brand is already decided ({doc['rechecks'][year]['decision']})")
    label = criteria.PROPOSAL_LABELS[decision]
    reason = f"{year} 年度复核：{label}（平台建议{criteria.PROPOSAL_LABELS[p['proposal']]}）；{p['reason']}"
    changes: Changes = {"recheck_year": [None, int(year)], "proposal": [None, p["proposal"]],
                        "decision": [None, decision]}
    if decision in ("suspend", "revoke"):
        target = "suspended" if decision == "suspend" else "revoked"
        rec, status_changes = brands.change_status(rec, {"status": target, "reason": reason}, at)
        changes |= status_changes
    else:
        changes["reason"] = [None, reason]
        if decision == "promote":
            up = criteria.next_level(rec.level)
            if up is None:
                raise Rejected(f"a {rec.level} brand has no level above it")
            changes["level"] = [rec.level, up]
            rec.level = up
            rec.field_times["level"] = at.isoformat()
    doc["rechecks"][year] = {"year": int(year), "proposal": p["proposal"], "reasons": p.get("reasons", []),
                             "evaluation": p["evaluation"], "decision": decision, "reason": p["reason"],
                             "at": at.isoformat()}
    rec.management = doc
    return rec, changes


# ---- complaints and disputes (诚信评价's inputs), typical persons (典型人物) ------------------------------------
def record_complaint(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    """A complaint (投诉) or dispute (劳动争议) about the brand; a substantiated one counts against its integrity."""
    if rec is None:
        raise Rejected("unknown brand")
    doc = _doc(rec)
    cid = p["complaint_id"]
    if cid in doc["complaints"]:
        raise Rejected(f"complaint {cid} already recorded")
    doc["complaints"][cid] = {"complaint_id": cid, "kind": p["kind"], "summary": p["summary"],
                              "substantiated": bool(p["substantiated"]), "at": at.isoformat()}
    rec.management = doc
    return rec, {"complaint": [None, cid], "complaint_kind": [None, p["kind"]],
                 "substantiated": [None, bool(p["substantiated"])]}


def name_person(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    """典型人物: a registered worker (by id: their record stays the one place their data is), or a named person whose
    phone travels and rests encrypted, masked in every view, as a worker's."""
    rec = _known(rec)
    doc = _doc(rec)
    pid = p["person_id"]
    if pid in doc["persons"]:
        raise Rejected(f"typical person {pid} already named")
    if (p.get("worker_id") is None) == (p.get("name") is None):
        raise Rejected("a typical person is a registered worker (worker_id) or a named person (name), not both")
    doc["persons"][pid] = {"person_id": pid, "title": p["title"], "worker_id": p.get("worker_id"),
                           "name": p.get("name"), "phone_enc": p.get("phone_enc"),
                           "phone_masked": p.get("phone_masked"), "story": p.get("story"), "at": at.isoformat()}
    rec.management = doc
    return rec, {"person": [None, pid], "title": [None, p["title"]]}


_CHINESE: tuple[tuple[str, str], ...] = (
    (r"the review is not complete: (\d+) of the (\d+) reviews", r"评审未完成：已有 \1 份评分，决定规则需要 \2 份"),
    (r"(\S+) is not a reviewer of application", r"\1 不是该申请的评审专家"),
    (r"(\S+) has already scored", r"\1 已经评过分"),
    (r"application (\S+) of this brand is still open", r"该品牌已有未办结的申请 \1"),
    (r"the (\d+) re-check of this brand is already decided", r"该品牌 \1 年度复核已作出决定"),
    (r"is already decided", "该申请已作出决定"),
    (r"needs a candidate brand", "入库申请只适用于培育状态的品牌"),
    (r"needs a listed brand", "晋级申请只适用于已入库的品牌"),
    (r"must raise the level", "晋级的目标级别必须高于现有级别"),
    (r"score for \S+ must be between 0 and (\d+)", r"评分超出范围（0–\1）"),
    (r"rubric item", "请为每一项评分，每项一次"),
    (r"unknown application (\S+)", r"申请 \1 不存在"),
    (r"already (exists|recorded|named)", "编号已被使用"),
    (r"brand is revoked", "品牌已撤销，不能再变更"),
    (r"brand is already (\w+)", r"品牌已是该状态（\1）"),
    (r"illegal brand status transition", "当前状态下不能作此变更"),
    (r"has no level above it", "已是最高级别"),
)


def chinese(reason: str) -> str | None:
    """The ledger's refusal in the words a bureau clerk or an expert reads (None: no translation known)."""
    for pattern, text in _CHINESE:
        m = re.search(pattern, reason)
        if m:
            return m.expand(text)
    return None
