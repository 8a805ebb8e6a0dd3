"""Pure domain rules: ledger merging, brand lifecycle, worker lifecycle, alert deadlines, subsidy rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from laowu.domain import alerts, brands, lifecycle, subsidies, workers
from laowu.domain.outcome import Rejected

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = "w" + "1" * 24


def reg(**over: Any) -> dict[str, Any]:
    return {"worker_id": W, "id_number_enc": "enc1:k:x", "id_number_masked": "4601**********1220", "name": "王小梅",
            "sex": "F", "birth_date": "1990-03-07", "household_region": "460105", "workstation_id": "ws-1",
            "brand_ids": ["a"], "priority_groups": []} | over


# ---- the real-name ledger ---------------------------------------------------------------------------
def test_second_registration_merges_unions_and_newest_wins() -> None:
    rec, _ = workers.register(None, reg(), T0)
    rec, changes = workers.register(rec, reg(workstation_id="ws-2", brand_ids=["b"], priority_groups=["disabled"],
                                             occupation_code="4-03-02-01"), T0 + timedelta(days=1))
    assert rec.brand_ids == ["a", "b"] and rec.workstation_ids == ["ws-1", "ws-2"]
    assert rec.priority_groups == ["disabled"] and changes["occupation_code"] == [None, "4-03-02-01"]
    # An older registration arriving late unions its sets but does not overwrite newer fields.
    rec, _ = workers.register(rec, reg(occupation_code="6-01-01-01", brand_ids=["c"]), T0 - timedelta(days=9))
    assert rec.occupation_code == "4-03-02-01" and rec.brand_ids == ["a", "b", "c"]
    assert rec.registered_at == T0 - timedelta(days=9) and rec.discrepancies == []


def test_a_registration_elsewhere_never_rewrites_name_or_household_it_is_a_discrepancy() -> None:
    rec, _ = workers.register(None, reg(), T0)
    rec, changes = workers.register(rec, reg(name="王晓梅", household_region="440305", workstation_id="ws-440305-01"),
                                    T0 + timedelta(days=1))
    assert (rec.name, rec.household_region) == ("王小梅", "460105")  # newest-wins no longer applies to identity
    assert [(d["field"], d["recorded"], d["declared"], d["workstation_id"]) for d in rec.discrepancies] == [
        ("name", "王小梅", "王晓梅", "ws-440305-01"), ("household_region", "460105", "440305", "ws-440305-01")]
    assert changes["discrepancies"][1] == rec.discrepancies
    rec, changes = workers.register(rec, reg(name="王晓梅", household_region="440305", workstation_id="ws-440305-01"),
                                    T0 + timedelta(days=1))
    assert len(rec.discrepancies) == 2 and "discrepancies" not in changes  # the same claim again adds nothing


def test_update_is_field_by_field_by_event_time() -> None:
    rec, _ = workers.register(None, reg(), T0)
    workers.update(rec, {"worker_id": W, "name": "新"}, T0 + timedelta(days=2))
    workers.update(rec, {"worker_id": W, "name": "旧", "occupation_code": "4-03-02-01"}, T0 + timedelta(days=1))
    assert (rec.name, rec.occupation_code) == ("新", "4-03-02-01")
    with pytest.raises(Rejected, match="unknown worker"):
        workers.update(None, {"worker_id": W, "name": "x"}, T0)
    with pytest.raises(Rejected, match="household move"):  # what older releases could still put on the topic
        workers.update(rec, {"worker_id": W, "household_region": "460108"}, T0 + timedelta(days=3))
    assert rec.household_region == "460105"


def test_household_moves_only_from_the_current_region() -> None:
    rec, _ = workers.register(None, reg(), T0)
    move = {"worker_id": W, "from_region": "460105", "household_region": "460106", "reason": "婚嫁迁入"}
    rec, changes = workers.move_household(rec, move, T0 + timedelta(days=1))
    assert rec.household_region == "460106" and changes == {"household_region": ["460105", "460106"],
                                                            "reason": [None, "婚嫁迁入"]}
    with pytest.raises(Rejected, match="moved meanwhile"):  # sent by the old region's jurisdiction, too late
        workers.move_household(rec, move | {"household_region": "460107"}, T0 + timedelta(days=2))
    with pytest.raises(Rejected, match="already"):
        workers.move_household(rec, move | {"from_region": "460106"}, T0 + timedelta(days=2))


def test_history_changes_never_hold_ciphertext() -> None:
    rec, _ = workers.register(None, reg(phone_enc="enc1:k:secret", phone_masked="138****8000"), T0)
    _, changes = workers.update(rec, {"worker_id": W, "phone_enc": "enc1:k:other", "phone_masked": "139****0000"},
                                T0 + timedelta(days=1))
    assert "phone_enc" not in changes and changes["phone_masked"] == ["138****8000", "139****0000"]


# ---- brands -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("start", "target", "ok"), [
    ("candidate", "listed", True), ("listed", "demonstration", True), ("candidate", "demonstration", False),
    ("demonstration", "suspended", True), ("suspended", "listed", True), ("suspended", "revoked", True),
    ("revoked", "listed", False), ("listed", "listed", False),
])
def test_brand_status_transitions(start: str, target: str, ok: bool) -> None:
    if ok:
        brands.check_transition(start, target)
    else:
        with pytest.raises(Rejected):
            brands.check_transition(start, target)


def test_closed_brand_is_judged_in_event_time() -> None:
    b, _ = brands.register(None, {"brand_id": "y", "name": "椰嫂", "region_code": "460000", "category": "service",
                                  "level": "provincial"}, T0)
    brands.change_status(b, {"status": "revoked", "reason": "失信"}, T0 + timedelta(days=10))
    assert brands.closed_at(b, T0 + timedelta(days=5)) is None  # happened before the revocation
    assert brands.closed_at(b, T0 + timedelta(days=11)) == "brand y is revoked"
    assert brands.closed_at(None, T0) is None


# ---- worker lifecycle ---------------------------------------------------------------------------------
def dispatched(priority: bool = False) -> tuple[workers.WorkerRecord, lifecycle.PlacementRecord]:
    rec, _ = workers.register(None, reg(priority_groups=["poverty_alleviated"] if priority else []), T0)
    d = {"dispatch_id": "d1", "organizer_id": "ws-1", "brand_id": "a", "origin_region": "469005",
         "destination_region": "440300", "employer": {"employer_id": "emp"}, "departure_date": "2026-03-01"}
    placement, _ = lifecycle.dispatch(rec, d, "pl-1")
    return rec, placement


def confirm(rec: workers.WorkerRecord, p: lifecycle.PlacementRecord, start: str = "2026-03-03") -> None:
    lifecycle.confirm(rec, p, {"placement_id": p.placement_id, "employer_id": "emp", "position": "厨师",
                               "start_date": start, "monthly_wage": "6800", "contract": True})


def test_lifecycle_happy_path_and_rejections() -> None:
    rec, p = dispatched()
    assert rec.state == "dispatched" and lifecycle.dispatch_refusal(rec)  # one active placement at a time
    with pytest.raises(Rejected, match="only the employer named"):
        lifecycle.confirm(rec, p, {"placement_id": "pl-1", "employer_id": "other", "position": "x",
                                   "start_date": "2026-03-03", "monthly_wage": "1", "contract": False})
    with pytest.raises(Rejected, match="only a confirmed placement can end"):
        lifecycle.end(rec, p, {"placement_id": "pl-1", "end_date": "2026-04-01", "reason": "resigned"})
    with pytest.raises(Rejected, match="never dispatched"):
        lifecycle.confirm(rec, None, {"placement_id": "nope", "employer_id": "emp"})
    confirm(rec, p)
    assert (rec.state, p.status, p.monthly_wage) == ("placed", "confirmed", Decimal("6800"))
    lifecycle.end(rec, p, {"placement_id": "pl-1", "end_date": "2026-05-01", "reason": "returned_home"})
    assert (rec.state, rec.current_placement_id) == ("returned", None) and lifecycle.dispatch_refusal(rec) is None


def test_rejected_placement_makes_the_worker_available_again() -> None:
    rec, p = dispatched()
    lifecycle.reject(rec, p, {"placement_id": "pl-1", "employer_id": "emp", "reason": "未到岗"})
    assert rec.state == "registered" and p.status == "rejected"
    with pytest.raises(Rejected):
        confirm(rec, p)


def test_followups_keep_earliest_and_latest_whatever_the_arrival_order() -> None:
    rec, p = dispatched()
    with pytest.raises(Rejected, match="once the placement is confirmed"):
        lifecycle.record_followup(rec, p, {"placement_id": "pl-1", "date": "2026-03-10"})
    confirm(rec, p)
    for day in ("2026-04-20", "2026-03-10", "2026-05-01"):
        lifecycle.record_followup(rec, p, {"placement_id": "pl-1", "date": day})
    assert (p.first_followup_date, p.last_followup_date) == (date(2026, 3, 10), date(2026, 5, 1))
    assert rec.last_followup_at == "2026-05-01"


# ---- alerts ----------------------------------------------------------------------------------------------
def test_deadline_alerts_in_event_time() -> None:
    rec, p = dispatched()
    assert alerts.overdue(p, date(2026, 3, 8)) == []
    [late] = alerts.overdue(p, date(2026, 3, 9))
    assert late.kind == "unconfirmed_placement" and late.raised_at == alerts.day_start(date(2026, 3, 9))
    confirm(rec, p)
    assert alerts.overdue(p, date(2026, 4, 2)) == []
    [overdue] = alerts.overdue(p, date(2026, 4, 3))
    assert overdue.kind == "followup_overdue" and overdue.due_at == date(2026, 4, 2)
    p.first_followup_date = date(2026, 4, 20)  # late: the alert stands, closed by that follow-up
    [late_followup] = alerts.overdue(p, date(2026, 6, 1))
    assert late_followup.closed_at == alerts.day_start(date(2026, 4, 20))
    p.first_followup_date = date(2026, 3, 30)
    assert alerts.overdue(p, date(2026, 6, 1)) == []


def test_problem_alerts_do_not_depend_on_arrival_order() -> None:
    facts = [("f1", date(2026, 3, 10), ["wage_arrears", "dispute"]), ("f2", date(2026, 4, 10), []),
             ("f3", date(2026, 5, 10), ["injury", "wage_arrears"])]
    first = alerts.problem_alerts("pl", W, facts)
    assert alerts.problem_alerts("pl", W, list(reversed(facts))) == first
    got = {(a.kind, a.alert_id.rsplit(":", 1)[1]): a.closed_at for a in first}
    assert got == {("wage_arrears", "f1"): alerts.day_start(date(2026, 4, 10)), ("wage_arrears", "f3"): None,
                   ("injury", "f3"): None}


def test_early_separation() -> None:
    rec, p = dispatched()
    confirm(rec, p)
    p.end_date = date(2026, 3, 20)
    assert alerts.early_separation(p) is not None
    p.end_date = date(2026, 4, 10)
    assert alerts.early_separation(p) is None


# ---- subsidies --------------------------------------------------------------------------------------------
def test_transport_and_social_insurance_only_for_priority_groups() -> None:
    rec, p = dispatched(priority=False)
    confirm(rec, p)
    assert subsidies.on_confirm(p) == []
    rec, p = dispatched(priority=True)
    confirm(rec, p)
    got = {a.kind: a for a in subsidies.on_confirm(p)}
    assert set(got) == {"transport", "social_insurance"}
    # the rules data of issue 21: transport tiered by distance class, 跨省 600 in Hainan
    assert got["transport"].amount == Decimal("600.00") and got["transport"].rule_version == "2026.2-hainan"


def test_employment_service_for_retained_placements_only() -> None:
    rec, p = dispatched()
    confirm(rec, p, start="2026-01-01")
    assert subsidies.employment_service(p, date(2026, 3, 31)) is None  # day 89
    got = subsidies.employment_service(p, date(2026, 4, 1))
    assert got is not None and got.organization_id == "ws-1" and got.accrued_on == date(2026, 4, 1)
    p.status, p.end_date = "ended", date(2026, 3, 15)
    assert subsidies.employment_service(p, date(2026, 6, 1)) is None


def test_rules_fall_back_from_county_to_province_to_default() -> None:
    rules = {"default": {"version": "d"}, "460000": {"version": "hn"}, "469005": {"version": "wc"}}
    assert subsidies.rules_for("469005", rules)["version"] == "wc"
    assert subsidies.rules_for("460106", rules)["version"] == "hn"
    assert subsidies.rules_for("500101", rules)["version"] == "d"
    assert subsidies.min_retained_days() == 90
