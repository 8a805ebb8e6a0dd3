"""Cooperation agreements (劳务协作) and posted workstations (驻外工作站) in PostgreSQL (migration 0027): the SQL.

Who sees an agreement: an admin; a bureau or workstation whose region overlaps a side of it (covers the side's
region, or lies inside it: a county workstation sees its province's agreements); a bureau named as a side.
Progress is counted from the applied dispatches that name the agreement.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import asyncpg

from laowu.domain.agreements import AgreementRecord
from laowu.ledger.rows import row_of
from laowu.store import bulk
from laowu.store.errors import NotFound
from laowu.store.scope import Viewer, region_prefix, unbounded

Conn: TypeAlias = asyncpg.Pool | asyncpg.Connection
COLUMNS = [f.name for f in dataclasses.fields(AgreementRecord)]
_SAVE = ("ON CONFLICT (agreement_id) DO UPDATE SET "
         + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS if c != "agreement_id") + ", updated_at = now()")


# ---- the ledger's reads and writes (inside its transaction) --------------------------------------------------
async def load(conn: Conn, agreement_ids: Iterable[str], *, lock: bool = False) -> dict[str, AgreementRecord]:
    ids = sorted(set(agreement_ids))
    if not ids:
        return {}
    rows = await conn.fetch(f"SELECT {', '.join(COLUMNS)} FROM agreements WHERE agreement_id = ANY($1::text[]) "
                            "ORDER BY agreement_id" + (" FOR UPDATE" if lock else ""), ids)
    return {r["agreement_id"]: _record(dict(r)) for r in rows}


def _record(row: dict[str, Any]) -> AgreementRecord:
    row["brand_ids"] = list(row["brand_ids"])
    return AgreementRecord(**row)


async def save(conn: asyncpg.Connection, records: Sequence[AgreementRecord]) -> None:
    if records:
        await bulk.write(conn, "agreements", [row_of(r) for r in records], _SAVE)


# ---- reads for the API -------------------------------------------------------------------------------------
def visible(viewer: Viewer | None, args: list[Any], alias: str = "a") -> str:
    """A predicate over ``agreements {alias}``: what ``viewer`` sees (see the module docstring)."""
    if viewer is None:
        return "FALSE"
    if unbounded(viewer):
        return "TRUE"
    if viewer.role not in ("bureau", "workstation") or not viewer.region:
        return "FALSE"
    args += [region_prefix(viewer.region) + "%", viewer.region]
    p, r = f"${len(args) - 1}", f"${len(args)}"
    clause = (f"({alias}.origin_region LIKE {p} OR {alias}.destination_region LIKE {p} "
              f"OR {alias}.origin_region = ANY(region_rollup({r})) OR {alias}.destination_region = ANY(region_rollup({r}))")
    if viewer.role == "bureau":
        args.append(viewer.org)
        clause += f" OR {alias}.origin_bureau_id = ${len(args)} OR {alias}.destination_bureau_id = ${len(args)}"
    return clause + ")"


_PUBLIC = ("a.agreement_id, a.name, a.origin_region, a.destination_region, a.origin_bureau_id, "
           "a.destination_bureau_id, a.start_date, a.end_date, a.target_headcount, a.brand_ids, a.status, a.ended_on, "
           "a.end_reason, a.version, a.updated_at")


async def page(conn: Conn, viewer: Viewer, *, region: str | None, status: str | None, after: str | None,
               limit: int) -> list[dict[str, Any]]:
    """Agreements ``viewer`` sees, by id; ``region`` keeps those with a side under it."""
    args: list[Any] = []
    where = [visible(viewer, args)]
    if region:
        args.append(region_prefix(region) + "%")
        where.append(f"(a.origin_region LIKE ${len(args)} OR a.destination_region LIKE ${len(args)})")
    if status:
        args.append(status)
        where.append(f"a.status = ${len(args)}")
    if after:
        args.append(after)
        where.append(f"a.agreement_id > ${len(args)}")
    args.append(limit)
    rows = await conn.fetch(f"SELECT {_PUBLIC} FROM agreements a WHERE {' AND '.join(where)} "
                            f"ORDER BY a.agreement_id LIMIT ${len(args)}", *args)
    return [dict(r) for r in rows]


async def one(conn: Conn, agreement_id: str, viewer: Viewer) -> dict[str, Any]:
    args: list[Any] = [agreement_id]
    row = await conn.fetchrow(f"SELECT {_PUBLIC} FROM agreements a WHERE a.agreement_id = $1 AND {visible(viewer, args)}",
                              *args)
    if row is None:
        raise NotFound(agreement_id)
    return dict(row)


async def records(conn: Conn, agreement_ids: list[str]) -> dict[str, AgreementRecord]:
    """Applied agreements by id, for the handlers (who may act on them is the handler's rule)."""
    return await load(conn, agreement_ids)


async def progress(conn: Conn, agreement_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per agreement: applied dispatches naming it, distinct people dispatched, placements created, distinct people
    confirmed (a placement confirmed, whether or not it has ended since)."""
    rows = await conn.fetch(
        """SELECT d.agreement_id,
                  count(DISTINCT d.dispatch_id) AS dispatches,
                  count(DISTINCT dw.worker_id) AS dispatched,
                  count(dw.placement_id) AS placements,
                  count(DISTINCT p.worker_id) FILTER (WHERE p.status IN ('confirmed', 'ended')
                                                      AND p.start_date IS NOT NULL) AS confirmed
             FROM dispatches d
             JOIN dispatch_workers dw ON dw.dispatch_id = d.dispatch_id AND dw.outcome = 'dispatched'
             LEFT JOIN placements p ON p.placement_id = dw.placement_id
            WHERE d.agreement_id = ANY($1::text[]) AND d.status = 'applied'
            GROUP BY d.agreement_id""", list(agreement_ids))
    found = {r["agreement_id"]: {k: int(r[k]) for k in ("dispatches", "dispatched", "placements", "confirmed")}
             for r in rows}
    empty = {"dispatches": 0, "dispatched": 0, "placements": 0, "confirmed": 0}
    return {a: found.get(a, dict(empty)) for a in agreement_ids}


# ---- posted workstations (驻外工作站) -------------------------------------------------------------------------
async def post(conn: Conn, *, workstation_id: str, posted_region: str, note: str | None, posted_by: str
               ) -> dict[str, Any]:
    row = await conn.fetchrow(
        """INSERT INTO workstation_postings (workstation_id, posted_region, posted_prefix, note, posted_by)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (workstation_id) DO UPDATE SET posted_region = EXCLUDED.posted_region,
                  posted_prefix = EXCLUDED.posted_prefix, note = EXCLUDED.note, posted_by = EXCLUDED.posted_by,
                  posted_at = now()
           RETURNING workstation_id, posted_region, note, posted_by, posted_at""",
        workstation_id, posted_region, region_prefix(posted_region), note, posted_by)
    assert row is not None
    return dict(row)


async def posting(conn: Conn, workstation_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT workstation_id, posted_region, note, posted_by, posted_at "
                              "FROM workstation_postings WHERE workstation_id = $1", workstation_id)
    return None if row is None else dict(row)


async def unpost(conn: Conn, workstation_id: str) -> bool:
    return (await conn.execute("DELETE FROM workstation_postings WHERE workstation_id = $1", workstation_id)) != "DELETE 0"


async def postings(conn: Conn, *, region: str | None, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Postings into ``region`` (None: all), by workstation id."""
    rows = await conn.fetch(
        """SELECT workstation_id, posted_region, note, posted_by, posted_at FROM workstation_postings
            WHERE ($1::text IS NULL OR posted_region LIKE $1) AND ($2::text IS NULL OR workstation_id > $2)
            ORDER BY workstation_id LIMIT $3""",
        region_prefix(region) + "%" if region else None, after, limit)
    return [dict(r) for r in rows]
