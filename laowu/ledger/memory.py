"""An in-memory ledger: the ``Repository`` the decision's unit tests run on, without services.

It keeps what PostgreSQL keeps for the ledger (records, history, receipts, alerts, subsidies, deferred events,
the outbox) with the same write semantics (upserts, ``ON CONFLICT DO NOTHING``, receipts that only move from
``accepted``), and hands out copies, so a decision changes nothing until it is saved.
"""

from __future__ import annotations

import copy
import itertools
import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from laowu.domain import subsidies as subsidy_rules
from laowu.domain.agreements import AgreementRecord
from laowu.domain.brands import BrandRecord
from laowu.domain.casework import Case
from laowu.domain.demands import DemandRecord
from laowu.domain.lifecycle import PlacementRecord
from laowu.domain.organizations import OrganizationRecord
from laowu.domain.subsidy_claims import Budget, ClaimRecord
from laowu.domain.workers import WorkerRecord
from laowu.ledger.decide import Decision
from laowu.ledger.deferral import waited_on
from laowu.ledger.repository import Repository
from laowu.ledger.rules import RULES
from laowu.ledger.state import AlertFact, FollowUpFact
from schemas.envelope import Envelope


class InMemoryLedger(Repository):

    def __init__(self) -> None:
        self.brand_records: dict[str, BrandRecord] = {}
        self.agreement_records: dict[str, AgreementRecord] = {}
        self.worker_records: dict[str, WorkerRecord] = {}
        self.placement_records: dict[str, PlacementRecord] = {}
        self.dispatches: dict[str, dict[str, Any]] = {}
        self.dispatch_workers: dict[str, dict[str, Any]] = {}
        self.followups: dict[str, dict[str, Any]] = {}
        self.brand_history: list[dict[str, Any]] = []
        self.worker_history: list[dict[str, Any]] = []
        self.receipts: dict[uuid.UUID, dict[str, Any]] = {}
        self.alerts: dict[str, dict[str, Any]] = {}
        self.subsidies: dict[str, dict[str, Any]] = {}
        self.outbox: list[tuple[str, str, dict[str, Any]]] = []
        self.deferred: dict[uuid.UUID, dict[str, Any]] = {}
        self.case_records: dict[str, Case] = {}
        self.case_history: list[dict[str, Any]] = []
        self.demand_records: dict[str, DemandRecord] = {}
        self.organization_records: dict[str, OrganizationRecord] = {}
        self.organization_history: list[dict[str, Any]] = []
        self.claim_records: dict[str, ClaimRecord] = {}
        self.claim_history: list[dict[str, Any]] = []
        self.budget_records: dict[tuple[str, int], Budget] = {}
        self._seq = itertools.count()

    # ---- what the API does before the ledger sees an event ------------------------------------------
    def accept(self, e: Envelope) -> None:
        """An ``accepted`` receipt, as the API writes when it answers 202."""
        self.receipts.setdefault(e.event_id, {"event_id": e.event_id, "type": e.type, "status": "accepted",
                                              "reason": None, "source": e.source, "entity_id": e.key})

    def status(self, e: Envelope) -> tuple[str, str | None]:
        """As ``laowu.store.receipts.OUTCOMES`` reads it: a history row is an applied event's receipt."""
        r = self.receipts.get(e.event_id)
        if (r is None or r["status"] == "accepted") and e.event_id in self._in_history():
            return "applied", None
        return (r["status"], r["reason"]) if r else ("unknown", None)

    def _in_history(self) -> set[uuid.UUID]:
        return {h["event_id"] for h in self.worker_history}

    def of_type(self, name: str) -> list[dict[str, Any]]:
        return [env for _, _, env in self.outbox if env["type"] == name]

    # ---- reads --------------------------------------------------------------------------------
    async def decided_events(self, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        applied = self._in_history()
        return {i for i in event_ids if i in applied or (i in self.receipts and self.receipts[i]["status"] != "accepted")}

    async def brands(self, brand_ids: Iterable[str], *, lock: bool) -> dict[str, BrandRecord]:
        return {b: copy.deepcopy(self.brand_records[b]) for b in brand_ids if b in self.brand_records}

    async def agreements(self, agreement_ids: Iterable[str]) -> dict[str, AgreementRecord]:
        return {a: copy.deepcopy(self.agreement_records[a]) for a in agreement_ids if a in self.agreement_records}

    async def workers(self, worker_ids: Iterable[str], *, lock: bool = True) -> dict[str, WorkerRecord]:
        return {w: copy.deepcopy(self.worker_records[w]) for w in worker_ids if w in self.worker_records}

    async def last_followups(self, worker_ids: Iterable[str]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for wid in worker_ids:  # as laowu.store.ledger.LAST_FOLLOWUP_AT derives it
            days = [p.last_followup_date for p in self.placement_records.values()
                    if p.worker_id == wid and p.last_followup_date is not None]
            out[wid] = max(days).isoformat() if days else None
        return out

    async def placements(self, placement_ids: Iterable[str]) -> dict[str, PlacementRecord]:
        return {p: copy.deepcopy(self.placement_records[p]) for p in placement_ids if p in self.placement_records}

    async def existing_dispatches(self, dispatch_ids: Iterable[str]) -> set[str]:
        return {d for d in dispatch_ids if d in self.dispatches}

    async def refused_placements(self, placement_ids: Iterable[str]) -> dict[str, str]:
        return {p: self.dispatch_workers[p]["reason"] for p in placement_ids
                if p in self.dispatch_workers and self.dispatch_workers[p]["outcome"] == "rejected"}

    async def waiting_events(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        wanted = set(keys)
        rows = [r for r in self.deferred.values() if r["waits_for"] in wanted]
        return [copy.deepcopy({k: r[k] for k in ("event_id", "waits_for", "envelope")})
                for r in sorted(rows, key=lambda r: r["seq"])]

    async def registrations_in_doubt(self, worker_ids: Iterable[str],
                                     brand_ids: Iterable[str]) -> tuple[dict[str, str], set[str]]:
        wanted = {("worker", w) for w in worker_ids} | {("brand", b) for b in brand_ids}
        accepted, refused = set(), {}
        applied = self._in_history()
        for r in self.receipts.values():
            rule = RULES.get(r["type"])
            if rule is None or not rule.registers or (rule.kind, r["entity_id"]) not in wanted:
                continue
            if r["status"] == "accepted" and r["event_id"] not in applied:
                accepted.add((rule.kind, r["entity_id"]))
            elif r["status"] == "rejected":
                refused[(rule.kind, r["entity_id"])] = str(r["reason"])
        waiting = set()
        for row in self.deferred.values():
            env = row["envelope"]
            rule = RULES.get(env["type"])
            wid = env["payload"].get("worker_id")
            if rule is not None and rule.registers and rule.kind == "worker" and ("worker", wid) in wanted:
                waiting.add(wid)
        return {f"{k}:{i}": why for (k, i), why in refused.items() if (k, i) not in accepted}, waiting

    async def placement_facts(self, alerts: Iterable[str], subsidies: Iterable[str], followups: Iterable[str]) -> tuple[
            dict[str, AlertFact], set[str], dict[str, list[FollowUpFact]]]:
        a_pids, s_pids, f_pids = set(alerts), set(subsidies), set(followups)
        held = {a["alert_id"]: AlertFact(a["alert_id"], a["kind"], a["worker_id"], a["placement_id"],
                                         list(a["regions"]), a["closed_at"])
                for a in self.alerts.values() if a["placement_id"] in a_pids}
        accrued = {s for s, row in self.subsidies.items() if row["placement_id"] in s_pids}
        facts: dict[str, list[FollowUpFact]] = {}
        for f in self.followups.values():
            if f["placement_id"] in f_pids:
                day = f["date"] if isinstance(f["date"], date) else date.fromisoformat(f["date"])  # a payload's text, as stored
                facts.setdefault(f["placement_id"], []).append((f["followup_id"], day, list(f["problems"])))
        return held, accrued, facts

    async def cases(self, alert_ids: Iterable[str]) -> dict[str, Case]:
        out = {}
        for aid in alert_ids:
            a = self.alerts.get(aid)
            if a is not None:
                held = self.case_records.get(aid) or Case(aid, a["kind"], list(a["regions"]), a["raised_at"])
                held.alert_closed_at = a["closed_at"]
                out[aid] = copy.deepcopy(held)
        return out

    async def demands(self, demand_ids: Iterable[str]) -> dict[str, DemandRecord]:
        return {d: copy.deepcopy(self.demand_records[d]) for d in demand_ids if d in self.demand_records}

    async def refused_postings(self, demand_ids: Iterable[str]) -> dict[str, str]:
        wanted = set(demand_ids) - set(self.demand_records)
        postings = {name for name, rule in RULES.items() if rule.registers and rule.kind == "demand"}
        return {r["entity_id"]: str(r["reason"]) for r in self.receipts.values()
                if r["type"] in postings and r["status"] == "rejected" and r["entity_id"] in wanted}

    async def stale_satisfied_waits(self, older_than_s: float) -> set[str]:
        keys = set()
        for row in self.deferred.values():
            kind, ident = waited_on(row["waits_for"])
            held: dict[str, Any] = {"worker": self.worker_records, "brand": self.brand_records,
                                    "placement": self.dispatch_workers, "demand": self.demand_records}
            if ident in held.get(kind, {}):
                keys.add(row["waits_for"])
        return keys

    async def organizations(self, org_ids: Iterable[str], *, lock: bool) -> dict[str, OrganizationRecord]:
        return {o: copy.deepcopy(self.organization_records[o]) for o in org_ids if o in self.organization_records}

    async def new_organizations(self, org_ids: Iterable[str]) -> dict[str, OrganizationRecord]:
        return await self.organizations(org_ids, lock=True)

    async def claims(self, subsidy_ids: Iterable[str]) -> dict[str, ClaimRecord]:
        out = {}
        for sid in subsidy_ids:
            if sid in self.claim_records:
                out[sid] = copy.deepcopy(self.claim_records[sid])
            elif sid in self.subsidies:
                row = self.subsidies[sid]
                day = row["accrued_at"].date()
                out[sid] = ClaimRecord(sid, row["kind"], row["worker_id"], row["organization_id"],
                                       row["placement_id"], Decimal(row["amount"]), row["rule_version"],
                                       row.get("rule_region") or "default", row.get("period") or day.year,
                                       row["origin_region"], day)
        return out

    async def rivals(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], dict[str, str]]:
        out: dict[tuple[str, str, int], dict[str, str]] = {k: {} for k in keys}
        for c in self.claim_records.values():
            if c.rival_key in out:
                out[c.rival_key][c.subsidy_id] = c.status
        return out

    async def budgets(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Budget]:
        return {k: copy.copy(self.budget_records.get(k) or Budget(k[0], k[1], subsidy_rules.budget_of(*k)))
                for k in keys}

    # ---- the write ----------------------------------------------------------------------------
    async def save(self, d: Decision) -> None:
        d = copy.deepcopy(d)
        self.brand_records.update(d.brands)
        self.agreement_records.update(d.agreements)
        for w in d.workers.values():
            w.last_followup_at = None  # not stored, as in PostgreSQL: last_followups() derives it
        self.worker_records.update(d.workers)
        self.demand_records.update(d.demands)
        for row in d.dispatches:
            self.dispatches.setdefault(row["dispatch_id"], row)
        for row in d.dispatch_workers:
            self.dispatch_workers.setdefault(row["placement_id"], row)
        self.placement_records.update(d.placements)
        for row in d.followups:
            self.followups.setdefault(row["followup_id"], row)
        self.brand_history += d.brand_history
        self.worker_history += d.worker_history
        for alert_id, at in d.alert_closures.items():
            self.alerts[alert_id]["closed_at"] = at
        for row in d.alerts:
            self.alerts.setdefault(row["alert_id"], row)
        for row in d.subsidies:
            self.subsidies.setdefault(row["subsidy_id"], row)
        self.organization_records.update(d.registry.organizations)
        self.organization_history += d.registry.organization_history
        self.claim_records.update(d.registry.claims)
        self.claim_history += d.registry.claim_history
        self.budget_records.update(d.registry.budgets)
        for r in d.stored_receipts():
            held = self.receipts.get(r["event_id"])
            if held is None or held["status"] == "accepted":
                self.receipts[r["event_id"]] = r
        self.outbox += d.outbox
        self.case_records.update(d.cases)
        self.case_history += d.case_history
        for eid in d.resolved:
            self.deferred.pop(eid, None)
        for row in d.deferred:
            self.deferred.setdefault(row["event_id"], row | {"seq": next(self._seq)})
