"""Reads of priority-group monitoring (务工监测, issue 20): the region-by-month table, a person's months, the
workstations' work-lists and the rows of the national collection sheet.

The table and the records come from the stream worker's facts (``laowu.store.monitoring.streamed_facts``) through
the pure derivation (``laowu.domain.monitoring``); names and masked numbers from the ledger's ``workers``. Every
answer is masked; the export's full numbers go through the audited reveal (``api.routers.monitoring``).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg

from laowu.domain import monitoring as mon
from laowu.domain.distance import CLASSES, LABELS
from laowu.domain.identity import mask_id_number
from laowu.domain.regions import children, region_level, region_name
from laowu.reports import this_month
from laowu.store import monitoring as store
from laowu.store.scope import region_prefix

PRIORITY = {"poverty_alleviated": "脱贫人口", "rural_low_income": "农村低收入人口", "relocated": "易地扶贫搬迁群众",
            "left_behind_women": "农村留守妇女", "disabled": "残疾人", "veteran": "退役军人"}
END_REASONS = {"contract_ended": "合同期满", "resigned": "主动离职", "dismissed": "被辞退", "returned_home": "返乡",
               "injury": "工伤"}
# 未就业原因 as a person states it with their intention (schemas.common.NotWorkingReason; issue 19)
NOT_WORKING_REASONS = {"caring_for_family": "照料家庭", "illness": "疾病", "disability": "残疾", "in_training": "参加培训",
                       "no_suitable_job": "无合适岗位", "seasonal_farming": "农忙", "waiting_for_work": "待岗",
                       "other": "其他"}
STATUSES = {"on_job": "在岗", "changed_job": "已换工作", "unemployed": "失业", "returned_home": "已返乡"}
CHANNELS = {"phone": "电话", "visit": "走访", "online": "线上"}


def _row(cells: dict[tuple[str, str], mon.Cell], region: str, month: str, rule: mon.DropRule | None) -> dict[str, Any]:
    cell = cells.get((region, month)) or mon.empty_cell(region, month)
    change = mon.change(cells, region, month)
    falling = rule is not None and mon.falling(cells, region, month, rule) is not None
    return cell.as_dict() | {"region_name": region_name(region), "change": change.as_dict(), "falling": falling}


async def table(pool: asyncpg.Pool, region: str | None, month: str, history: int = 6) -> dict[str, Any]:
    """The region's row and its sub-regions' for ``month``, with the distance split, average income, changes against
    the previous month and the same month a year before, and which counties fall beyond their rule."""
    facts = await store.streamed_facts(pool, region)
    cells = mon.table(mon.all_records(*facts, month))
    scope = region or ""
    codes = children(region) if region and region_level(region) != "county" else []
    if not region:
        codes = sorted({r for r, _ in cells if region_level(r) == "province"})

    def rule_of(code: str) -> mon.DropRule | None:
        return mon.drop_rule(code) if region_level(code) == "county" else None

    total = _row(cells, scope, month, rule_of(scope)) if region else None
    rows = [_row(cells, c, month, rule_of(c)) for c in codes if any(k[0] == c for k in cells)]
    series = [_row(cells, scope, mon.shift(month, -i), None) for i in range(history - 1, -1, -1)] if region else []
    return {"region": region, "region_name": region_name(region) if region else "全国", "month": month,
            "distance_classes": [{"key": k, "label": LABELS[k]} for k in CLASSES],
            "total": total, "rows": rows, "series": series,
            "rule": vars(mon.drop_rule(region)) if region and region_level(region) == "county" else
            vars(mon.drop_rule(codes[0])) if codes and region_level(codes[0]) == "county" else None}


async def person_months(pool: asyncpg.Pool, worker_id: str, through: str) -> list[dict[str, Any]]:
    people, spells, followups = await store.streamed_facts(pool)
    person = next((p for p in people if p.worker_id == worker_id), None)
    if person is None:
        return []
    return [vars(r) | {"distance_label": LABELS[r.distance] if r.distance else None}
            for r in mon.records(person, spells, followups, through)]


async def _names(pool: asyncpg.Pool, worker_ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = await pool.fetch("SELECT worker_id, name, sex, id_number_masked, phone_masked, household_region, "
                            "priority_groups, state FROM workers WHERE worker_id = ANY($1::text[])", worker_ids)
    return {r["worker_id"]: dict(r) | {"id_number_masked": mask_id_number(r["id_number_masked"])} for r in rows}


async def _intentions(pool: asyncpg.Pool, worker_ids: list[str]) -> dict[str, dict[str, Any]]:
    """求职意向 as last stated (``workers.intention``, issue 19), of those who stated one."""
    rows = await pool.fetch("SELECT worker_id, intention FROM workers WHERE worker_id = ANY($1::text[]) "
                            "AND intention IS NOT NULL", worker_ids)
    return {r["worker_id"]: dict(json.loads(r["intention"]) if isinstance(r["intention"], str) else r["intention"])
            for r in rows}


async def _last_contacts(pool: asyncpg.Pool, worker_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The latest word the workstation recorded about each person: a follow-up (跟踪回访), or a separation it
    registered (离职登记, ``channel`` ``separation``, the reason as ``employment_status``)."""
    rows = await pool.fetch(
        """SELECT DISTINCT ON (worker_id) worker_id, date, channel, status FROM (
             SELECT worker_id, date, channel, employment_status AS status, 1 AS rank, followup_id AS id FROM followups
              WHERE worker_id = ANY($1::text[])
             UNION ALL
             SELECT worker_id, end_date, 'separation', end_reason, 0, placement_id FROM placements
              WHERE worker_id = ANY($1::text[]) AND end_date IS NOT NULL) c
           ORDER BY worker_id, date DESC, rank DESC, id DESC""", worker_ids)
    return {r["worker_id"]: {"date": r["date"], "channel": r["channel"],
                             "channel_label": {**CHANNELS, "separation": "离职登记"}.get(r["channel"]),
                             "employment_status": r["status"]} for r in rows}


