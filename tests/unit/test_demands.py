"""Job demands in the ledger (issue 19), on the in-memory repository: fills never overfill a position, reserved
posts are kept for priority groups, expiry and closing are judged in event time whatever the arrival order, a
dispatch naming a demand not applied yet waits for it; intentions: newest occurred_at wins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from test_ledger_decision import EMPLOYER, T0, World

from laowu.domain import demands as rules
from laowu.domain.lifecycle import placement_id_for
from laowu.domain.outcome import Rejected
from laowu.ledger.memory import InMemoryLedger
from laowu.ledger.repository import apply
from schemas import events as ev
from schemas.common import Employer
from schemas.envelope import Envelope

CLOSING = date(2026, 3, 20)


def posted(world: World, demand_id: str = "dmd-1", headcount: int = 2, reserved: int = 0,
           at: datetime = T0) -> Envelope:
    body = ev.DemandPosted(
        demand_id=demand_id, employer=Employer(employer_id=EMPLOYER, name="深圳某电子厂"), title="装配工",
        contact={"name": "李女士"}, closing_date=CLOSING, origin_regions=["460000"],  # type: ignore[arg-type]
        positions=[{"position_id": "p1", "title": "装配工", "occupation_code": "6-28-01-01",  # type: ignore[list-item]
                    "headcount": headcount, "wage_min": "4000", "wage_max": "6000", "work_region": "440305",
                    "start_date": "2026-04-01", "reserved_posts": reserved}])
    return world.wrap(body, demand_id, at, EMPLOYER)


def filling(world: World, workers: list[Envelope], dispatch_id: str, at: datetime, demand_id: str = "dmd-1",
            position: str | None = "p1") -> Envelope:
    ids = [w.payload["worker_id"] for w in workers]
    body = ev.DispatchCreated(
        dispatch_id=dispatch_id, organizer_id="ws-460105-01", brand_id="b-1", mode="directed_interregional",
        origin_region="460105", destination_region="440305", demand_id=demand_id,
        employer=Employer(employer_id=EMPLOYER, name="深圳某电子厂"), departure_date=at.date(),
        placements=[ev.DispatchedWorker(worker_id=w, placement_id=placement_id_for(dispatch_id, w), position_id=position)
                    for w in ids])
    return world.wrap(body, dispatch_id, at)


async def run(repo: InMemoryLedger, *events: Envelope) -> list[tuple[str, str | None]]:
    for e in events:
        repo.accept(e)
    await apply(repo, list(events))
    return [repo.status(e) for e in events]


@pytest.fixture
def world() -> World:
    return World()


async def test_fills_never_overfill_and_move_the_status(world: World) -> None:
    repo = InMemoryLedger()
    ws = [world.worker(priority=False) for _ in range(4)]
    await run(repo, world.brand(), *ws, posted(world))
    assert repo.demand_records["dmd-1"].status == "open"
    await run(repo, filling(world, ws[:1], "d1", T0 + timedelta(days=1)))
    assert repo.demand_records["dmd-1"].status == "partly_filled"
    # The second and third arrive in one batch: the second fills the last post, the third would overfill.
    second, third = await run(repo, filling(world, ws[1:2], "d2", T0 + timedelta(days=2)),
                              filling(world, ws[2:4], "d3", T0 + timedelta(days=2)))
    assert second == ("applied", None)
    assert third[0] == "rejected" and "has 0 of 2 posts left; this dispatch would fill 2" in str(third[1])
    rec = repo.demand_records["dmd-1"]
    assert (rec.status, rec.filled) == ("filled", {"p1": 2})
    # The refused dispatch placed nobody: its workers are still available.
    assert {repo.worker_records[w.payload["worker_id"]].state for w in ws[2:]} == {"registered"}
    assert [r["outcome"] for r in repo.dispatch_workers.values() if r["dispatch_id"] == "d3"] == ["rejected"] * 2


async def test_reserved_posts_are_kept_for_priority_groups(world: World) -> None:
    repo = InMemoryLedger()
    others = [world.worker(priority=False) for _ in range(2)]
    prio = [world.worker(priority=True) for _ in range(2)]
    await run(repo, world.brand(), *others, *prio, posted(world, headcount=3, reserved=2))
    [refused] = await run(repo, filling(world, others, "d1", T0 + timedelta(days=1)))
    assert refused[0] == "rejected" and "爱心岗位" in str(refused[1]) and "1 left for others" in str(refused[1])
    assert await run(repo, filling(world, [*prio, others[0]], "d2", T0 + timedelta(days=1))) == [("applied", None)]
    assert repo.demand_records["dmd-1"].filled_priority == {"p1": 2}


async def test_expiry_and_closing_are_judged_in_event_time(world: World) -> None:
    repo = InMemoryLedger()
    ws = [world.worker() for _ in range(3)]
    await run(repo, world.brand(), *ws, posted(world, headcount=3))
    # Beijing's closing day ends at 16:00 UTC: 15:59 UTC on the closing date is still in time, 16:00 is not.
    last_minute = datetime(2026, 3, 20, 15, 59, tzinfo=UTC)
    too_late = datetime(2026, 3, 20, 16, 0, tzinfo=UTC)
    # The late-dated one arrives first, the offline batch after it: each judged by when it happened.
    [late] = await run(repo, filling(world, ws[:1], "late", too_late))
    assert late[0] == "rejected" and "expired on its closing date 2026-03-20" in str(late[1])
    assert await run(repo, filling(world, ws[1:2], "offline", last_minute)) == [("applied", None)]
    # Closed by the employer at t: a dispatch of before t still fills, one of after t does not.
    closed_at = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    close = world.wrap(ev.DemandClosed(demand_id="dmd-1", employer_id=EMPLOYER, reason="不再招聘"), "dmd-1", closed_at,
                       EMPLOYER)
    assert await run(repo, close) == [("applied", None)]
    [after] = await run(repo, filling(world, ws[2:3], "after", closed_at + timedelta(hours=1)))
    assert after[0] == "rejected" and "closed by its employer" in str(after[1])
    assert await run(repo, filling(world, ws[2:3], "before", closed_at - timedelta(hours=1))) == [("applied", None)]


async def test_a_dispatch_waits_for_its_demands_posting(world: World) -> None:
    repo = InMemoryLedger()
    w = world.worker()
    await run(repo, world.brand(), w)
    early = filling(world, [w], "d1", T0 + timedelta(days=1))
    assert await run(repo, early) == [("accepted", None)]  # waits for demand:dmd-1
    await run(repo, posted(world))
    assert repo.status(early) == ("applied", None)
    assert repo.demand_records["dmd-1"].filled == {"p1": 1}


async def test_a_demand_is_posted_once_and_closed_only_by_its_employer(world: World) -> None:
    repo = InMemoryLedger()
    first = posted(world)
    again = posted(world)
    other = world.wrap(ev.DemandClosed(demand_id="dmd-1", employer_id="emp-2", reason="x"), "dmd-1", T0, "emp-2")
    assert await run(repo, first, again, other) == [
        ("applied", None), ("rejected", "demand dmd-1 already exists"),
        ("rejected", "demand dmd-1 is employer emp-1's, not emp-2's")]


def test_a_position_must_be_named_when_there_are_several() -> None:
    rec, _ = rules.post(None, {"demand_id": "d", "employer": {"employer_id": "e", "name": "n"}, "title": "t",
                               "closing_date": "2026-03-20", "positions": [
                                   {"position_id": "a", "headcount": 1}, {"position_id": "b", "headcount": 1}]}, T0)
    assert "name the position" in str(rules.fill_refusal(rec, "d", "e", T0, [(None, False)]))
    assert "has no position c" in str(rules.fill_refusal(rec, "d", "e", T0, [("c", False)]))
    assert "the dispatch names x" in str(rules.fill_refusal(rec, "d", "x", T0, [("a", False)]))
    assert rules.fill_refusal(rec, "d", "e", T0, [("a", False), ("b", True)]) is None
    assert rules.shown_status("open", date(2026, 3, 20), date(2026, 3, 21)) == "expired"
    assert rules.shown_status("filled", date(2026, 3, 20), date(2026, 3, 21)) == "filled"
    with pytest.raises(Rejected):
        rules.close(None, {"demand_id": "d", "employer_id": "e", "reason": "r"}, T0)


async def test_intentions_newest_occurred_at_wins(world: World) -> None:
    repo = InMemoryLedger()
    w = world.worker()
    wid = w.payload["worker_id"]

    def intention(at: datetime, **given: Any) -> Envelope:
        return world.wrap(ev.WorkerIntentionRecorded(worker_id=wid, **given), wid, at)

    newer = intention(T0 + timedelta(days=5), occupations=["6-28-01-01"], destinations=["440300"],
                      min_monthly_wage="5000", not_working_reason="no_suitable_job")
    older = intention(T0 + timedelta(days=1), occupations=["4-03-02-01"])
    await run(repo, world.brand(), w)
    assert await run(repo, newer, older) == [("applied", None), ("applied", None)]
    rec = repo.worker_records[wid]
    assert rec.intention == {"occupations": ["6-28-01-01"], "destinations": ["440300"], "min_monthly_wage": "5000",
                             "not_working_reason": "no_suitable_job"}
    kinds = [h["changes"] for h in repo.worker_history if h["type"] == "worker.intention_recorded"]
    assert "intention" in kinds[0] and "intention_superseded" in kinds[1]


async def test_a_dispatch_naming_a_refused_posting_is_refused_with_it(world: World) -> None:
    """The posting is rejected in one batch; a dispatch naming it, produced to Kafka directly (the API would refuse
    it at once), arrives in a later batch: rejected with the posting's reason, never left waiting."""
    repo = InMemoryLedger()
    w = world.worker()
    await run(repo, world.brand(), w)
    refused = posted(world, demand_id="dmd-2")  # its receipt says rejected, as the ledger left it
    repo.accept(refused)
    repo.receipts[refused.event_id] = repo.receipts[refused.event_id] | {"status": "rejected", "reason": "bad posting"}
    [late] = await run(repo, filling(world, [w], "d9", T0 + timedelta(days=1), demand_id="dmd-2"))
    assert late == ("rejected", "demand dmd-2's posting was refused: bad posting")


