"""How the ledger's state is loaded and its decisions saved: one plan, two stores.

``Repository.load`` is the plan — which records a batch's events name, what waits for them (transitively), what
is in doubt about registrations the ledger lacks — over a handful of primitive reads that each store implements:
``ledger.postgres`` (the system of record, inside the batch's transaction) and ``ledger.memory`` (a fake for
unit tests). ``apply`` is one batch: load, ``decide``, save.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from laowu.domain.agreements import AgreementRecord
from laowu.domain.brands import BrandRecord
from laowu.domain.casework import Case
from laowu.domain.demands import DemandRecord
from laowu.domain.lifecycle import PlacementRecord
from laowu.domain.organizations import OrganizationRecord
from laowu.domain.subsidy_claims import Budget, ClaimRecord
from laowu.domain.workers import WorkerRecord
from laowu.ledger import deferral
from laowu.ledger.decide import Decision, decide
from laowu.ledger.rule import FACTS_OF
from laowu.ledger.rules import RULES
from laowu.ledger.state import AlertFact, FollowUpFact, LedgerState
from schemas.envelope import Envelope


def schema_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "envelope"
    return f"schema: {where}: {first['msg']} ({exc.error_count()} error(s))"


class Repository(ABC):
    # ---- primitive reads ----------------------------------------------------------------------
    @abstractmethod
    async def decided_events(self, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Events already applied or rejected: a replayed or re-published copy must be a no-op."""

    @abstractmethod
    async def brands(self, brand_ids: Iterable[str], *, lock: bool) -> dict[str, BrandRecord]: ...

    @abstractmethod
    async def agreements(self, agreement_ids: Iterable[str]) -> dict[str, AgreementRecord]:
        """Cooperation agreements (劳务协作) by id, locked where the store locks (issue 19)."""

    @abstractmethod
    async def workers(self, worker_ids: Iterable[str], *, lock: bool = True) -> dict[str, WorkerRecord]: ...

    @abstractmethod
    async def last_followups(self, worker_ids: Iterable[str]) -> dict[str, str | None]:
        """``WorkerRecord.last_followup_at`` (derived, never stored) of these workers."""

    @abstractmethod
    async def placements(self, placement_ids: Iterable[str]) -> dict[str, PlacementRecord]: ...

    @abstractmethod
    async def existing_dispatches(self, dispatch_ids: Iterable[str]) -> set[str]: ...

    @abstractmethod
    async def refused_placements(self, placement_ids: Iterable[str]) -> dict[str, str]: ...

    @abstractmethod
    async def waiting_events(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        """Stored deferred events waiting for any of ``keys``, oldest first: ``{event_id, waits_for, envelope}``."""

    @abstractmethod
    async def registrations_in_doubt(self, worker_ids: Iterable[str],
                                     brand_ids: Iterable[str]) -> tuple[dict[str, str], set[str]]:
        """For brands and workers the ledger lacks: registrations rejected (``kind:id`` → why) and workers whose
        registration waits."""

    @abstractmethod
    async def placement_facts(self, alerts: Iterable[str], subsidies: Iterable[str], followups: Iterable[str]) -> tuple[
            dict[str, AlertFact], set[str], dict[str, list[FollowUpFact]]]:
        """The alerts, the accrued subsidy ids and the follow-ups of (each its own set of) placements."""

    @abstractmethod
    async def cases(self, alert_ids: Iterable[str]) -> dict[str, Case]:
        """Alerts as cases (issue 20): the alert's own facts and its casework so far."""

    @abstractmethod
    async def demands(self, demand_ids: Iterable[str]) -> dict[str, DemandRecord]:
        """Job demands, locked for the batch (two replicas filling one demand count one after the other)."""

    @abstractmethod
    async def refused_postings(self, demand_ids: Iterable[str]) -> dict[str, str]:
        """Demands the ledger lacks whose posting was rejected, with why."""

    @abstractmethod
    async def stale_satisfied_waits(self, older_than_s: float) -> set[str]:
        """Keys deferred events have waited for longer than ``older_than_s`` although they are settled."""

    @abstractmethod
    async def organizations(self, org_ids: Iterable[str], *, lock: bool) -> dict[str, OrganizationRecord]:
        """Registered organizations among ``org_ids``, locked where ``lock`` (the batch changes them)."""

    @abstractmethod
    async def new_organizations(self, org_ids: Iterable[str]) -> dict[str, OrganizationRecord]:
        """``org_ids`` the registry lacked when read: the right to create each taken (a first use and a
        registration may race), then whichever another replica created meanwhile, locked."""

    @abstractmethod
    async def claims(self, subsidy_ids: Iterable[str]) -> dict[str, ClaimRecord]:
        """Entitlements with where their workflow stands (locked)."""

    @abstractmethod
    async def rivals(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], dict[str, str]]:
        """For (worker, kind, period): the person's entitlements in a workflow and their status, the keys locked
        so that two consumers cannot both grant one person's period."""

    @abstractmethod
    async def budgets(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Budget]:
        """(rule region, year) → the budget (from the rules) with what is committed and paid (locked)."""

    # ---- writing ------------------------------------------------------------------------------
    @abstractmethod
    async def save(self, decision: Decision) -> None: ...

    # ---- the plan -----------------------------------------------------------------------------
    async def load(self, todo: Sequence[Envelope], wake: Iterable[str] = ()) -> LedgerState:
        s = LedgerState()
        brand_ids: set[str] = set()
        worker_ids: set[str] = set()
        reading: set[str] = set()  # named only by events that add to their history: read, not locked
        placement_ids: set[str] = set()
        dispatch_ids: set[str] = set()
        alert_ids: set[str] = set()
        demand_ids: set[str] = set()
        changing: set[str] = set()
        agreement_ids = {a for e in todo if (a := _agreement_named(e)) is not None}
        for e in todo:
            rule = RULES[e.type]
            if rule.kind == "brand":
                changing.add(e.payload["brand_id"])
            brand_ids.update(deferral.brands_named(e))
            (reading if rule.history_only else worker_ids).update(deferral.workers_named(e))
            if rule.kind == "placement":
                placement_ids.add(e.payload["placement_id"])
            elif rule.kind == "dispatch":
                dispatch_ids.add(e.payload["dispatch_id"])
            elif rule.kind == "case":
                alert_ids.add(e.payload["alert_id"])
            if (named := _demand_named(e)) is not None:
                demand_ids.add(named)
        # Only brands this batch changes are locked. The rest are read to refuse members of a closed brand; a
        # status change another replica is applying meanwhile commits after this batch and counts as later, as it
        # did before whenever this batch took the lock first (across partitions, processing order decides).
        # Locking every brand made the replicas queue behind each other's transactions: every registration names
        # one, and `make bench` measured 186 ms a batch waiting on that lock (pg_stat_statements).
        s.brands = await self.brands(changing, lock=True)
        s.brands.update(await self.brands(brand_ids - changing, lock=False))
        s.agreements = await self.agreements(agreement_ids) if agreement_ids else {}
        s.workers = await self.workers(worker_ids)
        # A follow-up reads its worker's region and newest follow-up; neither is what another replica's dispatch
        # of that worker changes. Locking it made follow-ups queue behind the dispatches of the other replica.
        if reading - worker_ids:
            s.workers.update(await self.workers(reading - worker_ids, lock=False))
            s.unlocked_workers = {w for w in reading - worker_ids if w in s.workers}
        s.placements = await self.placements(placement_ids)
        s.dispatches = await self.existing_dispatches(dispatch_ids)
        s.refused_placements = await self.refused_placements(placement_ids - set(s.placements))
        if alert_ids:
            s.cases = await self.cases(alert_ids)
        keys = {key for e in todo for key in deferral.unblocks(e)} | set(wake)
        # A placement's events travel in order on their worker's partition, but one may have been deferred by a
        # replica that lost a race with the dispatch (it waits for the repair): a later event of the same placement
        # must not overtake it (a follow-up before its confirmation would be refused). Loaded with the rest.
        keys |= {k for e in todo if (k := deferral.placement_key(e)) is not None}
        while keys:  # what waited for this batch — and, transitively, what waited for those
            keys = await self._load_waiting(s, keys)
        waiting = [e for es in s.waiting.values() for e in es]
        demand_ids |= {d for e in waiting if (d := _demand_named(e)) is not None}
        # 未到岗 gives a post back: the demands of the placements such events name (known once those are loaded)
        demand_ids |= {str(pl.demand_id) for e in [*todo, *waiting] if RULES[e.type].frees_post
                       and (pl := s.placements.get(e.payload["placement_id"])) is not None and pl.demand_id}
        s.demands = await self.demands(demand_ids)
        await self._load_in_doubt(s, [*todo, *waiting])
        coming = {e.payload["demand_id"] for e in [*todo, *waiting] if RULES[e.type].kind == "demand"}
        if missing := demand_ids - set(s.demands) - coming:  # a dispatch naming a posting the ledger refused
            s.refused_registrations.update(
                {f"demand:{d}": why for d, why in (await self.refused_postings(missing)).items()})
        await self._load_registry(s, [*todo, *waiting])
        followed = {w for e in [*todo, *waiting] if RULES[e.type].history_only
                    for w in deferral.workers_named(e)} & s.workers.keys()
        if followed:
            for wid, day in (await self.last_followups(followed)).items():
                s.workers[wid].last_followup_at = day
        wanted: dict[str, set[str]] = {"alerts": set(), "subsidies": set(), "followups": set()}
        for e in [*todo, *waiting]:
            rule = RULES[e.type]
            for fact in FACTS_OF.get(rule.effects, ()) if rule.effects else ():
                wanted[fact].add(e.payload["placement_id"])
        if any(wanted.values()):
            s.alerts, s.subsidies, s.followups = await self.placement_facts(
                wanted["alerts"], wanted["subsidies"], wanted["followups"])
        return s

    async def _load_registry(self, s: LedgerState, events: list[Envelope]) -> None:
        """Organizations registered, verified or named by a dispatch (first use); claims moved, with the person's
        rival entitlements and the budgets they draw on (issue 21). Nothing is read for a batch without them."""
        changing: set[str] = set()  # registered, verified…: locked
        named: set[str] = set()  # named by a dispatch: only whether they exist matters, unless they do not
        claim_ids: set[str] = set()
        for e in events:
            kind = RULES[e.type].kind
            if kind == "organization":
                changing.add(e.payload["org_id"])
            elif kind == "dispatch":
                named.update((e.payload["organizer_id"], e.payload["employer"]["employer_id"]))
            elif kind == "claim":
                claim_ids.add(e.payload["subsidy_id"])
        # As with brands: a dispatch names the same few organizers and employers as every other dispatch, and
        # locking them made the replicas queue behind each other (`make bench`, 2026-12-04: 20 µs an event, 105 ms
        # a batch, waiting on that lock). Only those the batch changes or creates are locked.
        if changing:
            s.organizations = await self.organizations(changing, lock=True)
        if named - changing:
            s.organizations.update(await self.organizations(named - changing, lock=False))
        if missing := (changing | named) - s.organizations.keys():
            s.organizations.update(await self.new_organizations(missing))
        if claim_ids:
            s.claims = await self.claims(claim_ids)
            s.rivals = await self.rivals({c.rival_key for c in s.claims.values()})
            s.budgets = await self.budgets({c.budget_key for c in s.claims.values()})

    async def _load_waiting(self, s: LedgerState, keys: set[str]) -> set[str]:
        """Load what waits for ``keys`` and the records it names; returns the keys those events may unblock."""
        more: set[str] = set()
        for row in await self.waiting_events(keys):
            if row["event_id"] in s.stored_waits:
                continue
            s.stored_waits[row["event_id"]] = row["waits_for"]
            try:
                env = Envelope.model_validate(row["envelope"])
            except ValidationError as exc:
                s.unreadable_waits.append((row["event_id"], row["envelope"], schema_error(exc)))
                continue
            s.waiting.setdefault(row["waits_for"], []).append(env)
            more |= set(deferral.unblocks(env))  # what waited for this one, once it applies
        events = [e for es in s.waiting.values() for e in es]
        named = {w for e in events if not RULES[e.type].history_only for w in deferral.workers_named(e)}
        # What a woken event changes is locked, even where a follow-up of this batch read it without a lock.
        locking = named - (set(s.workers) - s.unlocked_workers)
        s.workers.update(await self.workers(locking))
        s.unlocked_workers -= locking
        reading = {w for e in events if RULES[e.type].history_only for w in deferral.workers_named(e)} - set(s.workers)
        if reading:
            s.workers.update(read := await self.workers(reading, lock=False))
            s.unlocked_workers |= set(read)
        pids = {e.payload["placement_id"] for e in events if RULES[e.type].kind == "placement"} - set(s.placements)
        s.placements.update(await self.placements(pids))
        brands = {b for e in events for b in deferral.brands_named(e)} - set(s.brands)
        if brands:
            s.brands.update(await self.brands(brands, lock=False))
        agreements = {a for e in events if (a := _agreement_named(e)) is not None} - set(s.agreements)
        if agreements:
            s.agreements.update(await self.agreements(agreements))
        return more

    async def _load_in_doubt(self, s: LedgerState, events: list[Envelope]) -> None:
        """For the brands and workers these events name that the ledger lacks (and this batch does not register):
        whether their registration was rejected, and which workers' registrations are waiting. Asked only when
        something is missing: on the common path nothing is."""
        # Brands are decided before any other event of a batch, dispatches after every worker event: what this
        # batch registers is settled by then. A worker's own events are not: one may precede a replayed copy of
        # the registration it waits behind, so those workers are asked about even if the batch registers them.
        coming_w = {w for e in events if (w := deferral.registers_worker(e)) is not None}
        coming_b = {b for e in events if (b := deferral.registers_brand(e)) is not None}
        missing_w = {e.payload["worker_id"] for e in events
                     if RULES[e.type].kind == "worker" and deferral.registers_worker(e) is None}
        missing_w |= {w for e in events if RULES[e.type].kind == "dispatch" for w in deferral.workers_named(e)} - coming_w
        missing_w -= set(s.workers)
        missing_b = {b for e in events for b in deferral.brands_named(e)} - set(s.brands) - coming_b
        if missing_w or missing_b:
            s.refused_registrations, s.deferred_registrations = await self.registrations_in_doubt(missing_w, missing_b)


