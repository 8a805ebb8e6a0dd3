"""The handlers' lookups against PostgreSQL (``laowu.store``): what the ledger holds plus what was accepted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from laowu.domain.agreements import AgreementRecord
from laowu.domain.demands import DemandRecord
from laowu.domain.statistics import BEIJING
from laowu.intake import OrganizationRef, PlacementRef, SubsidyRef
from laowu.store import agreements, brand_figures, cases, known, queries, subsidy_reads
from laowu.store import demands as demand_store
from laowu.store.brand_figures import BrandFile
from schemas.common import Actor


class PoolLookups:
    """``brand_statuses`` may be shared (the API coalesces concurrent requests' brand lookups into one query)."""

    def __init__(self, pool: asyncpg.Pool,
                 brand_statuses: Callable[[list[str]], Awaitable[dict[str, str]]] | None = None) -> None:
        self.pool = pool
        self._brand_statuses = brand_statuses or (lambda ids: known.brand_statuses(pool, ids))

    async def brand_statuses(self, brand_ids: list[str]) -> dict[str, str]:
        return await self._brand_statuses(brand_ids)

    async def pending_brand_senders(self, brand_ids: list[str]) -> dict[str, set[str]]:
        return await known.pending_brand_senders(self.pool, brand_ids)

    async def ledger_brands(self, brand_ids: list[str]) -> dict[str, tuple[str, str]]:
        return await queries.brand_scopes(self.pool, brand_ids)

    async def acting_workers(self, worker_ids: list[str], actor: Actor) -> dict[str, tuple[str, str | None]]:
        return await known.acting_workers(self.pool, worker_ids, actor)

    async def households(self, worker_ids: list[str], actor: Actor) -> dict[str, str]:
        # Seen, not acted on: a household move is decided by jurisdiction over the current region (the scoping
        # rule, 403), so whoever sees the person (a receiving bureau) hears why, and a stranger gets 404.
        return await queries.households(self.pool, worker_ids, actor, reach="view")

    async def placement_refs(self, placement_ids: list[str], actor: Actor) -> dict[str, PlacementRef]:
        rows = await known.placement_refs(self.pool, placement_ids, actor)
        return {pid: PlacementRef(pid, r["worker_id"], r["employer_id"], r["organizer_id"]) for pid, r in rows.items()}

    async def alert_regions(self, alert_ids: list[str]) -> dict[str, list[str]]:
        return await cases.alert_regions(self.pool, alert_ids)

    async def enabled_accounts(self, usernames: list[str]) -> dict[str, tuple[str, str | None]]:
        return await cases.enabled_accounts(self.pool, usernames)

    async def brand_files(self, brand_ids: list[str]) -> dict[str, BrandFile]:
        return await brand_figures.brand_files(self.pool, brand_ids, datetime.now(BEIJING).date())

    async def demands(self, demand_ids: list[str], actor: Actor) -> dict[str, DemandRecord]:
        return await demand_store.visible(self.pool, demand_ids, actor)

    async def organization_refs(self, org_ids: list[str]) -> dict[str, OrganizationRef]:
        return await subsidy_reads.organization_refs(self.pool, org_ids)

    async def subsidy_refs(self, subsidy_ids: list[str], actor: Actor) -> dict[str, SubsidyRef]:
        return await subsidy_reads.subsidy_refs(self.pool, subsidy_ids, actor)

    async def agreements(self, agreement_ids: list[str]) -> dict[str, AgreementRecord]:
        return await agreements.records(self.pool, agreement_ids)
