"""Cooperation agreements (劳务协作) and flows (劳务流向), issue 19: the pure rules and the ledger's decisions on the
in-memory repository (no services)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from laowu.domain import agreements as rules
from laowu.domain import flows
from laowu.domain.outcome import Rejected
from laowu.ledger.memory import InMemoryLedger
from schemas import events as ev
from schemas.envelope import Envelope

# The ledger story's world (events with ids and times), shared rather than copied.
_spec = importlib.util.spec_from_file_location("ledger_story", Path(__file__).with_name("test_ledger_decision.py"))
assert _spec and _spec.loader
story = importlib.util.module_from_spec(_spec)
sys.modules["ledger_story"] = story
_spec.loader.exec_module(story)
T0, World, run, statuses = story.T0, story.World, story.run, story.statuses

SIGNED: dict[str, Any] = {"agreement_id": "hn-sz", "name": "琼深劳务协作", "origin_region": "460000",
                          "destination_region": "440300", "origin_bureau_id": "bureau-460000",
                          "destination_bureau_id": "bureau-440300", "start_date": "2026-01-01",
                          "end_date": "2026-12-31", "target_headcount": 3, "brand_ids": ["b-1"]}


@pytest.fixture
def world() -> Any:
    return World()


def signed(**over: Any) -> rules.AgreementRecord:
    return rules.sign(None, SIGNED | over, T0)[0]


# ---- the rules ------------------------------------------------------------------------------------------------
def test_a_dispatch_is_covered_by_region_brand_and_period() -> None:
    a = signed()
    ok = {"origin_region": "460105", "destination_region": "440305", "brand_id": "b-1", "departure_date": "2026-03-01"}
    assert rules.coverage_refusal(a, "hn-sz", **ok) is None
    assert "origin_region 450100" in str(rules.coverage_refusal(a, "hn-sz", **ok | {"origin_region": "450100"}))
    assert "destination_region 440100" in str(rules.coverage_refusal(a, "hn-sz", **ok | {"destination_region": "440100"}))
    assert "brand b-2" in str(rules.coverage_refusal(a, "hn-sz", **ok | {"brand_id": "b-2"}))
    assert "outside the agreement's period" in str(rules.coverage_refusal(a, "hn-sz", **ok | {"departure_date": "2027-01-01"}))
    assert rules.coverage_refusal(None, "nope", **ok) == "unknown agreement nope"
    # no brands: every brand
    assert rules.coverage_refusal(signed(brand_ids=[]), "hn-sz", **ok | {"brand_id": "b-9"}) is None


def test_ending_early_covers_departures_up_to_the_end_day_in_event_time() -> None:
    a, changes = rules.end(signed(), {"agreement_id": "hn-sz", "end_date": "2026-05-31", "reason": "提前终止"}, T0)
    assert changes["status"] == ["active", "ended"] and rules.last_day(a) == date(2026, 5, 31)
    terms = {"origin_region": "460105", "destination_region": "440305", "brand_id": "b-1"}
    assert rules.coverage_refusal(a, "hn-sz", **terms, departure_date="2026-05-31") is None
    assert rules.coverage_refusal(a, "hn-sz", **terms, departure_date="2026-06-01") is not None
    with pytest.raises(Rejected, match="already ended"):
        rules.end(a, {"agreement_id": "hn-sz", "end_date": "2026-06-30", "reason": "再次终止"}, T0)
    with pytest.raises(Rejected, match="not changed any more"):
        rules.update(a, {"agreement_id": "hn-sz", "target_headcount": 9}, T0)


def test_signing_twice_a_backwards_period_and_an_unknown_agreement_are_refused() -> None:
    with pytest.raises(Rejected, match="already exists"):
        rules.sign(signed(), SIGNED, T0)
    with pytest.raises(Rejected, match="before it starts"):
        rules.sign(None, SIGNED | {"end_date": "2025-12-31"}, T0)
    with pytest.raises(Rejected, match="before it starts"):
        rules.update(signed(), {"agreement_id": "hn-sz", "end_date": "2025-06-30"}, T0)
    with pytest.raises(Rejected, match="unknown agreement"):
        rules.update(None, {"agreement_id": "x", "target_headcount": 2}, T0)
    a, changes = rules.update(signed(), {"agreement_id": "hn-sz", "target_headcount": 5, "brand_ids": ["b-1", "b-1"]}, T0)
    assert (a.target_headcount, a.brand_ids, changes) == (5, ["b-1"], {"target_headcount": [3, 5]})


def test_the_parties_are_the_bureaus_of_both_sides() -> None:
    a = signed()
    assert rules.party(a, "bureau", "bureau-440300", "440300")
    assert rules.party(a, "bureau", "someone", "440000")  # the province above the destination
    assert not rules.party(a, "bureau", "someone", "460100")  # a city inside the origin province sees, not acts
    assert not rules.party(a, "bureau", "someone", "450000")
    assert not rules.party(a, "workstation", "bureau-440300", "440300")


def _view(status: str = "dispatched", **over: Any) -> dict[str, Any]:
    return {"origin_region": "469005", "destination_region": "440305", "departure_date": "2026-02-28",
            "brand_id": "b-1", "status": status, "start_date": None} | over


def test_a_placement_flows_once_by_distance_class_and_beijing_month() -> None:
    sent = flows.contribution(_view())
    assert sent == {("469005", "440305", "2026-02", "b-1", "cross_province", "sent"): Decimal(1)}
    assert flows.contribution(_view(destination_region="460106"))  # 文昌 → 海口: 省内跨市
    assert next(iter(flows.contribution(_view(destination_region="460106"))))[4] == "cross_city"
    confirmed = _view("confirmed", start_date="2026-03-02")
    delta = flows.change(_view(), confirmed)
    assert delta == {("469005", "440305", "2026-02", "b-1", "cross_province", "confirmed"): Decimal(1)}
    # an end after a confirmation keeps both; a rejection keeps the sending only
    assert flows.change(confirmed, confirmed | {"status": "ended", "end_date": "2026-05-01"}) == {}
    assert flows.change(_view(), _view("rejected")) == {}
    assert flows.change(None, None) == {}


@pytest.mark.parametrize(("code", "province", "city", "county"), [
    ("460106", "460000", "460100", "460106"), ("469005", "460000", "469005", "469005"),
    ("440300", "440000", "440300", "440300"), ("110105", "110000", "110000", "110105")])
def test_codes_are_cut_to_a_level_for_drill_down(code: str, province: str, city: str, county: str) -> None:
    assert [flows.at_level(code, lvl) for lvl in flows.LEVELS] == [province, city, county]


# ---- the ledger -----------------------------------------------------------------------------------------------
def _agreement(w: Any, body: Any, at: datetime = T0) -> Envelope:
    return w.wrap(body, body.agreement_id, at, "bureau-460000")  # type: ignore[no-any-return]


async def test_a_dispatch_under_an_agreement_is_applied_and_one_outside_it_rejected(world: Any) -> None:
    repo = InMemoryLedger()
    brand, a, b = world.brand(), world.worker(), world.worker()
    sign = _agreement(world, ev.AgreementSigned(**SIGNED | {"origin_region": "460100"}))
    inside = world.dispatch([a], "dsp-in")
    inside.payload["agreement_id"] = "hn-sz"
    outside = world.dispatch([b], "dsp-late", at=datetime(2027, 2, 1, tzinfo=UTC))
    outside.payload["agreement_id"] = "hn-sz"
    # the agreement arrives in the same batch as the dispatch that names it: agreements are decided first
    await run(repo, [brand, a, b, inside, sign], [outside])
    assert statuses(repo, [sign, inside]) == ["applied", "applied"]
    assert repo.status(outside) == ("rejected", "departure_date 2027-02-01 is outside the agreement's period "
                                                "(2026-01-01 to 2026-12-31)")
    assert repo.dispatches["dsp-in"]["agreement_id"] == "hn-sz"
    assert repo.agreement_records["hn-sz"].version == 1


async def test_agreement_changes_are_decided_in_the_ledger(world: Any) -> None:
    repo = InMemoryLedger()
    sign = _agreement(world, ev.AgreementSigned(**SIGNED))
    again = _agreement(world, ev.AgreementSigned(**SIGNED))
    update = _agreement(world, ev.AgreementUpdated(agreement_id="hn-sz", target_headcount=10),
                        T0 + timedelta(days=1))
    end = _agreement(world, ev.AgreementEnded(agreement_id="hn-sz", end_date=date(2026, 6, 30), reason="完成"),
                     T0 + timedelta(days=2))
    stray = _agreement(world, ev.AgreementUpdated(agreement_id="nope", target_headcount=10))
    await run(repo, [sign], [again], [update], [end], [stray])
    assert statuses(repo, [sign, again, update, end, stray]) == ["applied", "rejected", "applied", "applied", "rejected"]
    rec = repo.agreement_records["hn-sz"]
    assert (rec.target_headcount, rec.status, rec.ended_on, rec.version) == (10, "ended", date(2026, 6, 30), 3)


def test_the_flow_agent_adds_what_placement_changes_change_and_nothing_else() -> None:
    from streams.flows import delta

    dispatched, confirmed = _view(), _view("confirmed", start_date="2026-03-02")
    changes = [ev.LedgerChanged(entity="placement", entity_id="p1", cause_event_id="e1", cause_type="dispatch.created",
                                before=None, after=dispatched),
               ev.LedgerChanged(entity="placement", entity_id="p1", cause_event_id="e2",
                                cause_type="placement.confirmed", before=dispatched, after=confirmed),
               ev.LedgerChanged(entity="worker", entity_id="w1", cause_event_id="e1", cause_type="dispatch.created",
                                before=None, after={"state": "dispatched"})]
    head = ("469005", "440305", "2026-02", "b-1", "cross_province")
    assert delta(changes) == {(*head, "sent"): Decimal(1), (*head, "confirmed"): Decimal(1)}
    # a follow-up changes nothing the flows count
    assert delta([ev.LedgerChanged(entity="followup", entity_id="p1", cause_event_id="e3",
                                   cause_type="followup.recorded", before=confirmed, after=confirmed)]) == {}


def test_flows_sum_at_a_level_and_keep_each_placement_s_own_distance_class() -> None:
    cells = [{"origin_region": o, "destination_region": d, "month": "2026-03", "brand_id": "b-1",
              "distance_class": c, "metric": m, "value": Decimal(v)}
             for o, d, c, m, v in (("469005", "440305", "cross_province", "sent", 2),
                                   ("469005", "440304", "cross_province", "sent", 1),
                                   ("469005", "440304", "cross_province", "confirmed", 1),
                                   ("460106", "460108", "cross_county", "sent", 1))]
    province = flows.aggregate(cells, "province")
    assert [(i["origin_region"], i["destination_region"], i["distance_class"], i["sent"], i["confirmed"])
            for i in province] == [("460000", "440000", "cross_province", 3, 1), ("460000", "460000", "cross_county", 1, 0)]
    assert flows.totals(province) == {"cross_province": 3, "cross_city": 0, "cross_county": 1, "in_county": 0,
                                      "all": 4}
    assert len(flows.aggregate(cells, "county")) == 3
