"""Issue 21 without services: subsidy rules per region and year, the claim workflow to payment record on the
in-memory ledger, budgets exact to the fen, one person one kind once per period, organizations on first use."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from laowu.domain import organizations as orgs
from laowu.domain import subsidies
from laowu.domain.lifecycle import PlacementRecord
from laowu.domain.outcome import Rejected
from laowu.domain.subsidy_claims import Budget, ClaimContext, ClaimRecord, apply, decide_objection, notice, pay, review
from laowu.ledger.memory import InMemoryLedger
from laowu.ledger.repository import apply as apply_batch
from laowu.ledger.rules import NAME_OF
from schemas import events as ev
from schemas.envelope import Envelope

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def placement(origin: str = "469005", destination: str = "440300", priority: bool = True, start: date | None = None,
              status: str = "confirmed") -> PlacementRecord:
    return PlacementRecord(placement_id="pl-1", dispatch_id="d1", worker_id="w1", employer_id="emp", organizer_id="ws-1",
                           brand_id="b", origin_region=origin, destination_region=destination,
                           departure_date=date(2026, 3, 1), status=status, start_date=start or date(2026, 3, 3),
                           priority_group=priority)


# ---- rules as data ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("destination, amount", [("440300", "600.00"),  # 跨省
                                                 ("460105", "300.00"),  # 省内跨市 (文昌 → 海口)
                                                 ("469005", None)])  # 县内: no transport subsidy
def test_transport_is_tiered_by_distance_class(destination: str, amount: str | None) -> None:
    got = {a.kind: a for a in subsidies.on_confirm(placement(destination=destination))}
    if amount is None:
        assert "transport" not in got
    else:
        assert got["transport"].amount == Decimal(amount)
        assert got["transport"].rule_version == "2026.2-hainan" and got["transport"].rule_region == "460000"
        assert got["transport"].period == 2026
    assert got["social_insurance"].amount == Decimal("800.00")


def test_rules_are_chosen_by_year_and_record_their_version() -> None:
    rules: dict[str, Any] = {
        "default": {"2025": {"version": "d25"}, "2026": {"version": "d26"}},
        "460000": {"2025": {"version": "hn25", "budget": "100.00"}, "2027": {"version": "hn27", "budget": "300.00"}},
    }
    assert subsidies.rules_for("469005", rules, date(2025, 6, 1))["version"] == "hn25"
    assert subsidies.rules_for("469005", rules, date(2026, 6, 1))["version"] == "hn25"  # the latest before it
    assert subsidies.rules_for("469005", rules, date(2024, 6, 1))["version"] == "hn25"  # the earliest
    assert subsidies.rules_for("469005", rules, date(2028, 1, 1))["version"] == "hn27"
    assert subsidies.rules_for("110101", rules, date(2026, 1, 1))["version"] == "d26"
    assert subsidies.budget_of("460000", 2027, rules) == Decimal("300.00")
    assert subsidies.budget_of("999999", 2027, rules) == Decimal("0.00")
    assert subsidies.budget_of("460000", 2026) == Decimal("500000.00")
    assert subsidies.notice_days("460000", 2026) == 7


def test_amounts_are_exact_to_the_fen() -> None:
    assert subsidies.fen("0.1") + subsidies.fen("0.2") == Decimal("0.30")
    with pytest.raises(ValueError):
        subsidies.fen("1.005")


def test_migrant_bonus_after_90_days_outside_the_county_for_priority_groups() -> None:
    p = placement(start=date(2026, 1, 1))
    assert subsidies.on_retention(p, date(2026, 3, 31)) == []  # day 89
    got = {a.kind: a for a in subsidies.on_retention(p, date(2026, 4, 1))}
    assert set(got) == {"employment_service", "migrant_bonus"}
    assert got["migrant_bonus"].amount == Decimal("1200.00") and got["migrant_bonus"].accrued_on == date(2026, 4, 1)
    assert got["employment_service"].organization_id == "ws-1"
    assert [a.kind for a in subsidies.on_retention(placement(start=date(2026, 1, 1), priority=False),
                                                   date(2026, 4, 1))] == ["employment_service"]
    in_county = placement(destination="469005", start=date(2026, 1, 1))
    assert [a.kind for a in subsidies.on_retention(in_county, date(2026, 4, 1))] == ["employment_service"]


# ---- the claim workflow as pure rules --------------------------------------------------------------------------
def claim(sid: str = "transport:pl-1", amount: str = "600.00") -> ClaimRecord:
    return ClaimRecord(sid, "transport", "w1", "ws-1", "pl-1", Decimal(amount), "2026.2-hainan", "460000", 2026,
                       "469005", date(2026, 3, 3))


def ctx(rivals: dict[str, str] | None = None, total: str = "1000.00") -> ClaimContext:
    return ClaimContext(rivals or {}, Budget("460000", 2026, Decimal(total)), 7)


def test_the_workflow_from_application_to_payment() -> None:
    c, k = claim(), ctx()
    apply(c, {"applicant_id": "ws-1"}, T0, k)
    review(c, {"decision": "approved", "reviewer_id": "hrss", "reason": "材料齐全", "checked": ["身份"]}, T0, k)
    assert k.budget.left == Decimal("400.00")
    with pytest.raises(Rejected, match="at least 7 days"):
        notice(c, {"notice_id": "gs-1", "start_date": "2026-06-01", "days": 3}, T0, k)
    notice(c, {"notice_id": "gs-1", "start_date": "2026-06-01", "days": 7}, T0, k)
    assert c.notice_end == date(2026, 6, 8)
    with pytest.raises(Rejected, match=r"may be paid from 2026-06-08"):
        pay(c, {"paid_on": "2026-06-07", "voucher_number": "PZ-1", "amount": "600.00"}, T0, k)
    with pytest.raises(Rejected, match="must be the amount approved"):
        pay(c, {"paid_on": "2026-06-08", "voucher_number": "PZ-1", "amount": "599.99"}, T0, k)
    pay(c, {"paid_on": "2026-06-08", "voucher_number": "PZ-1", "amount": "600.00"}, T0, k)
    assert (c.status, k.budget.paid, k.budget.left) == ("paid", Decimal("600.00"), Decimal("400.00"))


def test_refusals_name_what_came_first() -> None:
    c, k = claim(), ctx()
    apply(c, {"applicant_id": "ws-1"}, T0, k)
    with pytest.raises(Rejected, match=r"already applied for by ws-1 on 2026-03-01"):
        apply(c, {"applicant_id": "ws-2"}, T0, k)
    other = claim("transport:pl-2")
    with pytest.raises(Rejected, match=r"subsidy transport:pl-1 .*one person, one kind, once per rule period"):
        apply(other, {"applicant_id": "ws-1"}, T0, ctx({"transport:pl-1": "approved"}))
    apply(other, {"applicant_id": "ws-1"}, T0, ctx({"transport:pl-1": "refused"}))  # a refused one frees the period


def test_the_budget_bounds_approvals() -> None:
    c, k = claim(amount="600.00"), ctx(total="599.99")
    apply(c, {"applicant_id": "ws-1"}, T0, k)
    with pytest.raises(Rejected, match=r"has 599\.99 left, less than 600\.00"):
        review(c, {"decision": "approved", "reviewer_id": "hrss", "reason": "ok"}, T0, k)
    review(c, {"decision": "refused", "reviewer_id": "hrss", "reason": "非优先群体"}, T0, k)
    assert c.status == "refused" and k.budget.committed == Decimal("0")


def test_an_upheld_objection_refuses_and_returns_the_amount() -> None:
    c, k = claim(), ctx()
    apply(c, {"applicant_id": "ws-1"}, T0, k)
    review(c, {"decision": "approved", "reviewer_id": "hrss", "reason": "ok"}, T0, k)
    notice(c, {"notice_id": "gs-1", "start_date": "2026-06-01", "days": 7}, T0, k)
    from laowu.domain.subsidy_claims import raise_objection
    with pytest.raises(Rejected, match="2026-06-08 is outside it"):
        raise_objection(c, {"objection_id": "o1", "summary": "x"}, datetime(2026, 6, 8, 2, tzinfo=UTC), k)
    raise_objection(c, {"objection_id": "o1", "summary": "非本人务工"}, datetime(2026, 6, 3, 2, tzinfo=UTC), k)
    with pytest.raises(Rejected, match=r"objection o1 .* is not decided"):
        pay(c, {"paid_on": "2026-06-09", "voucher_number": "PZ-1", "amount": "600.00"}, T0, k)
    decide_objection(c, {"objection_id": "o1", "upheld": True, "reason": "核实属实"}, T0, k)
    assert c.status == "refused" and k.budget.left == Decimal("1000.00") and "异议成立" in str(c.review_reason)


# ---- organizations -----------------------------------------------------------------------------------------------
def test_organization_verification_follows_its_transitions() -> None:
    rec, _ = orgs.register(None, {"org_id": "o1", "kind": "employer", "name": "某厂", "region_code": "440300"}, T0,
                           "ws-1")
    assert rec.status == "pending"
    with pytest.raises(Rejected, match="already registered"):
        orgs.register(rec, {"org_id": "o1"}, T0, "ws-1")
    with pytest.raises(Rejected, match="cannot become suspended"):
        orgs.verify(rec, {"org_id": "o1", "status": "suspended", "reason": "x"}, T0, "hrss")
    rec, changes = orgs.verify(rec, {"org_id": "o1", "status": "verified", "reason": "材料齐全"}, T0, "hrss")
    assert rec.status == "verified" and changes["status"] == ["pending", "verified"]


# ---- on the in-memory ledger -----------------------------------------------------------------------------------
def wrap(body: BaseModel, key: str, at: datetime = T0, source: str = "ws-469005-01") -> Envelope:
    return Envelope.wrap(body, type=NAME_OF[type(body)], key=key, source=source, occurred_at=at)  # type: ignore[arg-type]


async def run(repo: InMemoryLedger, batch: list[Envelope]) -> list[tuple[str, str | None]]:
    for e in batch:
        repo.accept(e)
    await apply_batch(repo, batch)
    return [repo.status(e) for e in batch]


def entitlement(repo: InMemoryLedger, sid: str, worker: str, amount: str) -> None:
    repo.subsidies[sid] = {"subsidy_id": sid, "kind": "transport", "worker_id": worker, "organization_id": "ws-1",
                           "placement_id": sid.split(":")[1], "amount": amount, "rule_version": "2026.2-hainan",
                           "accrued_at": datetime(2026, 3, 3, tzinfo=UTC), "origin_region": "469005",
                           "rule_region": "460000", "period": 2026}


async def test_the_ledger_decides_claims_in_order_and_keeps_the_budget() -> None:
    repo = InMemoryLedger()
    entitlement(repo, "transport:pl-1", "w1", "600.00")
    entitlement(repo, "transport:pl-2", "w1", "600.00")  # the same person, kind and period
    a1 = wrap(ev.SubsidyApplied(subsidy_id="transport:pl-1", origin_region="469005", applicant_id="ws-1"),
              "transport:pl-1")
    a2 = wrap(ev.SubsidyApplied(subsidy_id="transport:pl-2", origin_region="469005", applicant_id="ws-1"),
              "transport:pl-2")
    ok = wrap(ev.SubsidyReviewed(subsidy_id="transport:pl-1", origin_region="469005", reviewer_id="hrss",
                                 decision="approved", reason="材料齐全", checked=["身份", "就业"]), "transport:pl-1")
    got = await run(repo, [a1, a2, ok])
    assert got[0] == ("applied", None) and got[2] == ("applied", None)
    assert got[1][0] == "rejected" and "subsidy transport:pl-1 (applied)" in str(got[1][1])
    budget = repo.budget_records[("460000", 2026)]
    assert budget.committed == Decimal("600.00") and budget.left == Decimal("500000.00") - Decimal("600.00")
    again = wrap(ev.SubsidyApplied(subsidy_id="transport:pl-1", origin_region="469005", applicant_id="ws-2"),
                 "transport:pl-1")
    (status, reason), = await run(repo, [again])
    assert status == "rejected" and "already applied for by ws-1" in str(reason)
    unknown = wrap(ev.SubsidyApplied(subsidy_id="transport:nope", origin_region="469005", applicant_id="ws-1"),
                   "transport:nope")
    (status, reason), = await run(repo, [unknown])
    assert status == "rejected" and "unknown subsidy" in str(reason)
    assert [h["changes"]["status"] for h in repo.claim_history] == [["entitled", "applied"], ["applied", "approved"]]


async def test_a_dispatch_registers_unknown_organizations_on_first_use_pending() -> None:
    from test_ledger_decision import World

    world, repo = World(), InMemoryLedger()
    known = wrap(ev.OrganizationRegistered(org_id="ws-460105-01", kind="workstation", name="龙华区劳务工作站",
                                           region_code="460105"), "ws-460105-01")
    worker = world.worker()
    got = await run(repo, [world.brand(), known, worker])
    assert got[1] == ("applied", None)
    await run(repo, [world.dispatch([worker])])
    employer = repo.organization_records["emp-1"]
    assert (employer.status, employer.first_use, employer.kind, employer.registered_by) == (
        "pending", True, "employer", "ws-460105-01")
    assert repo.organization_records["ws-460105-01"].first_use is False  # registered before: not touched
    assert repo.organization_history[-1]["changes"]["dispatch_id"] == [None, "dsp-1"]
    again = wrap(ev.OrganizationRegistered(org_id="emp-1", kind="employer", name="深圳某电子厂", region_code="440305"),
                "emp-1")
    (status, reason), = await run(repo, [again])
    assert status == "rejected" and "already registered" in str(reason)