async def apply(repo: Repository, events: Sequence[Envelope], wake: Iterable[str] = (),
                now: datetime | None = None, refused: Sequence[dict[str, Any]] = ()) -> Decision:
    """One batch: drop what was decided before (replays), load, decide, save. Brands first, then each worker's
    own events (per-partition order kept: the sort is stable), then dispatches; whatever arrives before what it
    needs waits and is applied as soon as that is here. ``refused``: receipts of messages the wire refused, saved
    with the rest (one write of receipts a batch)."""
    ordered = sorted(events, key=_phase)
    done = await repo.decided_events([e.event_id for e in ordered])
    todo: list[Envelope] = []
    for e in ordered:
        if e.event_id not in done:
            done.add(e.event_id)
            todo.append(e)
    wake = set(wake)
    state = await repo.load(todo, wake)
    decision = decide(state, todo, wake, now)
    decision.receipts[:0] = refused
    await repo.save(decision)
    return decision


def _phase(e: Envelope) -> int:
    """The library, the agreements, the registry and the demands first; a dispatch after the workers it names; casework and a
    subsidy's workflow after the dispatches and placements they stem from."""
    return _PHASES.get(RULES[e.type].kind, 1)


_PHASES = {"brand": 0, "agreement": 0, "demand": 0, "organization": 0, "dispatch": 2, "case": 3, "claim": 3}


def _demand_named(e: Envelope) -> str | None:
    """The job demand an event is about or fills (a demand's own events, a dispatch naming one)."""
    kind = RULES[e.type].kind
    return e.payload.get("demand_id") if kind in ("demand", "dispatch") else None


def _agreement_named(e: Envelope) -> str | None:
    """The cooperation agreement an event changes, or the one a dispatch falls under (issue 19)."""
    kind = RULES[e.type].kind
    if kind == "agreement" or kind == "dispatch":
        return e.payload.get("agreement_id") or None
    return None