async def returned_home(pool: asyncpg.Pool, region: str | None) -> list[dict[str, Any]]:
    """返乡回流: people whose latest word is that they came home — a separation for ``returned_home`` or a follow-up
    reporting it — and who were not sent out again after it; newest first, with the last contact."""
    like = (region_prefix(region) if region else "") + "%"
    rows = await pool.fetch(
        """WITH back AS (
             SELECT p.worker_id, p.end_date AS day, 'separation' AS source, p.placement_id, p.destination_region
               FROM placements p WHERE p.end_reason = 'returned_home'
             UNION ALL
             SELECT f.worker_id, f.date, 'followup', f.placement_id, p.destination_region
               FROM followups f JOIN placements p USING (placement_id) WHERE f.employment_status = 'returned_home')
           SELECT DISTINCT ON (b.worker_id) b.* FROM back b JOIN workers w USING (worker_id)
            WHERE w.household_region LIKE $1
              AND NOT EXISTS (SELECT 1 FROM placements q WHERE q.worker_id = b.worker_id
                                 AND q.departure_date > b.day AND q.status IN ('dispatched', 'confirmed'))
              AND NOT EXISTS (SELECT 1 FROM followups g WHERE g.worker_id = b.worker_id AND g.date > b.day
                                 AND g.employment_status IN ('on_job', 'changed_job'))
            ORDER BY b.worker_id, b.day DESC""", like)
    ids = [r["worker_id"] for r in rows]
    names, contacts = await _names(pool, ids), await _last_contacts(pool, ids)
    out = [{"worker": names.get(r["worker_id"]), "returned_on": r["day"], "source": r["source"],
            "placement_id": r["placement_id"], "from_region": r["destination_region"],
            "from_region_name": region_name(r["destination_region"]),
            "last_contact": contacts.get(r["worker_id"])} for r in rows]
    return sorted(out, key=lambda x: (x["returned_on"], x["placement_id"]), reverse=True)