async def test_a_person_turned_away_gives_the_post_back(world: World) -> None:
    """未到岗: the employer rejects a placement of the demand; its post opens again (and the reserved count with it),
    so another person may fill it; a confirmation keeps it."""
    repo = InMemoryLedger()
    ws = [world.worker(priority=True) for _ in range(3)]
    await run(repo, world.brand(), *ws, posted(world, headcount=2, reserved=1))
    await run(repo, filling(world, ws[:2], "d1", T0 + timedelta(days=1)))
    rec = repo.demand_records["dmd-1"]
    assert (rec.status, rec.filled, rec.filled_priority) == ("filled", {"p1": 2}, {"p1": 2})
    assert repo.placement_records[placement_id_for("d1", ws[0].payload["worker_id"])].position_id == "p1"
    assert await run(repo, _reject(world, ws[0], "d1")) == [("applied", None)]
    rec = repo.demand_records["dmd-1"]
    assert (rec.status, rec.filled, rec.filled_priority) == ("partly_filled", {"p1": 1}, {"p1": 1})
    assert await run(repo, filling(world, ws[2:], "d2", T0 + timedelta(days=3))) == [("applied", None)]
    assert repo.demand_records["dmd-1"].status == "filled"


def _reject(world: World, worker: Envelope, dispatch_id: str) -> Envelope:
    wid = worker.payload["worker_id"]
    body = ev.PlacementRejected(placement_id=placement_id_for(dispatch_id, wid), worker_id=wid, employer_id=EMPLOYER,
                                reason="未到岗")
    return world.wrap(body, wid, T0 + timedelta(days=2), EMPLOYER)
