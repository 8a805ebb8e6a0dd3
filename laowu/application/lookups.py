"""The handlers' lookups against PostgreSQL (``laowu.store``): what the ledger holds plus what was accepted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from laowu.domain.agreements import AgreementRecord
from laowu.intake import PlacementRef
from laowu.store import agreements, known, queries
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

    async def agreements(self, agreement_ids: list[str]) -> dict[str, AgreementRecord]:
        return await agreements.records(self.pool, agreement_ids)
