"""The ledger's decisions on the in-memory repository: no Kafka, no PostgreSQL (``laowu.ledger``)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import BaseModel

from laowu.domain.identity import id_number_for, mask_id_number, parse_id_number
from laowu.domain.lifecycle import placement_id_for
from laowu.ledger.memory import InMemoryLedger
from laowu.ledger.repository import apply
from laowu.ledger.rules import NAME_OF, RULES
from laowu.privacy import Privacy
from laowu.settings import Settings
from schemas import events as ev
from schemas.common import Employer
from schemas.envelope import Envelope

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
EMPLOYER = "emp-1"


class World:
    """Builds the events a province sends, with ids and times a story can refer to."""

    def __init__(self) -> None:
        self.privacy = Privacy(Settings())
        self.n = 0

    def wrap(self, body: BaseModel, key: str, at: datetime, source: str = "ws-460105-01") -> Envelope:
        return Envelope.wrap(body, type=NAME_OF[type(body)], key=key, source=source, occurred_at=at)  # type: ignore[arg-type]

    def brand(self, brand_id: str = "b-1", at: datetime = T0) -> Envelope:
        body = ev.BrandRegistered(brand_id=brand_id, name="海南椰乡工匠", region_code="460105", category="skilled",
                                  level="provincial")
        return self.wrap(body, brand_id, at, "bureau-46")

    def brand_status(self, status: str, brand_id: str = "b-1", at: datetime = T0) -> Envelope:
        return self.wrap(ev.BrandStatusChanged(brand_id=brand_id, status=status, reason="年度评估"), brand_id, at,  # type: ignore[arg-type]
                         "bureau-46")

    def worker(self, brand_ids: tuple[str, ...] = ("b-1",), priority: bool = True, at: datetime = T0) -> Envelope:
        self.n += 1
        number = id_number_for("460105", date(1990, 1, 1) + timedelta(days=self.n), self.n % 1000)
        info = parse_id_number(number)
        body = ev.WorkerRegistered(
            worker_id=self.privacy.worker_id(number), id_number_enc=self.privacy.cipher.encrypt(number, "id_number"),
            id_number_masked=mask_id_number(number), name=f"测试{self.n}", sex=info.sex, birth_date=info.birth_date,
            household_region="460105", workstation_id="ws-460105-01", brand_ids=list(brand_ids),
            priority_groups=["rural_low_income"] if priority else [])
        return self.wrap(body, body.worker_id, at)

    def dispatch(self, workers: list[Envelope], dispatch_id: str = "dsp-1", brand_id: str = "b-1",
                 at: datetime = T0) -> Envelope:
        ids = [w.payload["worker_id"] for w in workers]
        body = ev.DispatchCreated(
            dispatch_id=dispatch_id, organizer_id="ws-460105-01", brand_id=brand_id, mode="directed_interregional",
            origin_region="460105", destination_region="440305",
            employer=Employer(employer_id=EMPLOYER, name="深圳某电子厂"), departure_date=at.date(),
            placements=[ev.DispatchedWorker(worker_id=w, placement_id=placement_id_for(dispatch_id, w)) for w in ids])
        return self.wrap(body, dispatch_id, at)

    @staticmethod
    def placement(worker: Envelope, dispatch_id: str = "dsp-1") -> tuple[str, str]:
        wid = worker.payload["worker_id"]
        return wid, placement_id_for(dispatch_id, wid)

    def confirm(self, worker: Envelope, employer: str = EMPLOYER, at: datetime = T0 + timedelta(days=2),
                dispatch_id: str = "dsp-1") -> Envelope:
        wid, pid = self.placement(worker, dispatch_id)
        body = ev.PlacementConfirmed(placement_id=pid, worker_id=wid, employer_id=employer, position="装配工",
                                     start_date=at.date(), monthly_wage=Decimal("5200"), contract=True)
        return self.wrap(body, wid, at, employer)

    def reject(self, worker: Envelope, at: datetime = T0 + timedelta(days=2)) -> Envelope:
        wid, pid = self.placement(worker)
        return self.wrap(ev.PlacementRejected(placement_id=pid, worker_id=wid, employer_id=EMPLOYER, reason="未到岗"),
                         wid, at, EMPLOYER)

    def end(self, worker: Envelope, on: date, reason: str = "resigned") -> Envelope:
        wid, pid = self.placement(worker)
        body = ev.PlacementEnded(placement_id=pid, worker_id=wid, end_date=on, reason=reason)  # type: ignore[arg-type]
        return self.wrap(body, wid, datetime.combine(on, datetime.min.time(), UTC), EMPLOYER)

    def followup(self, worker: Envelope, on: date, problems: tuple[str, ...] = (), followup_id: str | None = None
                 ) -> Envelope:
        wid, pid = self.placement(worker)
        body = ev.FollowUpRecorded(followup_id=followup_id or f"fu-{uuid.uuid4().hex[:8]}", placement_id=pid,
                                   worker_id=wid, date=on, channel="phone", employment_status="on_job",
                                   problems=list(problems))  # type: ignore[arg-type]
        return self.wrap(body, wid, datetime.combine(on, datetime.min.time(), UTC))


@pytest.fixture
def world() -> World:
    return World()


async def run(repo: InMemoryLedger, *batches: list[Envelope]) -> None:
    for batch in batches:
        for e in batch:
            repo.accept(e)
        await apply(repo, batch)


def statuses(repo: InMemoryLedger, events: list[Envelope]) -> list[str]:
    return [repo.status(e)[0] for e in events]


async def test_the_dispatch_story(world: World) -> None:
    """Brand → member → dispatch → 入职确认 → follow-ups (a wage arrears reported, then cleared) → early end."""
    repo = InMemoryLedger()
    brand, worker = world.brand(), world.worker()
    dispatch = world.dispatch([worker])
    start = (T0 + timedelta(days=2)).date()
    confirm = world.confirm(worker)
    arrears = world.followup(worker, start + timedelta(days=5), ("wage_arrears",))
    cleared = world.followup(worker, start + timedelta(days=12))
    end = world.end(worker, start + timedelta(days=20))
    story = [brand, worker, dispatch, confirm, arrears, cleared, end]
    await run(repo, *([e] for e in story))

    assert statuses(repo, story) == ["applied"] * len(story)
    wid, pid = world.placement(worker)
    assert repo.worker_records[wid].state == "separated"
    placement = repo.placement_records[pid]
    assert (placement.status, placement.start_date, placement.end_date) == ("ended", start, start + timedelta(days=20))
    assert (placement.first_followup_date, placement.last_followup_date) == (start + timedelta(days=5),
                                                                             start + timedelta(days=12))
    # A priority-group worker's confirmed placement accrues transport and social insurance, each once.
    assert sorted(repo.subsidies) == [f"social_insurance:{pid}", f"transport:{pid}"]
    assert len(repo.of_type("subsidy.accrued")) == 2
    arrears_alert = repo.alerts[f"wage_arrears:{pid}:{arrears.payload['followup_id']}"]
    assert arrears_alert["closed_at"] == datetime.combine(start + timedelta(days=12), datetime.min.time(),
                                                          arrears_alert["raised_at"].tzinfo)
    assert f"early_separation:{pid}" in repo.alerts
    assert sorted(a["payload"]["kind"] for a in repo.of_type("alert.raised")) == ["early_separation", "wage_arrears"]
    assert [a["payload"]["kind"] for a in repo.of_type("alert.closed")] == ["wage_arrears"]
    changed = repo.of_type("ledger.changed")
    assert {c["payload"]["cause_event_id"] for c in changed} == {str(e.event_id) for e in story}
    assert [h["type"] for h in repo.worker_history] == [e.type for e in story[1:]]


@pytest.mark.parametrize("one_batch", [False, True])
async def test_out_of_order_everything_waits_for_what_it_needs(world: World, one_batch: bool) -> None:
    """Across partitions each event arrives before the one it builds on (a worker's own events keep their
    partition's order): each waits, and all apply once the brand is here."""
    repo = InMemoryLedger()
    brand, worker = world.brand(), world.worker()
    dispatch = world.dispatch([worker])
    confirm = world.confirm(worker)
    followup = world.followup(worker, confirm.occurred_at.date() + timedelta(days=3))
    arrivals = [worker, confirm, followup, dispatch, brand]
    if one_batch:
        await run(repo, arrivals)
    else:
        await run(repo, *([e] for e in arrivals[:-1]))
        assert statuses(repo, arrivals) == ["accepted"] * 4 + ["unknown"]
        assert sorted(r["waits_for"].split(":")[0] for r in repo.deferred.values()) == [
            "brand", "brand", "placement", "placement"]
        await run(repo, [brand])
    assert statuses(repo, arrivals) == ["applied"] * 5
    assert not repo.deferred
    pid = world.placement(worker)[1]
    assert repo.placement_records[pid].status == "confirmed"
    assert repo.placement_records[pid].first_followup_date == followup.occurred_at.date()
    # Applied in the order they build on each other, whatever the order they came in.
    assert [h["type"] for h in repo.worker_history] == ["worker.registered", "dispatch.created",
                                                        "placement.confirmed", "followup.recorded"]


async def test_replayed_events_change_nothing(world: World) -> None:
    repo = InMemoryLedger()
    batch = [world.brand(), w := world.worker()]
    batch.append(world.dispatch([w]))
    await run(repo, batch)
    history, outbox = list(repo.worker_history), list(repo.outbox)
    await run(repo, batch)
    assert repo.worker_history == history and repo.outbox == outbox


async def test_illegal_transitions_are_rejected_with_reasons(world: World) -> None:
    repo = InMemoryLedger()
    brand, worker, busy = world.brand(), world.worker(), world.worker()
    await run(repo, [brand, worker, busy, world.dispatch([busy], "dsp-0")])
    dispatch = world.dispatch([worker, busy])
    early_followup = world.followup(worker, T0.date())
    end_before_confirm = world.end(worker, T0.date() + timedelta(days=1))
    stranger = world.confirm(worker, employer="emp-2")
    confirm = world.confirm(worker)
    twice = world.confirm(worker)
    busy_confirm = world.confirm(busy)
    await run(repo, [dispatch], [early_followup], [end_before_confirm], [stranger], [confirm], [twice], [busy_confirm])

    def reason(e: Envelope) -> str | None:
        status, why = repo.status(e)
        assert status == "rejected", (e.type, status)
        return why

    assert repo.status(dispatch)[0] == "applied" and repo.status(confirm)[0] == "applied"
    assert "follow-up service starts once the placement is confirmed" in str(reason(early_followup))
    assert "only a confirmed placement can end" in str(reason(end_before_confirm))
    assert reason(stranger) == "only the employer named on the dispatch may confirm or reject this placement"
    assert "only a dispatched placement can be confirmed" in str(reason(twice))
    # The second dispatch refused the busy worker (one active placement at a time): events about it never apply.
    busy_pid = world.placement(busy)[1]
    assert repo.dispatch_workers[busy_pid]["outcome"] == "rejected"
    assert str(reason(busy_confirm)).startswith("the dispatch refused this worker: worker is dispatched")
    assert not repo.subsidies or all(s.endswith(world.placement(worker)[1]) for s in repo.subsidies)


async def test_a_refused_registration_refuses_what_waited_for_it(world: World) -> None:
    repo = InMemoryLedger()
    await run(repo, [world.brand()], [world.brand_status("listed")], [world.brand_status("revoked")])
    worker = world.worker()
    dispatch = world.dispatch([worker], brand_id="b-2")
    late_brand = world.brand("b-2")
    member_of_revoked = world.worker()
    await run(repo, [dispatch], [worker], [member_of_revoked], [late_brand])
    assert repo.status(member_of_revoked)[0] == "rejected"
    assert "takes no new members" in str(repo.status(member_of_revoked)[1])
    # The worker's registration names b-1 (revoked): rejected, and the dispatch that waited for it shares its fate.
    assert repo.status(worker)[0] == "rejected"
    status, why = repo.status(dispatch)
    assert status == "rejected" and "registration was refused" in str(why)
    assert not repo.deferred


async def test_an_alert_closes_once_at_the_earliest_closing_event(world: World) -> None:
    """Unconfirmed-placement alerts the sweeper raised close when the confirmation arrives: an open one with an
    ``alert.closed``; one a later-dated event closed already moves to the earlier time, without a second event."""
    repo = InMemoryLedger()
    open_, closed = world.worker(), world.worker()
    await run(repo, [world.brand(), open_, closed, world.dispatch([open_, closed])])
    for worker, closed_at in ((open_, None), (closed, T0 + timedelta(days=20))):
        wid, pid = world.placement(worker)
        repo.alerts[f"unconfirmed_placement:{pid}"] = {
            "alert_id": f"unconfirmed_placement:{pid}", "kind": "unconfirmed_placement", "worker_id": wid,
            "placement_id": pid, "regions": ["460105"], "due_at": None, "raised_at": T0, "detail": None,
            "closed_at": closed_at}
    confirms = [world.confirm(w, at=T0 + timedelta(days=9)) for w in (open_, closed)]
    await run(repo, confirms, [world.followup(open_, (T0 + timedelta(days=10)).date())])
    for worker in (open_, closed):
        assert repo.alerts[f"unconfirmed_placement:{world.placement(worker)[1]}"]["closed_at"] == T0 + timedelta(days=9)
    assert [a["payload"]["placement_id"] for a in repo.of_type("alert.closed")] == [world.placement(open_)[1]]


async def test_a_duplicate_followup_id_is_rejected(world: World) -> None:
    repo = InMemoryLedger()
    worker = world.worker()
    await run(repo, [world.brand(), worker, world.dispatch([worker])], [world.confirm(worker)])
    day = (T0 + timedelta(days=5)).date()
    first, again = world.followup(worker, day, followup_id="fu-1"), world.followup(worker, day, followup_id="fu-1")
    await run(repo, [first], [again])
    assert repo.status(first)[0] == "applied"
    assert repo.status(again) == ("rejected", "follow-up fu-1 already recorded")


def _left(world: World, worker: Envelope, brand_id: str, at: datetime) -> Envelope:
    body = ev.WorkerBrandLeft(worker_id=worker.payload["worker_id"], brand_id=brand_id, reason="转行从事物流")
    return world.wrap(body, worker.payload["worker_id"], at)


def _joined(world: World, worker: Envelope, brand_id: str, at: datetime) -> Envelope:
    return world.wrap(ev.WorkerBrandJoined(worker_id=worker.payload["worker_id"], brand_id=brand_id),
                      worker.payload["worker_id"], at)


async def test_leaving_a_brand(world: World) -> None:
    """退出品牌: membership goes, with the reason in history; a revoked brand may be left; a non-member cannot."""
    repo = InMemoryLedger()
    worker = world.worker()
    await run(repo, [world.brand(), worker], [world.brand_status("listed"), world.brand_status("revoked")])
    leave = _left(world, worker, "b-1", T0 + timedelta(days=3))
    again = _left(world, worker, "b-1", T0 + timedelta(days=4))
    await run(repo, [leave], [again])
    wid = worker.payload["worker_id"]
    assert repo.status(leave)[0] == "applied" and repo.worker_records[wid].brand_ids == []
    assert repo.worker_history[-1]["changes"] == {"brand_ids": [["b-1"], []], "reason": [None, "转行从事物流"]}
    assert repo.status(again) == ("rejected", "the worker is not a member of brand b-1")
    after = repo.of_type("ledger.changed")[-1]["payload"]
    assert (after["before"]["brand_ids"], after["after"]["brand_ids"]) == (["b-1"], [])


async def test_a_join_older_than_the_leaving_stays_history(world: World) -> None:
    """An offline workstation syncs a join dated before the worker left: event time says they are out."""
    repo = InMemoryLedger()
    worker = world.worker()
    await run(repo, [world.brand(), world.brand("b-2"), worker])
    late_sync = _joined(world, worker, "b-2", T0 + timedelta(days=1))
    wid = worker.payload["worker_id"]
    await run(repo, [_joined(world, worker, "b-2", T0)], [_left(world, worker, "b-2", T0 + timedelta(days=2))],
              [late_sync])
    assert repo.status(late_sync)[0] == "applied" and repo.worker_records[wid].brand_ids == ["b-1"]
    await run(repo, [rejoin := _joined(world, worker, "b-2", T0 + timedelta(days=3))])
    assert repo.status(rejoin)[0] == "applied" and repo.worker_records[wid].brand_ids == ["b-1", "b-2"]


async def test_a_followup_adds_history_without_rewriting_the_worker(world: World) -> None:
    """跟踪服务 is the placement's record: the worker's history gains it, the worker's own record does not change
    (no new version, no ``ledger.changed`` of the worker), and its newest follow-up is read from the placements,
    whatever order follow-ups arrive in (issue 22)."""
    repo = InMemoryLedger()
    worker = world.worker()
    confirm = world.confirm(worker)
    start = confirm.occurred_at.date()
    await run(repo, [world.brand(), worker, world.dispatch([worker]), confirm])
    wid, pid = world.placement(worker)
    version, changes_before = repo.worker_records[wid].version, len(repo.of_type("ledger.changed"))
    later, earlier = world.followup(worker, start + timedelta(days=10)), world.followup(worker, start + timedelta(days=4))
    await run(repo, [later], [earlier])

    assert statuses(repo, [later, earlier]) == ["applied", "applied"]
    assert repo.worker_records[wid].version == version
    assert [c["payload"]["entity"] for c in repo.of_type("ledger.changed")[changes_before:]] == ["followup", "followup"]
    assert [(h["type"], h["changes"]) for h in repo.worker_history[-2:]] == [
        ("followup.recorded", {"last_followup_at": [None, (start + timedelta(days=10)).isoformat()],
                               "placement_id": [None, pid]}),
        ("followup.recorded", {"placement_id": [None, pid]})]
    assert await repo.last_followups([wid]) == {wid: (start + timedelta(days=10)).isoformat()}


class LockWatchingLedger(InMemoryLedger):
    """Records which workers each read locked."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[set[str], bool]] = []

    async def workers(self, worker_ids, *, lock=True):  # type: ignore[no-untyped-def]
        ids = set(worker_ids)
        self.reads.append((ids, lock))
        return await super().workers(ids, lock=lock)


async def test_a_followup_reads_its_worker_unlocked_but_what_it_wakes_locks_it(world: World) -> None:
    """A follow-up's worker is read without a lock. An event it wakes that changes the worker (a confirmation a
    replica deferred when it lost a race with the dispatch, waiting on the placement) reads the worker again,
    locked: a record read without a lock is never written back."""
    repo = LockWatchingLedger()
    worker = world.worker()
    await run(repo, [world.brand(), worker, world.dispatch([worker])])
    wid, pid = world.placement(worker)
    confirm = world.confirm(worker)
    repo.accept(confirm)
    repo.deferred[confirm.event_id] = {"event_id": confirm.event_id, "waits_for": f"placement:{pid}",
                                       "envelope": json.loads(confirm.to_bytes()), "seq": -1}
    followup = world.followup(worker, confirm.occurred_at.date() + timedelta(days=3))
    repo.reads.clear()
    await run(repo, [followup])

    assert statuses(repo, [confirm, followup]) == ["applied", "applied"]
    assert repo.worker_records[wid].state == "placed"
    assert [(ids, lock) for ids, lock in repo.reads if ids] == [({wid}, False), ({wid}, True)]


async def test_an_applied_worker_or_placement_event_s_receipt_is_its_history_row(world: World) -> None:
    """Issue 22: the ledger writes a receipt row only for what it rejects (or for event types without a history
    row); every applied worker and placement event is a history row under its event_id, which answers for it."""
    repo = InMemoryLedger()
    brand, worker = world.brand(), world.worker()
    dispatch, confirm = world.dispatch([worker]), world.confirm(worker)
    followup = world.followup(worker, confirm.occurred_at.date() + timedelta(days=3))
    early = world.end(worker, confirm.occurred_at.date() - timedelta(days=1))  # before the start: rejected
    story = [brand, worker, dispatch, confirm, followup, early]
    await run(repo, *([e] for e in story))

    assert statuses(repo, story) == ["applied"] * 5 + ["rejected"]
    from_history = [e for e in story if RULES[e.type].receipt_from_history]
    assert [e.type for e in from_history] == ["worker.registered", "placement.confirmed", "followup.recorded",
                                              "placement.ended"]
    kept = {r["event_id"]: r["status"] for r in repo.receipts.values() if r["status"] != "accepted"}
    assert kept == {brand.event_id: "applied", dispatch.event_id: "applied", early.event_id: "rejected"}
    applied = [e for e in from_history if e is not early]
    assert all(sum(h["event_id"] == e.event_id for h in repo.worker_history) == 1 for e in applied)
    # Replayed, they are recognised as decided all the same: nothing is applied twice.
    history = len(repo.worker_history)
    await run(repo, story)
    assert len(repo.worker_history) == history
