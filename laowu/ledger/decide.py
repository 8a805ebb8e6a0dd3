"""``decide(state, events)``: the ledger's verdict on a batch of events, computed in memory, without I/O.

Returns what to write — changed records, history, receipts, derived events, alerts, subsidies, deferrals — as a
``Decision``; a repository loads the ``LedgerState`` before and saves the ``Decision`` after, in one transaction
with the consumed offsets. Order: events are decided in the order given (the consumer sorts brands first,
dispatches last, keeping each partition's order); what waited for an event is decided right after it
(``deferral``).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from laowu.domain import agreements as agreement_rules
from laowu.domain import alerts as alert_rules
from laowu.domain import brands as brand_rules
from laowu.domain import demands as demand_rules
from laowu.domain import lifecycle
from laowu.domain.brands import BrandRecord
from laowu.domain.casework import Case
from laowu.domain.demands import DemandRecord
from laowu.domain.lifecycle import PlacementRecord
from laowu.domain.outcome import Changes, Rejected
from laowu.domain.workers import DERIVED_FIELDS, WorkerRecord
from laowu.ledger import deferral, derived, registry, rows
from laowu.ledger.deferral import Deferred
from laowu.ledger.registry import RegistryDecision
from laowu.ledger.rules import RULES, Effects
from laowu.ledger.state import AlertFact, FollowUpFact, LedgerState
from schemas.envelope import Envelope

log = logging.getLogger(__name__)

SOURCE = "laowu.ledger"


@dataclass
class Decision:
    """Everything a batch writes; the repository saves it as it stands."""

    receipts: list[dict[str, Any]] = field(default_factory=list)
    """Every event decided, applied or rejected (what the metrics count); ``stored_receipts`` is what is written."""
    brands: dict[str, BrandRecord] = field(default_factory=dict)
    agreements: dict[str, agreement_rules.AgreementRecord] = field(default_factory=dict)
    workers: dict[str, WorkerRecord] = field(default_factory=dict)
    placements: dict[str, PlacementRecord] = field(default_factory=dict)
    brand_history: list[dict[str, Any]] = field(default_factory=list)
    worker_history: list[dict[str, Any]] = field(default_factory=list)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    dispatch_workers: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    """New alert rows."""
    alert_closures: dict[str, datetime | None] = field(default_factory=dict)
    """Existing alerts whose ``closed_at`` changes (``None``: open again)."""
    subsidies: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[derived.Outgoing] = field(default_factory=list)
    deferred: list[dict[str, Any]] = field(default_factory=list)
    """Events that now wait: ``{event_id, waits_for, envelope}``."""
    resolved: list[uuid.UUID] = field(default_factory=list)
    """Stored waiting events to forget (decided, or waiting for something else now)."""
    decided_dispatches: list[uuid.UUID] = field(default_factory=list)
    cases: dict[str, Case] = field(default_factory=dict)
    """Cases a casework event changed (issue 20)."""
    case_history: list[dict[str, Any]] = field(default_factory=list)
    demands: dict[str, DemandRecord] = field(default_factory=dict)
    """Job demands posted, closed or filled by this batch."""
    registry: RegistryDecision = field(default_factory=RegistryDecision)
    """Organizations and subsidy claims (issue 21)."""

    def stored_receipts(self) -> list[dict[str, Any]]:
        """The receipts that need rows of their own: an applied event whose history row is its receipt
        (``Rule.receipt_from_history``) has none."""
        return [r for r in self.receipts if r["status"] != "applied" or not _from_history(r["type"])]


def decide(state: LedgerState, events: Sequence[Envelope], wake: Iterable[str] = (), now: datetime | None = None) -> Decision:
    """Decide ``events`` (fresh, not decided before) over ``state``, then what waits for ``wake`` (keys the repair
    found satisfied). ``state`` is changed in place."""
    d = _Decider(state, (now or datetime.now(UTC)).isoformat())
    for event_id, raw, why in state.unreadable_waits:
        # Deferred by an older release under looser rules: refused once, now, rather than failing every batch
        # that wakes it, forever.
        d.decided.add(event_id)
        d.out.receipts.append(rows.rejected_receipt(event_id, raw, f"invalid event: {why}"))
    # What already waits for a placement that is there is older than this batch: decided first, in order.
    d.wake(sorted(k for k in state.waiting if deferral.waited_on(k)[1] in state.placements
                  and deferral.waited_on(k)[0] == "placement"))
    for e in events:
        d.decide(e)
    d.wake(sorted(wake))
    d.settle_effects()
    d.settle_waits()
    return d.out


def _from_history(event_type: str) -> bool:
    rule = RULES.get(event_type)
    return rule is not None and rule.receipt_from_history


class _Decider:

    def __init__(self, state: LedgerState, now: str) -> None:
        self.s = state
        self.now = now
        self.out = Decision()
        self.effects = Effects()
        # Follow-up ids recorded for the loaded placements, and in this batch: a second one with the same id is
        # refused, whatever batch it comes in.
        self.followup_ids: set[str] = {f[0] for facts in state.followups.values() for f in facts}
        self.waits: dict[uuid.UUID, dict[str, Any]] = {}
        self.decided: set[uuid.UUID] = set()

    # ---- one event ----------------------------------------------------------------------------
    def decide(self, e: Envelope) -> None:
        if e.event_id in self.decided:
            return
        try:
            entity = self.apply(e)
            self.out.receipts.append(rows.receipt(e, "applied", None, entity))
        except Rejected as exc:
            self.out.receipts.append(rows.receipt(e, "rejected", exc.reason, e.key))
            deferral.note_refusal(self.s, e, exc.reason)
        except Deferred as wait:
            log.info("%s %s waits for %s", e.type, e.event_id, wait.waits_for, extra={"event_id": str(e.event_id)})
            deferral.note_wait(self.s, e)
            queue = self.s.waiting.setdefault(wait.waits_for, [])
            if not any(w.event_id == e.event_id for w in queue):
                queue.append(e)
            self.waits[e.event_id] = {"event_id": e.event_id, "waits_for": wait.waits_for,
                                      "envelope": json.loads(e.to_bytes())}
            return
        self.decided.add(e.event_id)
        deferral.note_decided(self.s, e)
        if RULES[e.type].kind == "dispatch":
            self.out.decided_dispatches.append(e.event_id)
        self.wake(deferral.unblocks(e))

    def wake(self, keys: Iterable[str]) -> None:
        """Decide, in arrival order, what waited for each of ``keys``."""
        for key in keys:
            for waiting in self.s.waiting.pop(key, []):
                self.decide(waiting)

    def apply(self, e: Envelope) -> str:
        kind = RULES[e.type].kind
        if kind == "brand":
            return self.apply_brand(e)
        if kind == "dispatch":
            return self.apply_dispatch(e)
        if kind == "worker":
            return self.apply_worker(e)
        if kind == "case":
            return self.apply_case(e)
        if kind == "demand":
            return self.apply_demand(e)
        if kind == "organization":
            return registry.apply_organization(self.s, self.out.registry, e)
        if kind == "claim":
            return registry.apply_claim(self.s, self.out.registry, e)
        if kind == "agreement":
            return self.apply_agreement(e)
        return self.apply_placement(e)

    def apply_case(self, e: Envelope) -> str:
        """A person's step on an alert (跟踪帮扶): decided against the case as it stands, kept in its history."""
        aid = e.payload["alert_id"]
        case = self.s.cases.get(aid)
        if case is None:
            raise Rejected(f"unknown alert {aid}")
        changes = RULES[e.type].apply(case, e.payload, e.occurred_at)  # type: ignore[misc]
        case.version += 1
        self.out.cases[aid] = case
        detail = {k: v for k, v in e.payload.items() if k != "alert_id"}
        self.out.case_history.append({"alert_id": aid, "event_id": e.event_id, "type": e.type,
                                      "occurred_at": e.occurred_at, "actor": e.actor.model_dump() if e.actor else None,
                                      "detail": detail, "changes": changes})
        return str(aid)

    def apply_demand(self, e: Envelope) -> str:
        """用工需求 posted or closed; fills are the dispatches' (``apply_dispatch``)."""
        did = e.payload["demand_id"]
        demand, _ = RULES[e.type].apply(self.s.demands.get(did), e.payload, e.occurred_at)  # type: ignore[misc]
        if demand.version == 0:
            demand.posted_by = e.actor.org if e.actor is not None else e.source
        demand.version += 1
        self.s.demands[did] = self.out.demands[did] = demand
        return str(did)

    def demand_fills(self, e: Envelope, refused: dict[str, str]) -> tuple[str | None, list[tuple[str | None, bool]]]:
        """The posts this dispatch would fill (one per worker the rules let through) and why it may not, if so.

        Judged before any placement is made, so that a dispatch that would overfill a position is refused whole,
        with the reason, rather than cut at an arbitrary worker."""
        d = e.payload
        did = d.get("demand_id")
        if did is None:
            return None, []
        fills: list[tuple[str | None, bool]] = []
        for item in d["placements"]:
            worker = self.s.workers.get(item["worker_id"])
            if item["worker_id"] in refused or lifecycle.dispatch_refusal(worker) is not None or worker is None:
                continue
            if item["placement_id"] in self.s.placements:
                continue
            fills.append((item.get("position_id"), bool(worker.priority_groups)))
        why = demand_rules.fill_refusal(self.s.demands.get(did), did, d["employer"]["employer_id"], e.occurred_at, fills)
        return why, fills

    def apply_brand(self, e: Envelope) -> str:
        bid = e.payload["brand_id"]
        old = self.s.brands.get(bid)
        before = BrandRecord(**old.__dict__) if old is not None else None
        brand, changes = RULES[e.type].apply(old, e.payload, e.occurred_at)  # type: ignore[misc]
        brand.version += 1
        self.s.brands[bid] = self.out.brands[bid] = brand
        self.out.brand_history.append(rows.history(e, "brand_id", bid, changes))
        self.changed(e, "brand", bid, [brand.region_code], rows.brand_view(before), rows.brand_view(brand), key=bid)
        return str(bid)

    def apply_agreement(self, e: Envelope) -> str:
        """劳务协作: signed, updated or ended (``laowu.domain.agreements``); no statistics move."""
        aid = e.payload["agreement_id"]
        agreement, _changes = RULES[e.type].apply(self.s.agreements.get(aid), e.payload, e.occurred_at)  # type: ignore[misc]
        agreement.version += 1
        self.s.agreements[aid] = self.out.agreements[aid] = agreement
        return str(aid)

    def apply_worker(self, e: Envelope) -> str:
        deferral.await_brands(self.s, e)
        for bid in deferral.brands_named(e):
            closed = brand_rules.closed_at(self.s.brands.get(bid), e.occurred_at)
            if closed:
                raise Rejected(f"{closed} and takes no new members")
        wid = e.payload["worker_id"]
        if wid not in self.s.workers and deferral.registers_worker(e) is None:
            deferral.await_registration(self.s, wid)
        before = rows.worker_view(self.s.workers.get(wid))
        worker, changes = RULES[e.type].apply(self.s.workers.get(wid), e.payload, e.occurred_at)  # type: ignore[misc]
        # A household move concerns the region left as well as the one entered (feeds, statistics).
        left = (before["household_region"],) if before else ()
        self.worker_changed(e, worker, changes, before, left)
        return str(wid)

    def apply_dispatch(self, e: Envelope) -> str:
        d = e.payload
        did = d["dispatch_id"]
        if did in self.s.dispatches:
            raise Rejected(f"dispatch {did} already exists")
        deferral.await_brands(self.s, e)
        refused = deferral.await_dispatch_workers(self.s, e)
        deferral.await_demand(self.s, e)
        self.s.dispatches.add(did)
        brand_problem = brand_rules.closed_at(self.s.brands.get(d["brand_id"]), e.occurred_at)
        if brand_problem is None and d.get("agreement_id"):
            brand_problem = agreement_rules.coverage_refusal(
                self.s.agreements.get(d["agreement_id"]), d["agreement_id"], origin_region=d["origin_region"],
                destination_region=d["destination_region"], brand_id=d["brand_id"], departure_date=d["departure_date"])
        if brand_problem is None and refused and len(refused) == len(d["placements"]):
            brand_problem = next(iter(refused.values())) if len(refused) == 1 else (
                f"the registrations of all {len(refused)} workers were refused")
        demand_problem, fills = self.demand_fills(e, refused)
        brand_problem = brand_problem or demand_problem
        self.out.dispatches.append({
            "dispatch_id": did, "organizer_id": d["organizer_id"], "brand_id": d["brand_id"], "mode": d["mode"],
            "origin_region": d["origin_region"], "destination_region": d["destination_region"],
            "employer_id": d["employer"]["employer_id"], "employer_name": d["employer"]["name"],
            "employer_uscc": d["employer"].get("uscc"), "positions": d.get("positions", []),
            "departure_date": d["departure_date"], "group_transport": d.get("group_transport", False),
            "agreement_id": d.get("agreement_id"),
            "status": "rejected" if brand_problem else "applied", "reason": brand_problem,
            "occurred_at": e.occurred_at, "source": e.source, "demand_id": d.get("demand_id"),
        })
        for item in d["placements"]:
            wid, pid = item["worker_id"], item["placement_id"]
            worker = self.s.workers.get(wid)
            reason = refused.get(wid) or brand_problem or lifecycle.dispatch_refusal(worker)
            if reason is None and pid in self.s.placements:
                reason = f"placement {pid} already exists"
            if reason is not None or worker is None:
                self.out.dispatch_workers.append({"dispatch_id": did, "worker_id": wid, "placement_id": pid,
                                                  "outcome": "rejected", "reason": reason,
                                                  "position_id": item.get("position_id")})
                self.s.refused_placements.setdefault(pid, str(reason))
                continue
            before = rows.worker_view(worker)
            placement, changes = lifecycle.dispatch(worker, d, pid)
            placement.version = 1
            if d.get("demand_id") is not None:
                placement.demand_id = d["demand_id"]
                placement.position_id = item.get("position_id") or self.s.demands[d["demand_id"]].positions[0]["position_id"]
            self.s.placements[pid] = self.out.placements[pid] = placement
            self.out.dispatch_workers.append({"dispatch_id": did, "worker_id": wid, "placement_id": pid,
                                              "outcome": "dispatched", "reason": None,
                                              "position_id": item.get("position_id")})
            self.worker_changed(e, worker, changes | {"dispatch_id": [None, did]}, before, (d["origin_region"],))
            self.changed(e, "placement", pid, [worker.household_region, d["origin_region"]], None,
                         rows.placement_view(placement), key=wid)
        if brand_problem:
            raise Rejected(brand_problem)
        if d.get("demand_id") is not None and fills:
            demand = self.s.demands[d["demand_id"]]
            demand_rules.fill(demand, fills)
            demand.version += 1
            self.out.demands[demand.demand_id] = demand
        registry.first_use(self.s, self.out.registry, e)
        return str(did)

    def apply_placement(self, e: Envelope) -> str:
        p = e.payload
        rule = RULES[e.type]
        wid, pid = p["worker_id"], p["placement_id"]
        worker, placement = self.s.workers.get(wid), self.s.placements.get(pid)
        if placement is None:
            refused = self.s.refused_placements.get(pid)
            if refused:
                raise Rejected(f"the dispatch refused this worker: {refused}")
            raise Deferred(f"placement:{pid}")
        if rule.entity == "followup" and placement.worker_id == wid and p["followup_id"] in self.followup_ids:
            raise Rejected(f"follow-up {p['followup_id']} already recorded")
        before_w = None if rule.history_only else rows.worker_view(worker)
        before_p = rows.placement_view(placement)
        changes = rule.apply(worker, placement, p)  # type: ignore[misc]
        assert worker is not None
        placement.version += 1
        if rule.frees_post and placement.demand_id in self.s.demands:
            demand = self.s.demands[str(placement.demand_id)]
            demand_rules.unfill(demand, placement.position_id, placement.priority_group)
            demand.version += 1
            self.out.demands[demand.demand_id] = demand
        self.out.placements[pid] = placement
        regions = [worker.household_region, placement.origin_region]
        if rule.effects is not None:
            rule.effects(self.effects, e, placement, regions)
        if rule.entity == "followup":
            self.followup_ids.add(p["followup_id"])
        history = changes | {"placement_id": [None, pid]}
        if rule.history_only:  # the worker's history gains the event; its record stays as it is
            stored = set(changes) - DERIVED_FIELDS
            assert not stored, f"{e.type} is declared history-only but changed the worker's {sorted(stored)}"
            self.out.worker_history.append(rows.history(e, "worker_id", wid, history))
        else:
            self.worker_changed(e, worker, history, before_w, (placement.origin_region,))
        self.changed(e, rule.entity or "placement", pid, regions, before_p, rows.placement_view(placement), key=wid,
                     facts=rows.followup_facts(p) if rule.entity == "followup" else None)
        return str(wid)

    def worker_changed(self, e: Envelope, worker: WorkerRecord, changes: Changes, before: dict[str, Any] | None,
                       extra_regions: tuple[str, ...] = ()) -> None:
        if worker.worker_id in self.s.unlocked_workers:
            raise AssertionError(f"worker {worker.worker_id} was read without a lock and cannot be rewritten")
        worker.version += 1
        self.s.workers[worker.worker_id] = self.out.workers[worker.worker_id] = worker
        self.out.worker_history.append(rows.history(e, "worker_id", worker.worker_id, changes))
        regions = list(dict.fromkeys([worker.household_region, *extra_regions]))
        self.changed(e, "worker", worker.worker_id, regions, before, rows.worker_view(worker), key=worker.worker_id)

    def changed(self, e: Envelope, entity: str, entity_id: str, regions: list[str], before: dict[str, Any] | None,
                after: dict[str, Any] | None, key: str, facts: dict[str, Any] | None = None) -> None:
        self.out.outbox.append(derived.ledger_changed(e.event_id, e.type, e.occurred_at, entity, entity_id, regions,
                                                      before, after, key, self.now, SOURCE, facts))

    # ---- after the events ---------------------------------------------------------------------
    def settle_effects(self) -> None:
        """Alerts closed and raised, subsidies accrued — each derived event once, whatever the ledger held."""
        fx, s, out = self.effects, self.s, self.out
        out.followups = fx.followups
        self.batch_followups: dict[str, list[dict[str, Any]]] = {}
        for row in fx.followups:
            self.batch_followups.setdefault(row["placement_id"], []).append(row)
        self.close_alerts(fx.closures)
        for pid, (wid, regions) in fx.problem_placements.items():
            self.recount_problems(pid, wid, regions)
        for row in fx.alerts:
            if row["alert_id"] not in s.alerts:
                self.raise_alert(row)
        for row in fx.accruals:
            if row["subsidy_id"] not in s.subsidies:
                s.subsidies.add(row["subsidy_id"])
                out.subsidies.append(row)
                out.outbox.append(derived.subsidy_accrued(row, self.now, SOURCE))

    def close_alerts(self, closures: list[tuple[str, tuple[str, ...], datetime]]) -> None:
        """Close the alerts of (placement, kind) — or move a closure earlier, so the earliest closing event wins
        whatever the arrival order; ``alert.closed`` only the first time."""
        if not closures:
            return
        earliest: dict[tuple[str, str], datetime] = {}
        for pid, kinds, at in closures:
            for k in kinds:
                if (pid, k) not in earliest or at < earliest[(pid, k)]:
                    earliest[(pid, k)] = at
        for alert in self.s.alerts.values():
            when = earliest.get((alert.placement_id, alert.kind))
            if when is None or (alert.closed_at is not None and alert.closed_at <= when):
                continue
            first = alert.closed_at is None
            alert.closed_at = self.out.alert_closures[alert.alert_id] = when
            if first:
                self.out.outbox.append(derived.alert_closed(vars(alert), when, self.now, SOURCE))

    def recount_problems(self, pid: str, wid: str, regions: list[str]) -> None:
        """Wage-arrears and injury alerts of a placement, recomputed from all its follow-ups."""
        facts: dict[str, FollowUpFact] = {f[0]: f for f in self.s.followups.get(pid, ())}
        for row in self.batch_followups.get(pid, ()):
            facts.setdefault(row["followup_id"], (row["followup_id"], lifecycle._as_date(row["date"]),
                                                  list(row["problems"])))
        for a in alert_rules.problem_alerts(pid, wid, list(facts.values())):
            row = rows.alert_row(a, regions)
            held = self.s.alerts.get(a.alert_id)
            if held is None:
                self.raise_alert(row)
                if a.closed_at is not None:
                    self.out.outbox.append(derived.alert_closed(row, a.closed_at, self.now, SOURCE))
            elif held.closed_at != a.closed_at:
                held.closed_at = self.out.alert_closures[a.alert_id] = a.closed_at
                if a.closed_at is not None:
                    self.out.outbox.append(derived.alert_closed(vars(held), a.closed_at, self.now, SOURCE))

    def raise_alert(self, row: dict[str, Any]) -> None:
        self.s.alerts[row["alert_id"]] = AlertFact(row["alert_id"], row["kind"], row["worker_id"], row["placement_id"],
                                                   row["regions"], row["closed_at"])
        self.out.alerts.append(row)
        self.out.outbox.append(derived.alert_raised(row, self.now, SOURCE))

    def settle_waits(self) -> None:
        """A stored wait leaves when its event was decided, or when it now waits for something else; one that
        still waits for the same thing stays, so events keep their arrival order."""
        stored, decided = self.s.stored_waits, self.decided
        moved = [eid for eid, row in self.waits.items()
                 if eid in stored and eid not in decided and stored[eid] != row["waits_for"]]
        self.out.resolved = [eid for eid in (*stored, *self.waits) if eid in decided] + moved
        self.out.deferred = [row for eid, row in self.waits.items() if eid not in decided]