async def not_in_work(pool: asyncpg.Pool, region: str | None, month: str) -> list[dict[str, Any]]:
    """Priority-group people not in work in ``month`` (送岗上门), with why — the reason they stated with their job
    intention (未就业原因) when there is one, else as far as the ledger knows it — their intention (求职意向), and the
    last contact."""
    people, spells, followups = await store.streamed_facts(pool, region)
    recs = {r.worker_id: r for r in mon.all_records(people, spells, followups, month) if r.month == month}
    by_worker: dict[str, list[mon.Spell]] = {}
    for s in spells:
        by_worker.setdefault(s.worker_id, []).append(s)
    last_fu: dict[str, mon.FollowUp] = {}
    for f in sorted(followups, key=lambda f: (f.date, f.followup_id)):
        last_fu[f.worker_id] = f
    idle = [p for p in people if not (recs.get(p.worker_id) and recs[p.worker_id].in_work)]
    ids = [p.worker_id for p in idle]
    names, contacts, intentions = await _names(pool, ids), await _last_contacts(pool, ids), await _intentions(pool, ids)
    out = []
    for p in idle:
        mine = sorted(by_worker.get(p.worker_id, []), key=lambda s: s.start_date)
        fu = last_fu.get(p.worker_id)
        intention = intentions.get(p.worker_id)
        stated = (intention or {}).get("not_working_reason")
        if stated:
            reason, source = f"未就业原因：{NOT_WORKING_REASONS.get(stated, stated)}", "intention"
        elif not mine:
            reason, source = "未实现有组织输出就业", "ledger"
        elif fu is not None and fu.employment_status in mon.NOT_WORKING and (mine[-1].end_date is None
                                                                            or fu.date >= mine[-1].end_date):
            reason, source = f"跟踪回访：{STATUSES[fu.employment_status]}", "followup"
        elif mine[-1].end_date is not None:
            reason, source = f"离职：{END_REASONS.get(mine[-1].end_reason or '', mine[-1].end_reason)}", "separation"
        else:
            reason, source = "本月无在岗记录", "ledger"
        out.append({"worker": names.get(p.worker_id), "priority_groups": list(p.priority_groups),
                    "reason": reason, "reason_source": source, "intentions": intention,
                    "last_placement_id": mine[-1].placement_id if mine else None,
                    "last_contact": contacts.get(p.worker_id)})
    return sorted(out, key=lambda x: (x["worker"] or {}).get("worker_id", ""))


SHEET_HEADERS = [("序号", 6), ("姓名", 10), ("身份证号", 22), ("性别", 6), ("户籍地", 26), ("人员类别", 16),
                 ("监测月份", 10), ("是否务工", 8), ("务工地点", 26), ("务工地域", 10), ("务工起止时间", 24),
                 ("务工月收入（元）", 14), ("收入来源", 12), ("就业形式", 14), ("就业单位", 18), ("今年务工月数", 12),
                 ("联系电话", 15)]


async def sheet(pool: asyncpg.Pool, region: str | None, month: str) -> list[dict[str, Any]]:
    """One row per priority-group person of ``region`` in ``month``: the national monitoring sheet's columns, masked
    (the revealed export fills ``id_number`` and ``phone`` in from the audited reveal)."""
    people, spells, followups = await store.streamed_facts(pool, region)
    recs = mon.all_records(people, spells, followups, month)
    this = {r.worker_id: r for r in recs if r.month == month}
    spell_of = {s.placement_id: s for s in spells}
    groups = {p.worker_id: p.priority_groups for p in people}
    ids = sorted(groups)
    names = await _names(pool, ids)
    out = []
    for wid in ids:
        w, r = names.get(wid), this.get(wid)
        if w is None:
            continue
        s = spell_of.get(r.placement_id) if r and r.placement_id else None
        period = f"{s.start_date.isoformat()} 至 {s.end_date.isoformat() if s.end_date else '今'}" if s else ""
        out.append({"worker_id": wid, "name": w["name"], "id_number": w["id_number_masked"], "sex": w["sex"],
                    "household": region_name(w["household_region"]) or w["household_region"],
                    "groups": "、".join(PRIORITY.get(g, g) for g in groups[wid]), "month": month,
                    "in_work": "是" if r and r.in_work else "否",
                    "where": (region_name(r.destination_region) or r.destination_region) if r and r.destination_region else "",
                    "distance": LABELS[r.distance] if r and r.distance else "", "period": period,
                    "income": r.income if r and r.income is not None else None,
                    "income_source": {"followup": "跟踪回访", "confirmed": "入职确认"}.get(r.income_source or "", "")
                    if r else "",
                    "form": "有组织劳务输出" if s else "", "employer": s.employer_id if s and s.employer_id else "",
                    "months": r.months_in_work_ytd if r else 0, "phone": w["phone_masked"] or ""})
    return out


def sheet_values(row: dict[str, Any], index: int) -> list[Any]:
    income = row["income"]
    return [index, row["name"], row["id_number"], {"M": "男", "F": "女"}.get(row["sex"], row["sex"]), row["household"],
            row["groups"], row["month"], row["in_work"], row["where"], row["distance"], row["period"],
            float(income) if isinstance(income, Decimal) else income, row["income_source"], row["form"],
            row["employer"], row["months"], row["phone"]]


def month_or_current(month: str | None) -> str:
    return month or this_month()


def valid_month(month: str) -> bool:
    try:
        date(int(month[:4]), int(month[5:7]), 1)
    except ValueError:
        return False
    return len(month) == 7 and month[4] == "-"
