"""The ledger consumer: every source event → the real-name ledger, the brand library and placements.

One consumer owns brands, dispatches and worker topics, so a batch is applied in one transaction with
its offsets. Derived events (ledger changes, alerts, subsidies) go to a transactional outbox in the same
transaction; ``consumers.relay`` publishes them afterwards.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition
from pydantic import BaseModel, ValidationError

from consumers.base import BatchConsumer
from laowu.domain import alerts as alert_rules
from laowu.domain import brands as brand_rules
from laowu.domain import ids, lifecycle
from laowu.domain import subsidies as subsidy_rules
from laowu.domain import workers as worker_rules
from laowu.domain.errors import DomainError
from laowu.domain.identity import parse_id_number
from laowu.domain.ids import uuid5_str
from laowu.domain.outcome import Changes, Rejected
from laowu.privacy import Privacy
from laowu.store import dispatch as dstore
from laowu.store import ledger as store
from laowu.store import outbox as outbox_store
from laowu.store.errors import REFUSED_DATA
from laowu.store.ledger import row_of
from schemas import events as ev
from schemas.common import scrub
from schemas.envelope import Envelope
from schemas.events import PAYLOADS, EventType
from schemas.topics import ALERTS, BRANDS, DISPATCHES, LEDGER_CHANGES, SUBSIDIES, WORKERS

log = logging.getLogger(__name__)

Rule = Callable[[Any, dict[str, Any], datetime], tuple[Any, Changes]]

WORKER_RULES: dict[str, Rule] = {
    "worker.registered": worker_rules.register,
    "worker.updated": worker_rules.update,
    "worker.household_moved": worker_rules.move_household,
    "worker.certificate_added": worker_rules.add_certificate,
    "worker.training_completed": worker_rules.complete_training,
    "worker.brand_joined": worker_rules.join_brand,
}
BRAND_RULES: dict[str, Rule] = {
    "brand.registered": brand_rules.register,
    "brand.updated": brand_rules.update,
    "brand.status_changed": brand_rules.change_status,
}
PLACEMENT_RULES = {
    "placement.confirmed": lifecycle.confirm,
    "placement.rejected": lifecycle.reject,
    "placement.ended": lifecycle.end,
    "followup.recorded": lifecycle.record_followup,
}
REPAIR_EVERY_S = 2.0
CONSUMED = set(WORKER_RULES) | set(BRAND_RULES) | set(PLACEMENT_RULES) | {"dispatch.created"}


class InvalidEvent(Exception):
    """Wire-level problem: the message can never be applied, whatever the ledger holds."""


class Deferred(Exception):
    """The event depends on something not applied yet (its dispatch, or a worker's registration): it waits."""

    def __init__(self, waits_for: str) -> None:
        super().__init__(waits_for)
        self.waits_for = waits_for


def worker_view(w: worker_rules.WorkerRecord | None) -> dict[str, Any] | None:
    """What statistics need of a worker, before and after a change — no personal data."""
    if w is None:
        return None
    return {"worker_id": w.worker_id, "state": w.state, "brand_ids": list(w.brand_ids),
            "household_region": w.household_region, "priority_groups": list(w.priority_groups),
            "current_placement_id": w.current_placement_id, "registered_at": w.registered_at.isoformat()}


def placement_view(p: lifecycle.PlacementRecord | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return row_of(p)


class Work:
    """One batch's unit of work: records loaded once, changed in memory, written once."""

    def __init__(self) -> None:
        self.brands: dict[str, brand_rules.BrandRecord] = {}
        self.workers: dict[str, worker_rules.WorkerRecord] = {}
        self.placements: dict[str, lifecycle.PlacementRecord] = {}
        self.known_dispatches: set[str] = set()
        self.changed_brands: dict[str, brand_rules.BrandRecord] = {}
        self.changed_workers: dict[str, worker_rules.WorkerRecord] = {}
        self.changed_placements: dict[str, lifecycle.PlacementRecord] = {}
        self.brand_history: list[dict[str, Any]] = []
        self.worker_history: list[dict[str, Any]] = []
        self.receipts: list[dict[str, Any]] = []
        self.dispatches: list[dict[str, Any]] = []
        self.dispatch_workers: list[dict[str, Any]] = []
        self.followups: list[dict[str, Any]] = []
        self.followup_ids: set[str] = set()
        self.now = datetime.now(UTC).isoformat()
        self.alerts: list[dict[str, Any]] = []
        self.closures: list[tuple[str, tuple[str, ...], datetime]] = []
        self.accruals: list[dict[str, Any]] = []
        self.outbox: list[tuple[str, str, dict[str, Any]]] = []
        self.problem_placements: dict[str, tuple[str, list[str]]] = {}
        self.waiting: dict[str, list[Envelope]] = {}
        self.refused: dict[str, str] = {}
        # Read-your-writes: registrations rejected ('worker:<id>', 'brand:<id>' → reason), so what waits for them is
        # rejected too, and workers whose registration waits for a brand, so their other events wait behind it.
        self.refused_registrations: dict[str, str] = {}
        self.deferred_registrations: set[str] = set()
        self.decided_dispatches: list[uuid.UUID] = []
        self.deferred: dict[uuid.UUID, dict[str, Any]] = {}
        self.from_db: dict[uuid.UUID, str] = {}
        self.decided: set[uuid.UUID] = set()


class LedgerConsumer(BatchConsumer):
    group = "ledger"

    def __init__(self, *args: Any, privacy: Privacy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.privacy = privacy
        self.topics = [self.settings.topic(t.name) for t in (BRANDS, DISPATCHES, WORKERS)]
        self._next_repair = 0.0

    # ---- decoding -----------------------------------------------------------------------------
    def decode(self, msg: ConsumerRecord) -> Envelope:
        if msg.value is None:
            raise InvalidEvent("empty message (tombstone) on an event topic")
        try:
            # pydantic parses the bytes itself: no intermediate dict from json.loads on the hot path.
            env = Envelope.model_validate_json(msg.value)
        except ValidationError:
            raise InvalidEvent(_why_invalid(msg.value)) from None
        if env.type not in CONSUMED:
            raise InvalidEvent(f"{env.type} is a derived event and does not belong on {msg.topic}")
        entity = env.payload.get("dispatch_id") if env.type == "dispatch.created" else (
            env.payload.get("worker_id") or env.payload.get("brand_id"))
        if env.key != entity or (msg.key is not None and msg.key.decode("utf-8", "replace") != entity):
            raise InvalidEvent("partition key does not match the payload's worker_id/brand_id/dispatch_id")
        if env.type == "worker.registered":
            self._check_identity(env.payload)
        return env

    def _check_identity(self, p: dict[str, Any]) -> None:
        """A producer that bypassed the API must not be able to plant an inconsistent person."""
        try:
            id_number = self.privacy.cipher.decrypt(p["id_number_enc"], "id_number")
        except Exception:
            raise InvalidEvent("id_number_enc cannot be decrypted with any configured key") from None
        try:
            info = parse_id_number(id_number)
        except DomainError as exc:
            raise InvalidEvent(str(exc)) from None
        if self.privacy.worker_id(info.number) != p["worker_id"]:
            raise InvalidEvent("worker_id is not the keyed hash of the ID number")
        if info.sex != p["sex"] or info.birth_date.isoformat() != str(p["birth_date"]):
            raise InvalidEvent("sex or birth_date disagrees with the ID number")

    async def refuse(self, conn: asyncpg.Connection, msg: ConsumerRecord, reason: str) -> None:
        receipt = _receipt_for_invalid(msg, reason)
        if receipt:
            await store.decide(conn, [receipt])

    # ---- applying -----------------------------------------------------------------------------
    async def apply_batch(self, conn: asyncpg.Connection, records: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        work = Work()
        events: list[Envelope] = []
        for msgs in records.values():
            for msg in msgs:
                try:
                    events.append(self.decode(msg))
                except InvalidEvent as exc:
                    self.park(msg, str(exc))
                    receipt = _receipt_for_invalid(msg, str(exc))
                    if receipt:
                        work.receipts.append(receipt)
        # Brands, then each worker's own events (per-partition order kept: the sort is stable), then dispatches;
        # whatever arrives before what it needs waits in deferred_events and is applied as soon as that is here.
        events.sort(key=lambda e: 0 if e.type in BRAND_RULES else 2 if e.type == "dispatch.created" else 1)
        done = await store.decided_events(conn, [e.event_id for e in events])
        todo: list[Envelope] = []
        for e in events:
            if e.event_id not in done:
                done.add(e.event_id)
                todo.append(e)
        repaired = await self._due_repairs(conn)
        await self._load(conn, work, todo, repaired)
        # What already waits for a placement that is there is older than this batch: decided first, in order.
        self._wake(work, sorted(k for k in work.waiting if k.startswith("placement:") and k[10:] in work.placements))
        for e in todo:
            self._decide(work, e)
        self._wake(work, sorted(repaired))
        await self._save(conn, work)
        return len(work.receipts)

    def _decide(self, work: Work, e: Envelope) -> None:
        if e.event_id in work.decided:
            return
        try:
            entity = self._apply_event(work, e)
            work.receipts.append(_receipt(e, "applied", None, entity))
        except Rejected as exc:
            work.receipts.append(_receipt(e, "rejected", exc.reason, e.key))
            _note_refusal(work, e, exc.reason)
        except Deferred as wait:
            log.info("%s %s waits for %s", e.type, e.event_id, wait.waits_for)
            if e.type == "worker.registered":
                work.deferred_registrations.add(e.payload["worker_id"])
            if not any(w.event_id == e.event_id for w in work.waiting.get(wait.waits_for, [])):
                work.waiting.setdefault(wait.waits_for, []).append(e)
            work.deferred[e.event_id] = {"event_id": e.event_id, "waits_for": wait.waits_for,
                                         "envelope": json.loads(e.to_bytes())}
            return
        work.decided.add(e.event_id)
        if e.type == "worker.registered":
            work.deferred_registrations.discard(e.payload["worker_id"])
        elif e.type == "dispatch.created":
            work.decided_dispatches.append(e.event_id)
        self._wake(work, _unblocks(e))

    async def _due_repairs(self, conn: asyncpg.Connection) -> set[str]:
        """With several consumers in the group, one may defer an event for a worker that another has just
        registered, after that one looked for waiters: nobody would wake it. Every few seconds, wake what
        waits for something that is already in the ledger."""
        if time.monotonic() < self._next_repair:
            return set()
        self._next_repair = time.monotonic() + REPAIR_EVERY_S
        return await dstore.stale_satisfied_waits(conn, older_than_s=REPAIR_EVERY_S)

    def _wake(self, work: Work, keys: Iterable[str]) -> None:
        """Decide, in arrival order, what waited for each of ``keys``."""
        for key in keys:
            for waiting in work.waiting.pop(key, []):
                self._decide(work, waiting)

    async def idle(self) -> None:
        if time.monotonic() < self._next_repair:
            return

        async def repair() -> None:
            async with self.pool.acquire() as conn, conn.transaction():
                keys = await self._due_repairs(conn)
                if keys:
                    work = Work()
                    await self._load(conn, work, [], keys)
                    self._wake(work, sorted(keys))
                    await self._save(conn, work)
                    log.warning("woke %d deferred event(s) nobody had woken", len(work.receipts))

        try:
            await self._retry(repair)
        except REFUSED_DATA:
            # Housekeeping cannot tell which deferred event PostgreSQL refuses; stopping here would stop the ledger
            # at every restart, so those events stay deferred (and are tried again when their key is woken).
            log.exception("repair of deferred events refused by PostgreSQL; they stay deferred")

    async def _load(self, conn: asyncpg.Connection, work: Work, todo: list[Envelope], repaired: set[str]) -> None:
        brand_ids: set[str] = set()
        worker_ids: set[str] = set()
        placement_ids: set[str] = set()
        dispatch_ids: set[str] = set()
        for e in todo:
            p = e.payload
            if "brand_id" in p:
                brand_ids.add(p["brand_id"])
            brand_ids.update(p.get("brand_ids", []))
            if "worker_id" in p:
                worker_ids.add(p["worker_id"])
            if "placement_id" in p:
                placement_ids.add(p["placement_id"])
            if e.type == "dispatch.created":
                dispatch_ids.add(p["dispatch_id"])
                worker_ids.update(x["worker_id"] for x in p["placements"])
        # Only brands this batch changes are locked. The rest are read to refuse members of a closed brand; a
        # status change another replica is applying meanwhile commits after this batch and counts as later, as it
        # did before whenever this batch took the lock first (across partitions, processing order decides).
        # Locking every brand made the replicas queue behind each other's transactions: every registration names
        # one, and `make bench` measured 186 ms a batch waiting on that lock (pg_stat_statements).
        changing = {e.payload["brand_id"] for e in todo if e.type in BRAND_RULES}
        work.brands = await store.load_brands(conn, changing)
        work.brands.update(await store.load_brands(conn, brand_ids - changing, lock=False))
        work.workers = await store.load_workers(conn, worker_ids)
        work.placements = await dstore.load_placements(conn, placement_ids)
        work.known_dispatches = await dstore.existing_dispatches(conn, dispatch_ids)
        work.refused = await dstore.refusals(conn, placement_ids - set(work.placements))
        keys = {key for e in todo for key in _unblocks(e)} | repaired
        # A placement's events travel in order on their worker's partition, but one may have been deferred by a
        # replica that lost a race with the dispatch (it waits for the repair): a later event of the same placement
        # must not overtake it (a follow-up before its confirmation would be refused). Loaded with the rest.
        keys |= {f"placement:{e.payload['placement_id']}" for e in todo if e.type in PLACEMENT_RULES}
        while keys:  # what waited for this batch — and, transitively, what waited for those
            rows = await dstore.waiting_events(conn, keys)
            keys = set()
            for row in rows:
                if row["event_id"] in work.from_db:
                    continue
                try:
                    env = Envelope.model_validate(row["envelope"])
                except ValidationError as exc:
                    # Deferred by an older release under looser rules (issue 16 made text stricter): refused once,
                    # now, rather than failing every batch that wakes it, forever.
                    work.from_db[row["event_id"]] = row["waits_for"]
                    work.decided.add(row["event_id"])
                    work.receipts.append(_rejected_receipt(row["event_id"], row["envelope"],
                                                           f"invalid event: {_schema_error(exc)}"))
                    continue
                work.from_db[env.event_id] = row["waits_for"]
                work.waiting.setdefault(row["waits_for"], []).append(env)
                keys |= set(_unblocks(env))  # what waited for this one, once it applies
            named = {w for es in work.waiting.values() for e in es for w in _workers_named(e)}
            work.workers.update(await store.load_workers(conn, named - set(work.workers)))
            work.placements.update(await dstore.load_placements(
                conn, {e.payload["placement_id"] for es in work.waiting.values() for e in es
                       if "placement_id" in e.payload} - set(work.placements)))
            brands = {b for es in work.waiting.values() for e in es for b in _brands_named(e)} - set(work.brands)
            if brands:
                work.brands.update(await store.load_brands(conn, brands, lock=False))
        await self._load_missing(conn, work, [*todo, *(e for es in work.waiting.values() for e in es)])

    async def _load_missing(self, conn: asyncpg.Connection, work: Work, events: list[Envelope]) -> None:
        """For the brands and workers these events name that the ledger lacks (and this batch does not register):
        whether their registration was rejected, and which workers' registrations are waiting. Asked only when
        something is missing: on the common path nothing is."""
        # Brands are decided before any other event of a batch, dispatches after every worker event: what this
        # batch registers is settled by then. A worker's own events are not: one may precede a replayed copy of
        # the registration it waits behind, so those workers are asked about even if the batch registers them.
        coming_w = {e.payload["worker_id"] for e in events if e.type == "worker.registered"}
        coming_b = {e.payload["brand_id"] for e in events if e.type == "brand.registered"}
        missing_w = {e.payload["worker_id"] for e in events if e.type in WORKER_RULES and e.type != "worker.registered"}
        missing_w |= {w for e in events if e.type == "dispatch.created" for w in _workers_named(e)} - coming_w
        missing_w -= set(work.workers)
        missing_b = {b for e in events for b in _brands_named(e)} - set(work.brands) - coming_b
        if missing_w or missing_b:
            work.refused_registrations, work.deferred_registrations = await dstore.registrations_in_doubt(
                conn, missing_w, missing_b)

    def _apply_event(self, work: Work, e: Envelope) -> str:
        if e.type in BRAND_RULES:
            return self._apply_brand(work, e)
        if e.type == "dispatch.created":
            return self._apply_dispatch(work, e)
        if e.type in WORKER_RULES:
            _await_brands(work, e)
            _check_brands(e, work.brands)
            wid = e.payload["worker_id"]
            if wid not in work.workers and e.type != "worker.registered":
                _await_registration(work, wid)
            before = worker_view(work.workers.get(wid))
            worker, changes = WORKER_RULES[e.type](work.workers.get(wid), e.payload, e.occurred_at)
            # A household move concerns the region left as well as the one entered (feeds, statistics).
            left = (before["household_region"],) if before else ()
            self._worker_changed(work, e, worker, changes, before, left)
            return str(wid)
        return self._apply_placement(work, e)

    def _apply_brand(self, work: Work, e: Envelope) -> str:
        bid = e.payload["brand_id"]
        before = brand_rules.BrandRecord(**work.brands[bid].__dict__) if bid in work.brands else None
        brand, changes = BRAND_RULES[e.type](work.brands.get(bid), e.payload, e.occurred_at)
        brand.version += 1
        work.brands[bid] = work.changed_brands[bid] = brand
        work.brand_history.append(_history(e, "brand_id", bid, changes))
        self._changed(work, e, "brand", bid, [brand.region_code],
                      _brand_view(before), _brand_view(brand), key=bid)
        return str(bid)

    def _worker_changed(self, work: Work, e: Envelope, worker: worker_rules.WorkerRecord, changes: Changes,
                        before: dict[str, Any] | None, extra_regions: tuple[str, ...] = ()) -> None:
        worker.version += 1
        work.workers[worker.worker_id] = work.changed_workers[worker.worker_id] = worker
        work.worker_history.append(_history(e, "worker_id", worker.worker_id, changes))
        regions = list(dict.fromkeys([worker.household_region, *extra_regions]))
        self._changed(work, e, "worker", worker.worker_id, regions, before, worker_view(worker), key=worker.worker_id)

    def _changed(self, work: Work, e: Envelope, entity: str, entity_id: str, regions: list[str],
                 before: dict[str, Any] | None, after: dict[str, Any] | None, key: str) -> None:
        # The hottest path of the consumer: a plain dict in the shape of schemas.events.LedgerChanged (its
        # contract test and the stats sink validate it), not a model validated and serialised twice.
        body = {"entity": entity, "entity_id": entity_id, "cause_event_id": str(e.event_id), "cause_type": e.type,
                "regions": regions, "before": before, "after": after}
        self._emit(work, LEDGER_CHANGES.name, "ledger.changed", body, key, e.occurred_at,
                   uuid5_str(e.event_id, f"{entity}:{entity_id}"))

    def _emit(self, work: Work, topic: str, type: EventType, body: BaseModel | dict[str, Any], key: str, at: datetime,
              event_id: uuid.UUID | str) -> None:
        payload = body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
        work.outbox.append((self.settings.topic(topic), key, {
            "event_id": str(event_id), "type": type, "schema_version": 1, "occurred_at": at.isoformat(),
            "recorded_at": work.now, "source": "laowu.ledger", "key": key, "payload": payload}))

    def _apply_dispatch(self, work: Work, e: Envelope) -> str:
        d = e.payload
        did = d["dispatch_id"]
        if did in work.known_dispatches:
            raise Rejected(f"dispatch {did} already exists")
        _await_brands(work, e)
        refused: dict[str, str] = {}
        for x in d["placements"]:
            wid = x["worker_id"]
            if wid in work.workers:
                continue
            why = work.refused_registrations.get(f"worker:{wid}")
            if why is None or wid in work.deferred_registrations:
                # The API publishes dispatches of workers in the ledger or accepted: the registration is on its way.
                raise Deferred(f"worker:{wid}")
            refused[wid] = f"worker {wid}'s registration was refused: {why}"
        work.known_dispatches.add(did)
        brand_problem = brand_rules.closed_at(work.brands.get(d["brand_id"]), e.occurred_at)
        if brand_problem is None and refused and len(refused) == len(d["placements"]):
            brand_problem = next(iter(refused.values())) if len(refused) == 1 else (
                f"the registrations of all {len(refused)} workers were refused")
        work.dispatches.append({
            "dispatch_id": did, "organizer_id": d["organizer_id"], "brand_id": d["brand_id"], "mode": d["mode"],
            "origin_region": d["origin_region"], "destination_region": d["destination_region"],
            "employer_id": d["employer"]["employer_id"], "employer_name": d["employer"]["name"],
            "employer_uscc": d["employer"].get("uscc"), "positions": d.get("positions", []),
            "departure_date": d["departure_date"], "group_transport": d.get("group_transport", False),
            "status": "rejected" if brand_problem else "applied", "reason": brand_problem,
            "occurred_at": e.occurred_at, "source": e.source,
        })
        for item in d["placements"]:
            wid, pid = item["worker_id"], item["placement_id"]
            worker = work.workers.get(wid)
            reason = refused.get(wid) or brand_problem or lifecycle.dispatch_refusal(worker)
            if reason is None and pid in work.placements:
                reason = f"placement {pid} already exists"
            if reason is not None or worker is None:
                work.dispatch_workers.append({"dispatch_id": did, "worker_id": wid, "placement_id": pid,
                                              "outcome": "rejected", "reason": reason})
                work.refused.setdefault(pid, str(reason))
                continue
            before = worker_view(worker)
            placement, changes = lifecycle.dispatch(worker, d, pid)
            placement.version = 1
            work.placements[pid] = work.changed_placements[pid] = placement
            work.dispatch_workers.append({"dispatch_id": did, "worker_id": wid, "placement_id": pid,
                                          "outcome": "dispatched", "reason": None})
            self._worker_changed(work, e, worker, changes | {"dispatch_id": [None, did]}, before, (d["origin_region"],))
            self._changed(work, e, "placement", pid, [worker.household_region, d["origin_region"]], None,
                          placement_view(placement), key=wid)
        if brand_problem:
            raise Rejected(brand_problem)
        return str(did)

    def _apply_placement(self, work: Work, e: Envelope) -> str:
        p = e.payload
        wid, pid = p["worker_id"], p["placement_id"]
        worker, placement = work.workers.get(wid), work.placements.get(pid)
        if placement is None:
            refused = work.refused.get(pid)
            if refused:
                raise Rejected(f"the dispatch refused this worker: {refused}")
            raise Deferred(f"placement:{pid}")
        if e.type == "followup.recorded" and placement is not None and placement.worker_id == wid:
            if p["followup_id"] in work.followup_ids:
                raise Rejected(f"follow-up {p['followup_id']} already recorded")
        before_w, before_p = worker_view(worker), placement_view(placement)
        changes = PLACEMENT_RULES[e.type](worker, placement, p)
        assert worker is not None and placement is not None
        placement.version += 1
        work.changed_placements[pid] = placement
        regions = [worker.household_region, placement.origin_region]
        at = e.occurred_at
        if e.type in ("placement.confirmed", "placement.rejected"):
            work.closures.append((pid, ("unconfirmed_placement",), at))
        if e.type == "placement.confirmed":
            for accrual in subsidy_rules.on_confirm(placement):
                work.accruals.append(dstore.subsidy_row(accrual, placement, regions))
        if e.type == "placement.ended":
            alert = alert_rules.early_separation(placement)
            if alert:
                work.alerts.append(dstore.alert_row(alert, regions))
        if e.type == "followup.recorded":
            day = lifecycle._as_date(p["date"])
            work.followups.append({k: p.get(k) for k in (
                "followup_id", "placement_id", "worker_id", "date", "channel", "employment_status", "monthly_wage",
                "satisfaction")} | {"problems": p.get("problems", []), "services": p.get("services", []),
                                    "event_id": e.event_id, "source": e.source})
            work.followup_ids.add(p["followup_id"])
            work.closures.append((pid, ("followup_overdue",), alert_rules.day_start(day)))
            work.problem_placements[pid] = (wid, regions)
        self._worker_changed(work, e, worker, changes | {"placement_id": [None, pid]}, before_w, (placement.origin_region,))
        self._changed(work, e, "followup" if e.type == "followup.recorded" else "placement", pid, regions, before_p,
                      placement_view(placement), key=wid)
        return str(wid)

    async def _problem_alerts(self, conn: asyncpg.Connection, work: Work) -> None:
        """Recompute wage-arrears/injury alerts of the placements that got follow-ups, from all their follow-ups."""
        if not work.problem_placements:
            return
        facts = await dstore.followups_of(conn, work.problem_placements)
        rows = []
        for pid, (wid, regions) in work.problem_placements.items():
            rows += [dstore.alert_row(a, regions) for a in alert_rules.problem_alerts(pid, wid, facts.get(pid, []))]
        by_id = {r["alert_id"]: r for r in rows}
        for changed in await dstore.upsert_alerts(conn, rows):
            row = by_id[changed["alert_id"]]
            if changed["inserted"]:
                self._emit(work, ALERTS.name, "alert.raised", _alert_event(row), row["worker_id"], row["raised_at"],
                           ids.alert_raised_id(row["alert_id"]))
            if changed["closed_at"] is not None:
                self._emit(work, ALERTS.name, "alert.closed", _closed_event(row), row["worker_id"], changed["closed_at"],
                           ids.alert_closed_id(row["alert_id"]))

    async def _save(self, conn: asyncpg.Connection, work: Work) -> None:
        await store.save_brands(conn, list(work.changed_brands.values()))
        await store.save_workers(conn, list(work.changed_workers.values()))
        await dstore.insert(conn, "dispatches", work.dispatches)
        await dstore.insert(conn, "dispatch_workers", work.dispatch_workers)
        await dstore.save_placements(conn, list(work.changed_placements.values()))
        await dstore.insert(conn, "followups", work.followups)
        await store.append_history(conn, "brand_events", work.brand_history)
        await store.append_history(conn, "worker_events", work.worker_history)
        for closed in await dstore.close_alerts(conn, work.closures):
            at = closed.pop("at")
            self._emit(work, ALERTS.name, "alert.closed", ev.AlertClosed(**closed), closed["worker_id"], at,
                       ids.alert_closed_id(closed["alert_id"]))
        await self._problem_alerts(conn, work)
        raised = set(await dstore.raise_alerts(conn, work.alerts))
        for row in work.alerts:
            if row["alert_id"] in raised:
                self._emit(work, ALERTS.name, "alert.raised", _alert_event(row), row["worker_id"], row["raised_at"],
                           ids.alert_raised_id(row["alert_id"]))
        accrued = set(await dstore.accrue(conn, work.accruals))
        for row in work.accruals:
            if row["subsidy_id"] in accrued:
                self._emit(work, SUBSIDIES.name, "subsidy.accrued", _subsidy_event(row), row["worker_id"],
                           row["accrued_at"], ids.subsidy_accrued_id(row["subsidy_id"]))
        await store.decide(conn, work.receipts)
        await outbox_store.enqueue(conn, work.outbox)
        # A row leaves when its event was decided, or when it now waits for something else; a row that still
        # waits for the same thing stays, so events keep their arrival order (a duplicate copy adds nothing).
        moved = [eid for eid, row in work.deferred.items()
                 if eid in work.from_db and eid not in work.decided and work.from_db[eid] != row["waits_for"]]
        await dstore.resolve(conn, [eid for eid in (*work.from_db, *work.deferred) if eid in work.decided] + moved)
        await dstore.defer(conn, [row for eid, row in work.deferred.items() if eid not in work.decided])
        await dstore.forget_accepted_placements(conn, work.decided_dispatches)


def _unblocks(e: Envelope) -> list[str]:
    """What a decided event may have been awaited as (rejected, it ends the wait with a rejection)."""
    if e.type == "worker.registered":
        return [f"worker:{e.payload['worker_id']}"]
    if e.type == "brand.registered":
        return [f"brand:{e.payload['brand_id']}"]
    if e.type == "dispatch.created":
        return [f"placement:{x['placement_id']}" for x in e.payload["placements"]]
    return []


def _brands_named(e: Envelope) -> list[str]:
    """The brands a worker event or dispatch needs (a brand's own events need none)."""
    if e.type in BRAND_RULES:
        return []
    named = list(e.payload.get("brand_ids", []))
    if e.type in ("worker.brand_joined", "dispatch.created"):
        named.append(e.payload["brand_id"])
    return named


def _await_brands(work: Work, e: Envelope) -> None:
    """A brand not in the ledger was accepted (the API let the event through on that promise): wait for its
    registration, or share its fate if it was rejected."""
    for bid in _brands_named(e):
        if bid not in work.brands:
            why = work.refused_registrations.get(f"brand:{bid}")
            if why is not None:
                raise Rejected(f"brand {bid}'s registration was refused: {why}")
            raise Deferred(f"brand:{bid}")


def _await_registration(work: Work, wid: str) -> None:
    """An event about a worker not in the ledger: wait behind a registration that waits itself, share the fate of
    one that was rejected; otherwise the rules refuse the unknown worker as before."""
    if wid in work.deferred_registrations:
        raise Deferred(f"worker:{wid}")
    why = work.refused_registrations.get(f"worker:{wid}")
    if why is not None:
        raise Rejected(f"worker {wid}'s registration was refused: {why}")


def _note_refusal(work: Work, e: Envelope, reason: str) -> None:
    """A rejected registration of something the ledger lacks: what waits for it is rejected with this reason."""
    if e.type == "worker.registered" and e.payload["worker_id"] not in work.workers:
        work.refused_registrations[f"worker:{e.payload['worker_id']}"] = reason
        work.deferred_registrations.discard(e.payload["worker_id"])
    elif e.type == "brand.registered" and e.payload["brand_id"] not in work.brands:
        work.refused_registrations[f"brand:{e.payload['brand_id']}"] = reason


def _workers_named(e: Envelope) -> list[str]:
    if e.type == "dispatch.created":
        return [x["worker_id"] for x in e.payload["placements"]]
    return [e.payload["worker_id"]] if "worker_id" in e.payload else []


def _brand_view(b: brand_rules.BrandRecord | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {k: getattr(b, k) for k in ("brand_id", "name", "region_code", "category", "level", "status")}


def _alert_event(row: dict[str, Any]) -> ev.AlertRaised:
    return ev.AlertRaised(alert_id=row["alert_id"], kind=row["kind"], worker_id=row["worker_id"],
                          placement_id=row["placement_id"], regions=row["regions"], due_at=row.get("due_at"))


def _closed_event(row: dict[str, Any]) -> ev.AlertClosed:
    return ev.AlertClosed(alert_id=row["alert_id"], kind=row["kind"], worker_id=row["worker_id"],
                          placement_id=row["placement_id"], regions=row["regions"])


def _subsidy_event(row: dict[str, Any]) -> ev.SubsidyAccrued:
    return ev.SubsidyAccrued(kind=row["kind"], worker_id=row["worker_id"], organization_id=row["organization_id"],
                             placement_id=row["placement_id"], amount=row["amount"], rule_version=row["rule_version"])


def _check_brands(e: Envelope, brands: dict[str, brand_rules.BrandRecord]) -> None:
    for bid in _brands_named(e):
        closed = brand_rules.closed_at(brands.get(bid), e.occurred_at)
        if closed:
            raise Rejected(f"{closed} and takes no new members")


def _history(e: Envelope, entity_col: str, entity_id: str, changes: Changes) -> dict[str, Any]:
    return {
        entity_col: entity_id,
        "event_id": e.event_id,
        "type": e.type,
        "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
        "source": e.source,
        "actor": e.actor.model_dump() if e.actor else None,
        "changes": changes,
    }


def _receipt(e: Envelope, status: str, reason: str | None, entity: str) -> dict[str, Any]:
    return {"event_id": e.event_id, "type": e.type, "status": status, "reason": reason,
            "source": e.source, "entity_id": entity}


def _why_invalid(value: bytes) -> str:
    """The reason a message failed validation, in the words a sender can act on (the slow path, bad data only)."""
    try:
        raw = json.loads(value)
    except (ValueError, RecursionError) as exc:  # deep nesting is an attack, not a bug of ours
        return f"undecodable: not UTF-8 JSON ({type(exc).__name__}: {str(exc)[:200]})"
    if not isinstance(raw, dict):
        return "undecodable: not a JSON object"
    if raw.get("type") not in PAYLOADS:
        return f"unknown event type {str(raw.get('type'))[:64]!r}"
    try:
        Envelope.model_validate(raw)
    except ValidationError as exc:
        return _schema_error(exc)
    return "schema: the envelope does not validate from its JSON text"


def _schema_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "envelope"
    return f"schema: {where}: {first['msg']} ({exc.error_count()} error(s))"


def _receipt_for_invalid(msg: ConsumerRecord, reason: str) -> dict[str, Any] | None:
    """If the broken message still names its event_id, let its sender learn that it was rejected."""
    try:
        raw = json.loads(msg.value)
        event_id = uuid.UUID(str(raw["event_id"]))
    except Exception:
        return None
    return _rejected_receipt(event_id, raw, f"invalid event: {reason}")


def _rejected_receipt(event_id: uuid.UUID, raw: Any, reason: str) -> dict[str, Any]:
    """The receipt of an event refused as it stands; its own text is scrubbed so that refusing it cannot fail."""
    raw = raw if isinstance(raw, dict) else {}
    return {"event_id": event_id, "type": scrub(str(raw.get("type", "unknown")))[:64], "status": "rejected",
            "reason": scrub(reason), "source": scrub(str(raw.get("source", "")))[:64], "entity_id": None}
