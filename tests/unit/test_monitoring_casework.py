"""Issue 20's pure rules: monthly records (务工监测), the region table and falling counties; casework on alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from laowu.domain import casework as cw
from laowu.domain import monitoring as mon
from laowu.domain.outcome import Rejected

P = mon.Person("w1", "460105", ("poverty_alleviated",))


def spell(pid: str = "p1", start: date = date(2026, 1, 10), end: date | None = None, dest: str = "440300",
          wage: str = "5000") -> mon.Spell:
    return mon.Spell(pid, "w1", "460105", dest, start, end, None, Decimal(wage))


def test_months_shift_and_bounds() -> None:
    assert mon.shift("2026-01", -1) == "2025-12" and mon.shift("2026-03", -12) == "2025-03"
    assert mon.month_bounds("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert mon.months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_a_placement_makes_months_in_work_with_the_confirmed_wage_and_its_distance() -> None:
    recs = mon.records(P, [spell()], [], "2026-03")
    assert [(r.month, r.in_work, r.distance, r.income, r.income_source, r.months_in_work_ytd) for r in recs] == [
        ("2026-01", True, "cross_province", Decimal("5000"), "confirmed", 1),
        ("2026-02", True, "cross_province", Decimal("5000"), "confirmed", 2),
        ("2026-03", True, "cross_province", Decimal("5000"), "confirmed", 3),
    ]


def test_a_separation_ends_work_after_its_month_and_ytd_restarts_in_january() -> None:
    recs = mon.records(P, [spell(start=date(2025, 12, 1), end=date(2026, 1, 5))], [], "2026-02")
    assert [(r.month, r.in_work, r.months_in_work_ytd) for r in recs] == [
        ("2025-12", True, 1), ("2026-01", True, 1), ("2026-02", False, 1)]
    assert recs[-1].income is None and recs[-1].distance is None


def test_follow_ups_report_income_and_returning_home() -> None:
    fus = [mon.FollowUp("f1", "p1", "w1", date(2026, 2, 20), "on_job", Decimal("5600")),
           mon.FollowUp("f0", "p1", "w1", date(2026, 2, 3), "on_job", Decimal("5200")),
           mon.FollowUp("f2", "p1", "w1", date(2026, 3, 1), "returned_home")]
    recs = mon.records(P, [spell()], fus, "2026-04")
    assert [(r.month, r.in_work, r.income) for r in recs] == [
        ("2026-01", True, Decimal("5000")), ("2026-02", True, Decimal("5600")),
        ("2026-03", False, None), ("2026-04", False, None)]
    # back on the job from a later follow-up
    back = mon.records(P, [spell()], [*fus, mon.FollowUp("f3", "p1", "w1", date(2026, 4, 2), "on_job")], "2026-04")
    assert back[-1].in_work and back[-1].income == Decimal("5000")


def test_order_of_facts_does_not_matter_and_non_priority_people_have_no_records() -> None:
    fus = [mon.FollowUp(f"f{i}", "p1", "w1", date(2026, 1, 10 + i), s) for i, s in
           enumerate(["unemployed", "on_job", "returned_home"])]
    assert mon.records(P, [spell()], fus, "2026-02") == mon.records(P, [spell()], list(reversed(fus)), "2026-02")
    assert mon.records(mon.Person("w1", "460105"), [spell()], [], "2026-02") == []


def test_the_latest_placement_of_a_month_says_where() -> None:
    a = spell("p1", date(2026, 1, 1), date(2026, 2, 10), dest="440300")
    b = spell("p2", date(2026, 2, 15), None, dest="460106", wage="4000")
    feb = mon.records(P, [a, b], [], "2026-02")[1]
    assert (feb.placement_id, feb.distance, feb.income) == ("p2", "cross_county", Decimal("4000"))


def test_table_rolls_up_counts_distance_and_average_income() -> None:
    recs = [mon.MonthRecord("a", "2026-01", "460105", True, "p", "440300", "cross_province", Decimal("5000"), "confirmed", 1),
            mon.MonthRecord("b", "2026-01", "460106", True, "q", "460106", "in_county", Decimal("3001"), "confirmed", 1),
            mon.MonthRecord("c", "2026-01", "460106", False)]
    cells = mon.table(recs)
    prov = cells[("460000", "2026-01")]
    assert (prov.monitored, prov.in_work, prov.average_income) == (3, 2, Decimal("4000.50"))
    assert prov.by_distance == {"cross_province": 1, "cross_city": 0, "cross_county": 0, "in_county": 1}
    assert cells[("460106", "2026-01")].in_work == 1 and ("460105", "2026-01") in cells


def test_falling_county_by_the_rule_in_data() -> None:
    def cell(n: int, month: str) -> mon.Cell:
        return mon.Cell("460105", month, n, n, {}, Decimal(0), 0)

    cells = {("460105", "2026-02"): cell(5, "2026-02"), ("460105", "2026-03"): cell(3, "2026-03")}
    rule = mon.drop_rule("460105")
    assert rule.threshold_pct == Decimal(20) and rule.min_base == 3
    fell = mon.falling(cells, "460105", "2026-03", rule)
    assert fell is not None and fell.as_dict()["vs_previous_pct"] == Decimal("-40.0")
    assert mon.falling(cells, "460105", "2026-03", mon.DropRule(Decimal(40), 3, "t")) is None  # exactly 40: not more
    assert mon.falling(cells, "460105", "2026-02", rule) is None  # from nothing
    assert mon.drop_rule("500101").threshold_pct == Decimal(15)  # Chongqing's own rule


T0 = datetime(2026, 3, 2, tzinfo=UTC)


def case(kind: str = "wage_arrears", region: str = "460105") -> cw.Case:
    return cw.Case("wage_arrears:p1:f1", kind, [region], T0)


def test_case_steps_and_their_refusals() -> None:
    c = case()
    with pytest.raises(Rejected):
        cw.assign(c, {}, T0)
    assert cw.assign(c, {"assignee": "ws-clerk"}, T0)["state"] == ["open", "assigned"]
    cw.acknowledge(c, {}, T0 + timedelta(hours=1))
    with pytest.raises(Rejected, match="already acknowledged"):
        cw.acknowledge(c, {}, T0 + timedelta(hours=2))
    with pytest.raises(Rejected, match="unknown action"):
        cw.work(c, {"action": "pray"}, T0)
    cw.work(c, {"action": "labor_inspection", "note": "已转劳动监察大队"}, T0 + timedelta(days=1))
    assert c.state == "in_progress"
    with pytest.raises(Rejected, match="unknown outcome"):
        cw.close(c, {"outcome": "done"}, T0)
    cw.close(c, {"outcome": "referred"}, T0 + timedelta(days=2))
    with pytest.raises(Rejected, match="closed"):
        cw.work(c, {"note": "x"}, T0 + timedelta(days=3))
    with pytest.raises(Rejected, match="after this reopening"):
        cw.reopen(c, {}, T0 + timedelta(days=1))
    cw.reopen(c, {"reason": "又欠薪"}, T0 + timedelta(days=4))
    assert (c.state, c.outcome, cw.effective_closure(c)) == ("in_progress", None, None)


def test_self_closing_stays_and_can_be_reopened() -> None:
    c = case()
    c.alert_closed_at = T0 + timedelta(days=1)
    assert cw.effective_closure(c) == (T0 + timedelta(days=1), "self_closed")
    assert [h["type"] for h in cw.history_of(c)] == ["raised", "self_closed"]
    cw.reopen(c, {}, T0 + timedelta(days=2))
    assert cw.effective_closure(c) is None


def test_deadlines_escalation_in_event_time() -> None:
    c = case()
    d = cw.deadlines(c)
    assert (d.acknowledge_days, d.close_days) == (3, 15)
    assert cw.deadlines(case(region="500101")).acknowledge_days == 2
    assert cw.deadlines(case(kind="followup_overdue")).acknowledge_days == 7
    assert cw.escalation(c, T0 + timedelta(days=3)) is None
    assert cw.escalation(c, T0 + timedelta(days=3, seconds=1)) == ("460100", T0 + timedelta(days=3))
    late = case()
    late.acknowledged_at = T0 + timedelta(days=4)  # acknowledged after the deadline: it still escalated then
    assert cw.escalation(late, T0 + timedelta(days=5)) == ("460100", T0 + timedelta(days=3))
    on_time = case()
    on_time.acknowledged_at = T0 + timedelta(days=1)
    assert cw.escalation(on_time, T0 + timedelta(days=9)) is None
    assert cw.escalation_target("469005") == "460000" and cw.escalation_target("460100") == "460000"
    assert cw.escalation_target("500101") == "500000" and cw.escalation_target("460000") is None


def test_figures_closure_rate_and_median() -> None:
    in_time, late, still_open, fresh = case(), case(), case(), case()
    cw.close(in_time, {"outcome": "resolved"}, T0 + timedelta(days=1))
    cw.close(late, {"outcome": "resolved"}, T0 + timedelta(days=20))
    fresh.raised_at = T0 + timedelta(days=19)
    f = cw.figures([in_time, late, still_open, fresh], T0 + timedelta(days=21))
    assert (f.open, f.overdue, f.closed, f.due, f.closed_in_time) == (2, 1, 2, 3, 1)
    assert f.closure_rate == Decimal("0.3333") and f.median_hours_to_close == (24 + 480) / 2


# ---- the ledger decides casework events (in-memory repository) ------------------------------------------------------
async def test_the_ledger_decides_casework_against_the_case_and_keeps_its_history() -> None:
    from laowu.ledger.memory import InMemoryLedger
    from laowu.ledger.repository import apply
    from laowu.ledger.rules import NAME_OF
    from schemas import events as ev
    from schemas.common import Actor
    from schemas.envelope import Envelope

    repo = InMemoryLedger()
    aid = "wage_arrears:pl-1:fu-1"
    repo.alerts[aid] = {"alert_id": aid, "kind": "wage_arrears", "worker_id": "w1", "placement_id": "pl-1",
                        "regions": ["460105"], "raised_at": T0, "closed_at": None}
    clerk = Actor(role="workstation", org="ws-460105-01", region="460105", subject="account:clerk")

    def step(body: ev.BaseModel, hours: int) -> Envelope:
        return Envelope.wrap(body, type=NAME_OF[type(body)], key=aid, source="ws-460105-01",  # type: ignore[arg-type]
                             occurred_at=T0 + timedelta(hours=hours), actor=clerk)

    events = [step(ev.AlertAssigned(alert_id=aid, assignee="clerk"), 1), step(ev.AlertAcknowledged(alert_id=aid), 2),
              step(ev.AlertAcknowledged(alert_id=aid), 3),
              step(ev.AlertWorked(alert_id=aid, action="phone_visit", note="已电话联系"), 4),
              step(ev.AlertResolved(alert_id=aid, outcome="resolved"), 5),
              step(ev.AlertWorked(alert_id=aid, note="迟到的记录"), 6),
              step(ev.AlertAssigned(alert_id="wage_arrears:nobody", assignee="clerk"), 7)]
    for e in events:
        repo.accept(e)
    await apply(repo, events)
    assert [repo.status(e)[0] for e in events] == ["applied", "applied", "rejected", "applied", "applied", "rejected",
                                                   "rejected"]
    assert "already acknowledged" in str(repo.status(events[2])[1])
    assert "closed" in str(repo.status(events[5])[1]) and "unknown alert" in str(repo.status(events[6])[1])
    case = repo.case_records[aid]
    assert (case.state, case.outcome, case.assignee, case.closed_at) == ("closed", "resolved", "clerk",
                                                                        T0 + timedelta(hours=5))
    assert [h["type"] for h in repo.case_history] == [NAME_OF[ev.AlertAssigned], NAME_OF[ev.AlertAcknowledged],
                                                      NAME_OF[ev.AlertWorked], NAME_OF[ev.AlertResolved]]
    assert repo.case_history[2]["detail"] == {"action": "phone_visit", "note": "已电话联系"}
    assert repo.case_history[0]["actor"]["subject"] == "account:clerk"


def test_the_stream_keeps_the_last_view_of_each_fact() -> None:
    from schemas.events import LedgerChanged
    from streams.monitoring import facts_of

    def placement(version: int, status: str, end: str | None = None) -> dict[str, object]:
        return {"placement_id": "p1", "worker_id": "w1", "origin_region": "460105", "destination_region": "440300",
                "start_date": "2026-01-05", "end_date": end, "end_reason": "returned_home" if end else None,
                "monthly_wage": "5000.00", "employer_id": "e1", "status": status, "version": version}

    changes = [
        LedgerChanged(entity="worker", entity_id="w1", cause_event_id="c", cause_type="t",
                      after={"worker_id": "w1", "household_region": "460105", "priority_groups": ["disabled"]}),
        LedgerChanged(entity="placement", entity_id="p1", cause_event_id="c", cause_type="t",
                      after=placement(1, "dispatched") | {"start_date": None}),
        LedgerChanged(entity="placement", entity_id="p1", cause_event_id="c", cause_type="t",
                      after=placement(3, "ended", "2026-02-20")),
        LedgerChanged(entity="followup", entity_id="p1", cause_event_id="c", cause_type="t",
                      after=placement(2, "confirmed"),
                      facts={"followup_id": "f1", "date": "2026-02-01", "employment_status": "on_job",
                             "monthly_wage": "5200"}),
    ]
    people, spells, followups = facts_of(changes)
    assert people == [{"worker_id": "w1", "household_region": "460105", "priority_groups": ["disabled"]}]
    assert [(s["version"], s["end_date"]) for s in spells] == [(3, date(2026, 2, 20))]  # the newest version wins
    assert followups == [{"followup_id": "f1", "placement_id": "p1", "worker_id": "w1", "date": date(2026, 2, 1),
                          "employment_status": "on_job", "monthly_wage": "5200"}]


def test_a_case_goes_only_to_an_enabled_staff_account_that_sees_it() -> None:
    from laowu.application.casework import assignee_refusal

    assert assignee_refusal(("workstation", "460105"), ["460105"]) is None
    assert assignee_refusal(("bureau", "460100"), ["460105"]) is None  # the city sees its counties
    assert assignee_refusal(("admin", None), ["460105"]) is None
    assert "no enabled account" in str(assignee_refusal(None, ["460105"]))
    assert "cannot see" in str(assignee_refusal(("workstation", "460106"), ["460105"]))
    assert "cannot see" in str(assignee_refusal(("employer", "460105"), ["460105"]))
