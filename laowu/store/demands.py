"""Job demands (用工需求) in PostgreSQL: the ledger's load and save, who sees a demand, the reads, and the candidates
of a shortlist (index-backed: ``workers_match_occupation``, ``workers_match_intention``, migration 0025).

Who sees a demand (issue 19): its employer; whoever posted it; bureaus and workstations of the origin regions it is
published to — a region covering one of them (a province's bureau sees a demand published to one of its counties)
or lying under one (a county's workstation sees a demand published to its province); admins.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from laowu.domain import regions
from laowu.domain.demands import DemandRecord
from laowu.domain.lifecycle import AVAILABLE
from laowu.ledger.rows import row_of
from laowu.store import bulk
from laowu.store.errors import NotFound
from laowu.store.ledger import upsert_tail
from laowu.store.scope import Viewer, region_between, unbounded
from laowu.store.sqltext import in_list

DEMAND_COLUMNS = [f.name for f in dataclasses.fields(DemandRecord)]
_SAVE = upsert_tail("demand_id", DEMAND_COLUMNS)
_AVAILABLE = in_list(AVAILABLE)


# ---- the ledger's side ------------------------------------------------------------------------------------------
async def load_demands(conn: asyncpg.Connection, demand_ids: Iterable[str]) -> dict[str, DemandRecord]:
    rows = await conn.fetch(
        f"SELECT {', '.join(DEMAND_COLUMNS)} FROM demands WHERE demand_id = ANY($1::text[]) "
        "ORDER BY demand_id FOR UPDATE",  # one lock order: fills of one demand are counted one batch at a time
        sorted(set(demand_ids)))
    return {r["demand_id"]: DemandRecord(**dict(r)) for r in rows}


async def save_demands(conn: asyncpg.Connection, records: Sequence[DemandRecord]) -> None:
    if records:
        await bulk.write(conn, "demands", [row_of(r) for r in records], _SAVE)


async def refused_postings(conn: asyncpg.Connection, demand_ids: Iterable[str]) -> dict[str, str]:
    """Demands whose posting was rejected (and never applied): a dispatch waiting for one is rejected with why."""
    rows = await conn.fetch(
        "SELECT entity_id, reason FROM event_receipts WHERE type = 'demand.posted' AND status = 'rejected' "
        "AND entity_id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM demands d WHERE d.demand_id = entity_id)",
        sorted(set(demand_ids)))
    return {r["entity_id"]: str(r["reason"]) for r in rows}


# ---- who sees a demand ------------------------------------------------------------------------------------------
def demand_clause(viewer: Viewer | None, args: list[Any], alias: str = "d") -> str:
    if viewer is None:
        return "FALSE"
    if unbounded(viewer):
        return "TRUE"
    args.append(viewer.org)
    own = f"{alias}.posted_by = ${len(args)}"
    if viewer.role == "employer":
        return f"({alias}.employer_id = ${len(args)} OR {own})"
    region = viewer.region or "999999"
    args.append(regions.rollup(region) or [region])
    above = f"{alias}.origin_regions && ${len(args)}::text[]"
    under = f"EXISTS (SELECT 1 FROM unnest({alias}.origin_regions) o WHERE {region_between('o', region, args)})"
    return f"({own} OR {above} OR {under})"


def manages(viewer: Viewer, row: dict[str, Any]) -> bool:
    """Who sees the people proposed for a demand and may close it: its employer, whoever posted it, an admin."""
    return unbounded(viewer) or viewer.org in (row["employer_id"], row["posted_by"])


async def visible(pool: asyncpg.Pool, demand_ids: list[str], viewer: Viewer) -> dict[str, DemandRecord]:
    """The ledger's records of the demands ``viewer`` sees (the handlers' facts)."""
    args: list[Any] = [demand_ids]
    clause = demand_clause(viewer, args)
    rows = await pool.fetch(f"SELECT {', '.join(DEMAND_COLUMNS)} FROM demands d WHERE demand_id = ANY($1::text[]) "
                            f"AND {clause}", *args)
    return {r["demand_id"]: DemandRecord(**dict(r)) for r in rows}


async def demand(pool: asyncpg.Pool, demand_id: str, viewer: Viewer) -> dict[str, Any]:
    args: list[Any] = [demand_id]
    clause = demand_clause(viewer, args)
    row = await pool.fetchrow(f"SELECT * FROM demands d WHERE demand_id = $1 AND {clause}", *args)
    if row is None:
        raise NotFound(demand_id)
    return dict(row)


async def demands(pool: asyncpg.Pool, viewer: Viewer, *, live: bool | None, employer_id: str | None,
                  after: str | None, limit: int) -> list[dict[str, Any]]:
    args: list[Any] = []
    parts = [demand_clause(viewer, args)]
    if live:
        parts.append("d.status IN ('open', 'partly_filled') AND d.closing_date >= (now() AT TIME ZONE 'Asia/Shanghai')::date")
    if employer_id:
        args.append(employer_id)
        parts.append(f"d.employer_id = ${len(args)}")
    if after:
        args.append(after)
        parts.append(f"d.demand_id > ${len(args)}")
    args.append(limit)
    sql = f"SELECT * FROM demands d WHERE {' AND '.join(parts)} ORDER BY d.demand_id LIMIT ${len(args)}"
    return [dict(r) for r in await pool.fetch(sql, *args)]


async def proposals(pool: asyncpg.Pool, demand_id: str) -> list[dict[str, Any]]:
    """Everyone a dispatch naming the demand placed, with the placement's status (dispatched: proposed, waiting
    for the employer; confirmed: arrived; rejected; ended), masked."""
    rows = await pool.fetch(
        """
        SELECT p.placement_id, p.dispatch_id, x.position_id, p.status, p.worker_id, w.name, w.sex,
               w.id_number_masked, p.organizer_id, p.departure_date, o.name AS organizer_name
          FROM dispatches d
          JOIN dispatch_workers x ON x.dispatch_id = d.dispatch_id AND x.outcome = 'dispatched'
          JOIN placements p ON p.placement_id = x.placement_id
          LEFT JOIN workers w ON w.worker_id = p.worker_id
          LEFT JOIN organizations o ON o.org_id = p.organizer_id
         WHERE d.demand_id = $1
         ORDER BY p.placement_id
        """, demand_id)
    return [dict(r) for r in rows]


# ---- matching ---------------------------------------------------------------------------------------------------
CANDIDATE_COLUMNS = ("worker_id, name, sex, id_number_masked, household_region, birth_date, occupation_code, "
                     "certificates, brand_ids, priority_groups, intention")
POOL = 300
"""Candidates read per reason: the scoring ranks their union. Bounded so a shortlist costs the same in a county and
a province; ``make bench`` measures it at 1,000,000 workers (``matching_shortlist_p99_ms``)."""


def _jurisdiction(viewer: Viewer, args: list[Any]) -> str:
    """Matching proposes people the requester answers for: its jurisdiction, the household region (an admin: all)."""
    if unbounded(viewer):
        return "TRUE"
    return region_between("w.household_region", viewer.region or "999999", args)


# Each reason is one range of one index (migration 0025), cut at ``size`` rows:
#   first_choice — the first occupation of the intention is the position's (btree on it and the household region);
#   any_choice   — any occupation of the intention (GIN): read only when the first choices did not fill the pool,
#                  because a GIN scan cannot stop at a page (it collects every entry of the code, ~65,000 of a
#                  province's 1,000,000 in `make bench`, before the first row);
#   registered   — the registered occupation (btree on it and the household region);
#   priority     — of those, people of a priority group, for positions with reserved posts (爱心岗位) open.
_REASONS = {
    "first_choice": "(w.intention -> 'occupations' ->> 0) = $1",
    "any_choice": "(w.intention -> 'occupations') ? $1",
    "registered": "w.occupation_code = $1",
    "priority": "w.occupation_code = $1 AND cardinality(w.priority_groups) > 0",
}


async def candidates(pool: asyncpg.Pool | asyncpg.Connection, occupation: str, viewer: Viewer, *, priority: bool,
                     size: int = POOL) -> list[dict[str, Any]]:
    """Available people of ``viewer``'s jurisdiction whose intention or registered occupation is ``occupation``,
    up to ``size`` per reason (above); with ``priority`` also people of a priority group (reserved posts)."""
    seen: dict[str, dict[str, Any]] = {}
    for reason in ("first_choice", "any_choice", "registered", "priority"):
        if reason == "priority" and not priority:
            continue
        if reason == "any_choice" and len(seen) >= size:
            continue
        args: list[Any] = [occupation]
        scope = _jurisdiction(viewer, args)
        args.append(size)
        sql = (f"SELECT {CANDIDATE_COLUMNS} FROM workers w WHERE w.state IN {_AVAILABLE} AND {_REASONS[reason]} "
               f"AND {scope} LIMIT ${len(args)}")
        for r in await pool.fetch(sql, *args):
            seen.setdefault(r["worker_id"], dict(r))
    return list(seen.values())


async def live_for(pool: asyncpg.Pool, viewer: Viewer, limit: int = 500) -> list[dict[str, Any]]:
    """Live demands (open or partly filled, closing date not passed) that ``viewer`` sees."""
    return await demands(pool, viewer, live=True, employer_id=None, after=None, limit=limit)


async def brand_names(pool: asyncpg.Pool, brand_ids: Iterable[str]) -> dict[str, str]:
    """The names of the brands positions prefer, for the reasons a shortlist gives (one query per answer)."""
    ids = sorted({b for b in brand_ids if b})
    if not ids:
        return {}
    rows = await pool.fetch("SELECT brand_id, name FROM brands WHERE brand_id = ANY($1::text[])", ids)
    return {r["brand_id"]: r["name"] for r in rows}


def record_of(row: dict[str, Any]) -> DemandRecord:
    """A demand row read for a view (``SELECT *``) as the domain's record."""
    return DemandRecord(**{k: row[k] for k in DEMAND_COLUMNS})
