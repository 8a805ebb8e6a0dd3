"""The ledger's repository on PostgreSQL, inside the batch's transaction (``laowu.store`` holds the SQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import asyncpg

from laowu.domain.agreements import AgreementRecord
from laowu.domain.brands import BrandRecord
from laowu.domain.casework import Case
from laowu.domain.demands import DemandRecord
from laowu.domain.lifecycle import PlacementRecord
from laowu.domain.organizations import OrganizationRecord
from laowu.domain.subsidies import subsidy_ids
from laowu.domain.subsidy_claims import Budget, ClaimRecord
from laowu.domain.workers import WorkerRecord
from laowu.ledger.decide import Decision
from laowu.ledger.repository import Repository
from laowu.ledger.state import AlertFact, FollowUpFact
from laowu.store import agreements as agreement_store
from laowu.store import cases as case_store
from laowu.store import demands as demand_store
from laowu.store import dispatch as dstore
from laowu.store import ledger as store
from laowu.store import outbox as outbox_store
from laowu.store import subsidy_claims as claim_store


class PostgresLedger(Repository):

    def __init__(self, conn: asyncpg.Connection, topic: Callable[[str], str]) -> None:
        self.conn = conn
        self.topic = topic  # catalogue name → this deployment's topic

    async def decided_events(self, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        return await store.decided_events(self.conn, event_ids)

    async def brands(self, brand_ids: Iterable[str], *, lock: bool) -> dict[str, BrandRecord]:
        ids = set(brand_ids)  # no round trip for nothing: most batches change no brand
        return await store.load_brands(self.conn, ids, lock=lock) if ids else {}

    async def agreements(self, agreement_ids: Iterable[str]) -> dict[str, AgreementRecord]:
        # Locked: an agreement changed by two replicas at once is decided in one order.
        return await agreement_store.load(self.conn, agreement_ids, lock=True)

    async def workers(self, worker_ids: Iterable[str], *, lock: bool = True) -> dict[str, WorkerRecord]:
        ids = set(worker_ids)
        return await store.load_workers(self.conn, ids, lock=lock) if ids else {}

    async def last_followups(self, worker_ids: Iterable[str]) -> dict[str, str | None]:
        return await store.last_followups(self.conn, worker_ids)

    async def placements(self, placement_ids: Iterable[str]) -> dict[str, PlacementRecord]:
        ids = set(placement_ids)
        return await dstore.load_placements(self.conn, ids) if ids else {}

    async def existing_dispatches(self, dispatch_ids: Iterable[str]) -> set[str]:
        ids = set(dispatch_ids)
        return await dstore.existing_dispatches(self.conn, ids) if ids else set()

    async def refused_placements(self, placement_ids: Iterable[str]) -> dict[str, str]:
        ids = set(placement_ids)
        return await dstore.refusals(self.conn, ids) if ids else {}

    async def waiting_events(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        return await dstore.waiting_events(self.conn, keys)

    async def registrations_in_doubt(self, worker_ids: Iterable[str],
                                     brand_ids: Iterable[str]) -> tuple[dict[str, str], set[str]]:
        return await dstore.registrations_in_doubt(self.conn, worker_ids, brand_ids)

    async def placement_facts(self, alerts: Iterable[str], subsidies: Iterable[str], followups: Iterable[str]) -> tuple[
            dict[str, AlertFact], set[str], dict[str, list[FollowUpFact]]]:
        alert_rows, accrued, followup_rows = await dstore.placement_facts(
            self.conn, alerts, [sid for pid in subsidies for sid in subsidy_ids(pid)], followups)
        facts: dict[str, list[FollowUpFact]] = {}
        for r in followup_rows:
            facts.setdefault(r["placement_id"], []).append((r["id"], r["day"], list(r["problems"])))
        return ({r["id"]: AlertFact(r["id"], r["kind"], r["worker_id"], r["placement_id"], list(r["regions"]),
                                    r["closed_at"]) for r in alert_rows}, accrued, facts)

    async def cases(self, alert_ids: Iterable[str]) -> dict[str, Case]:
        return await case_store.load_cases(self.conn, set(alert_ids))

    async def demands(self, demand_ids: Iterable[str]) -> dict[str, DemandRecord]:
        ids = set(demand_ids)
        return await demand_store.load_demands(self.conn, ids) if ids else {}

    async def refused_postings(self, demand_ids: Iterable[str]) -> dict[str, str]:
        return await demand_store.refused_postings(self.conn, demand_ids)

    async def stale_satisfied_waits(self, older_than_s: float) -> set[str]:
        return await dstore.stale_satisfied_waits(self.conn, older_than_s=older_than_s)

    async def organizations(self, org_ids: Iterable[str], *, lock: bool) -> dict[str, OrganizationRecord]:
        return await claim_store.load_organizations(self.conn, org_ids, lock=lock)

    async def new_organizations(self, org_ids: Iterable[str]) -> dict[str, OrganizationRecord]:
        return await claim_store.claim_new_organizations(self.conn, org_ids)

    async def claims(self, subsidy_ids: Iterable[str]) -> dict[str, ClaimRecord]:
        return await claim_store.load_claims(self.conn, subsidy_ids)

    async def rivals(self, keys: Iterable[tuple[str, str, int]]) -> dict[tuple[str, str, int], dict[str, str]]:
        return await claim_store.load_rivals(self.conn, keys)

    async def budgets(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Budget]:
        return await claim_store.load_budgets(self.conn, keys)

    async def save(self, d: Decision) -> None:
        conn = self.conn
        r = d.registry
        await claim_store.save_organizations(conn, list(r.organizations.values()))
        await store.append_history(conn, "organization_events", r.organization_history)
        await store.save_brands(conn, list(d.brands.values()))
        await agreement_store.save(conn, list(d.agreements.values()))
        await store.save_workers(conn, list(d.workers.values()))
        await demand_store.save_demands(conn, list(d.demands.values()))
        await dstore.insert(conn, "dispatches", d.dispatches)
        await dstore.insert(conn, "dispatch_workers", d.dispatch_workers)
        await dstore.save_placements(conn, list(d.placements.values()))
        await dstore.insert(conn, "followups", d.followups)
        await store.append_history(conn, "brand_events", d.brand_history)
        await store.append_history(conn, "worker_events", d.worker_history)
        await dstore.set_alert_closures(conn, d.alert_closures)
        await dstore.insert(conn, "alerts", d.alerts)
        await dstore.insert(conn, "subsidies", d.subsidies)
        await case_store.save_cases(conn, list(d.cases.values()), d.case_history)
        await claim_store.save_claims(conn, list(r.claims.values()))
        await claim_store.save_budgets(conn, list(r.budgets.values()))
        await store.append_history(conn, "subsidy_events", r.claim_history)
        await store.decide(conn, d.stored_receipts())
        await outbox_store.enqueue(conn, [(self.topic(t), k, env) for t, k, env in d.outbox])
        await dstore.resolve(conn, d.resolved)
        await dstore.defer(conn, d.deferred)
        await dstore.forget_accepted_placements(conn, d.decided_dispatches)
