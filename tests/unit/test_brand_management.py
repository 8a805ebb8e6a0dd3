"""Brand dynamic management (issue 21) as pure rules: criteria, review, re-check, integrity, and the ledger's
verdicts on the in-memory repository (no services)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from laowu.domain import brand_criteria as criteria
from laowu.domain import brand_review as review
from laowu.domain.brand_criteria import Figures
from laowu.domain.brands import BrandRecord
from laowu.domain.outcome import Rejected
from laowu.ledger.memory import InMemoryLedger
from laowu.ledger.repository import apply
from laowu.ledger.rules import NAME_OF
from schemas import events as ev
from schemas.envelope import Envelope

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
GOOD = Figures(members=5, trained=2, certified=2, placed=4, retention_3m_due=4, retention_3m_kept=3,
               retention_6m_due=2, retention_6m_kept=1, wage_sum=Decimal("16000"), wage_count=4,
               wage_arrears_alerts=0, injury_alerts=0, satisfaction_sum=16, satisfaction_count=4)
RULES: dict[str, Any] = {
    "version": "t1",
    "criteria": {
        "default": {lvl: [{"figure": "members", "min": 1000}] for lvl in criteria.LEVELS},
        "460000": {"county": [{"figure": "members", "min": 3}, {"figure": "retention_3m", "min": 0.5},
                              {"figure": "average_wage", "min": "3000.00"}, {"figure": "wage_arrears_alerts", "max": 1}],
                   "municipal": [{"figure": "members", "min": 50}]},
        "460100": {"county": [{"figure": "members", "min": 6}]},
    },
    "rubric": [{"item": "a", "label": "甲", "max": 50}, {"item": "b", "label": "乙", "max": 50}],
    "decision": {"min_reviews": 3, "pass_mean": 70},
    "recheck": {"floors": [{"figure": "retention_3m", "below": 0.4}], "revoke_failed": 3, "suspend_failed": 2,
                "warn_failed": 1, "suspend_integrity": ["D"]},
    "integrity": {"weights": {"complaints": 10, "disputes": 15, "wage_arrears_alerts": 8, "injury_alerts": 5},
                  "grades": [{"grade": "A", "min": 90}, {"grade": "B", "min": 75}, {"grade": "C", "min": 60},
                             {"grade": "D", "min": 0}]},
}


# ---- criteria -------------------------------------------------------------------------------------------------------
def test_figures_derive_rates_and_averages_and_know_when_there_is_nothing() -> None:
    assert GOOD.value("retention_3m") == Decimal("0.75") and GOOD.value("retention_6m") == Decimal("0.5")
    assert GOOD.value("average_wage") == Decimal("4000.00") and GOOD.value("satisfaction") == Decimal("4.00")
    assert Figures().value("retention_3m") is None and Figures().value("average_wage") is None
    with pytest.raises(KeyError):
        GOOD.value("nonsense")


def test_criteria_are_looked_up_along_the_region_rollup() -> None:
    assert criteria.criteria_for("county", "460105", RULES)[0] == "460100"  # a Haikou district: the city's rule
    assert criteria.criteria_for("county", "469005", RULES)[0] == "460000"  # Wenchang: the province's
    assert criteria.criteria_for("county", "469005", RULES)[1] == [{"figure": "members", "min": 3},
                                                                   {"figure": "retention_3m", "min": 0.5},
                                                                   {"figure": "average_wage", "min": "3000.00"},
                                                                   {"figure": "wage_arrears_alerts", "max": 1}]
    assert criteria.criteria_for("county", "460100", RULES)[0] == "460100"  # the city's own rule wins
    assert criteria.criteria_for("municipal", "460106", RULES)[0] == "460000"  # the city names no municipal rule
    assert criteria.criteria_for("provincial", "460106", RULES)[0] == "default"  # Hainan names no provincial rule
    assert criteria.criteria_for("county", "500229", RULES)[0] == "default"


def test_evaluation_judges_lower_and_upper_bounds_and_unknowns() -> None:
    ok = criteria.evaluate(GOOD, "county", "469005", RULES)
    assert ok.met and ok.failed == [] and ok.rules_version == "t1"
    assert [c["value"] for c in ok.criteria] == [5, "0.7500", "4000.00", 0]
    bad = criteria.evaluate(Figures(members=3, wage_arrears_alerts=2), "county", "469005", RULES)
    assert bad.failed == ["retention_3m", "average_wage", "wage_arrears_alerts"]  # 3 ≥ 3 met; unknowns not met
    assert bad.public()["figures"]["members"] == 3 and bad.public()["met"] is False
    ev.CriteriaEvaluation.model_validate(bad.public())  # what an application carries


def test_the_shipped_rules_are_complete() -> None:
    rules = criteria.default_rules()
    for code, levels in rules["criteria"].items():
        for level in criteria.LEVELS:
            assert level in levels, (code, level)
            assert {c["figure"] for c in levels[level]} <= set(criteria.FIGURE_LABELS)
    assert sum(r["max"] for r in rules["rubric"]) == 100


# ---- review -------------------------------------------------------------------------------------------------------
def test_scores_must_fit_the_rubric() -> None:
    assert criteria.score_problem([{"item": "a", "score": 40}, {"item": "b", "score": 50}], RULES) is None
    assert "missing" in str(criteria.score_problem([{"item": "a", "score": 40}], RULES))
    assert "between 0 and 50" in str(criteria.score_problem([{"item": "a", "score": 51}, {"item": "b", "score": 1}],
                                                            RULES))
    assert "once" in str(criteria.score_problem([{"item": "a", "score": 1}, {"item": "a", "score": 1}], RULES))


def test_the_decision_rule_needs_enough_reviews_and_a_mean() -> None:
    assert criteria.review_outcome([90, 90], RULES)[0] is None
    assert criteria.review_outcome([70, 71, 69], RULES)[:2] == ("approved", Decimal("70.00"))
    assert criteria.review_outcome([70, 70, 69], RULES)[:2] == ("refused", Decimal("69.67"))


def test_integrity_grades_from_its_inputs() -> None:
    clean = criteria.integrity({}, RULES)
    assert clean["grade"] == "A" and clean["score"] == 100
    rated = criteria.integrity({"complaints": 1, "disputes": 1, "wage_arrears_alerts": 1}, RULES)
    assert rated["score"] == 100 - 10 - 15 - 8 and rated["grade"] == "C"
    assert rated["deductions"] == {"complaints": 10, "disputes": 15, "wage_arrears_alerts": 8, "injury_alerts": 0}
    assert criteria.integrity({"disputes": 10}, RULES)["grade"] == "D"
    doc = {"complaints": {"c1": {"kind": "complaint", "substantiated": True},
                          "c2": {"kind": "complaint", "substantiated": False},
                          "c3": {"kind": "dispute", "substantiated": True}}}
    assert criteria.integrity_inputs(Figures(injury_alerts=2), doc) == {
        "complaints": 1, "disputes": 1, "wage_arrears_alerts": 0, "injury_alerts": 2}


@pytest.mark.parametrize(("figures", "grade", "expected"), [
    (GOOD, None, "keep"),
    (Figures(members=3, retention_3m_due=4, retention_3m_kept=1, wage_sum=Decimal(12000), wage_count=4), None,
     "suspend"),  # retention fell below the floor, however the rest looks
    (Figures(members=3, retention_3m_due=4, retention_3m_kept=2, wage_sum=Decimal(8000), wage_count=4), None, "warn"),
    (Figures(members=3, retention_3m_due=4, retention_3m_kept=2, wage_arrears_alerts=2), None,
     "suspend"),  # two criteria failed: no wages known, too many wage-arrears alerts
    (Figures(members=1, wage_arrears_alerts=5), None, "revoke"),
    (GOOD, "D", "suspend"),
])
def test_the_recheck_proposes_from_the_figures(figures: Figures, grade: str | None, expected: str) -> None:
    assert criteria.propose(figures, "county", "469005", grade, RULES)["proposal"] == expected


def test_the_recheck_proposes_a_promotion_when_the_next_level_is_met() -> None:
    big = Figures(**{**vars(GOOD), "members": 60})
    got = criteria.propose(big, "county", "469005", None, RULES)
    assert got["proposal"] == "promote" and got["reasons"]


# ---- the ledger rules over a brand record ---------------------------------------------------------------------------
def _brand(status: str = "candidate", level: str = "county") -> BrandRecord:
    return BrandRecord("b-1", "椰乡工匠", "460106", "skilled", level, status=status, status_since=T0)


def _evaluation() -> dict[str, Any]:
    return criteria.evaluate(GOOD, "county", "460106").public()


def _scores(*points: int) -> list[dict[str, Any]]:
    return [{"item": item, "score": n} for item, n in zip(("scale", "skills", "quality", "reputation"), points,
                                                            strict=True)]


def test_an_entry_review_by_three_experts_lists_the_brand() -> None:
    rec, changes = review.submit(_brand(), {"application_id": "a1", "kind": "entry", "target_level": "municipal",
                                            "evaluation": _evaluation()}, T0)
    assert changes["application"] == [None, "a1"] and rec.management["applications"]["a1"]["status"] == "submitted"
    with pytest.raises(Rejected, match="a1 of this brand is still open"):
        review.submit(rec, {"application_id": "a2", "kind": "entry", "target_level": "county",
                            "evaluation": _evaluation()}, T0)
    rec, _ = review.assign_reviewers(rec, {"application_id": "a1", "reviewers": ["li", "wang", "zhao"]}, T0)
    with pytest.raises(Rejected, match="zhou is not a reviewer"):
        review.score(rec, {"application_id": "a1", "reviewer": "zhou", "scores": _scores(20, 20, 20, 20)}, T0)
    for who in ("li", "wang"):
        rec, _ = review.score(rec, {"application_id": "a1", "reviewer": who, "scores": _scores(20, 20, 15, 20)}, T0)
    with pytest.raises(Rejected, match="already scored"):
        review.score(rec, {"application_id": "a1", "reviewer": "li", "scores": _scores(20, 20, 20, 20)}, T0)
    with pytest.raises(Rejected, match="2 of the 3 reviews"):
        review.decide(rec, {"application_id": "a1"}, T0)
    rec, _ = review.score(rec, {"application_id": "a1", "reviewer": "zhao", "scores": _scores(20, 20, 20, 20)}, T0)
    rec, changes = review.decide(rec, {"application_id": "a1", "reason": "材料齐全"}, T0 + timedelta(days=1))
    assert rec.status == "listed" and rec.level == "municipal" and rec.status_since == T0 + timedelta(days=1)
    assert changes["status"] == ["candidate", "listed"] and changes["level"] == ["county", "municipal"]
    assert changes["decision"] == [None, "approved"] and changes["mean_score"] == [None, "76.67"]
    assert changes["reason"][1] == "入库评审通过（申请 a1：平均分 76.67 ≥ 70，共 3 份评分）；材料齐全"
    with pytest.raises(Rejected, match="already decided"):
        review.decide(rec, {"application_id": "a1"}, T0)


def test_a_low_mean_refuses_and_leaves_the_brand_as_it_was() -> None:
    rec, _ = review.submit(_brand(), {"application_id": "a1", "kind": "entry", "target_level": "county",
                                      "evaluation": _evaluation()}, T0)
    rec, _ = review.assign_reviewers(rec, {"application_id": "a1", "reviewers": ["li", "wang", "zhao"]}, T0)
    for who in ("li", "wang", "zhao"):
        rec, _ = review.score(rec, {"application_id": "a1", "reviewer": who, "scores": _scores(15, 15, 15, 15)}, T0)
    rec, changes = review.decide(rec, {"application_id": "a1"}, T0)
    assert changes["decision"] == [None, "refused"] and "status" not in changes and rec.status == "candidate"
    assert rec.management["applications"]["a1"]["decision"]["mean_score"] == "60.00"


def test_applications_fit_the_brand_they_are_for() -> None:
    with pytest.raises(Rejected, match="needs a candidate"):
        review.submit(_brand("listed"), {"application_id": "a", "kind": "entry", "target_level": "county",
                                         "evaluation": _evaluation()}, T0)
    with pytest.raises(Rejected, match="must raise the level"):
        review.submit(_brand("listed", "municipal"), {"application_id": "a", "kind": "promotion",
                                                      "target_level": "county", "evaluation": _evaluation()}, T0)
    with pytest.raises(Rejected, match="unknown brand"):
        review.submit(None, {"application_id": "a", "kind": "entry", "target_level": "county",
                             "evaluation": _evaluation()}, T0)


def test_a_refused_rule_leaves_the_record_untouched() -> None:
    rec, _ = review.submit(_brand(), {"application_id": "a1", "kind": "entry", "target_level": "county",
                                      "evaluation": _evaluation()}, T0)
    rec, _ = review.assign_reviewers(rec, {"application_id": "a1", "reviewers": ["li"]}, T0)
    before = repr(rec.management)
    with pytest.raises(Rejected):
        review.score(rec, {"application_id": "a1", "reviewer": "li", "scores": _scores(99, 0, 0, 0)}, T0)
    assert repr(rec.management) == before


def test_the_recheck_decision_suspends_through_the_brand_rules_once_a_year() -> None:
    p = {"year": 2026, "proposal": "suspend", "reasons": ["稳岗率低"], "evaluation": _evaluation(),
         "decision": "suspend", "reason": "整改一年"}
    rec, changes = review.recheck(_brand("listed"), p, T0)
    assert rec.status == "suspended" and changes["status"] == ["listed", "suspended"]
    assert "2026 年度复核：暂停（平台建议暂停）" in changes["reason"][1]
    assert rec.management["rechecks"]["2026"]["decision"] == "suspend"
    with pytest.raises(Rejected, match="already decided"):
        review.recheck(rec, p | {"decision": "keep"}, T0)
    kept, changes = review.recheck(_brand("listed"), p | {"decision": "promote"}, T0)
    assert kept.level == "municipal" and kept.status == "listed" and changes["level"] == ["county", "municipal"]
    with pytest.raises(Rejected, match="already suspended"):
        review.recheck(_brand("suspended"), p, T0)
    with pytest.raises(Rejected, match="revoked"):
        review.recheck(_brand("revoked"), p | {"decision": "keep"}, T0)


def test_typical_persons_are_a_worker_or_a_named_person() -> None:
    rec, changes = review.name_person(_brand(), {"person_id": "p1", "title": "founder", "name": "符阿姨",
                                                 "phone_enc": "enc1:k:x", "phone_masked": "138****8000"}, T0)
    assert changes == {"person": [None, "p1"], "title": [None, "founder"]}  # the history holds no name or phone
    with pytest.raises(Rejected, match="not both"):
        review.name_person(rec, {"person_id": "p2", "title": "leader", "name": "x", "worker_id": "w1"}, T0)
    with pytest.raises(Rejected, match="already named"):
        review.name_person(rec, {"person_id": "p1", "title": "leader", "worker_id": "w1"}, T0)


# ---- the ledger: every step a brand event, in the brand's history ---------------------------------------------------
def _wrap(body: BaseModel, at: datetime = T0) -> Envelope:
    return Envelope.wrap(body, type=NAME_OF[type(body)], key="b-1", source="hrss-460000", occurred_at=at)  # type: ignore[arg-type]


async def test_the_ledger_decides_a_review_and_writes_it_to_the_brand_history() -> None:
    repo = InMemoryLedger()
    evaluation = ev.CriteriaEvaluation.model_validate(_evaluation())
    scores = [ev.ItemScore(item=s["item"], score=s["score"]) for s in _scores(20, 20, 20, 20)]
    await apply(repo, [_wrap(ev.BrandRegistered(brand_id="b-1", name="椰乡工匠", region_code="460106",
                                                category="skilled", level="county"))])
    batch = [
        _wrap(ev.BrandApplicationSubmitted(brand_id="b-1", application_id="a1", kind="entry", target_level="county",
                                           evaluation=evaluation)),
        _wrap(ev.BrandReviewersAssigned(brand_id="b-1", application_id="a1", reviewers=["li", "wang", "zhao"])),
        *[_wrap(ev.BrandReviewScored(brand_id="b-1", application_id="a1", reviewer=who, scores=scores))
          for who in ("li", "wang", "zhao", "zhou")],
        _wrap(ev.BrandApplicationDecided(brand_id="b-1", application_id="a1")),
    ]
    d = await apply(repo, batch)
    assert [r["status"] for r in d.receipts] == ["applied"] * 5 + ["rejected", "applied"]
    assert "zhou is not a reviewer" in d.receipts[5]["reason"]
    assert repo.brand_records["b-1"].status == "listed"
    decided = repo.brand_history[-1]
    assert decided["type"] == "brand.application_decided" and decided["changes"]["status"] == ["candidate", "listed"]
    assert [h["type"] for h in repo.brand_history].count("brand.review_scored") == 3


def test_refusals_read_in_chinese() -> None:
    assert review.chinese("the review is not complete: 2 of the 3 reviews the decision rule needs") == \
        "评审未完成：已有 2 份评分，决定规则需要 3 份"
    assert review.chinese("expert-9 is not a reviewer of application app-1") == "expert-9 不是该申请的评审专家"
    assert review.chinese("the 2026 re-check of this brand is already decided (suspend)") == "该品牌 2026 年度复核已作出决定"
    assert review.chinese("something new") is None
