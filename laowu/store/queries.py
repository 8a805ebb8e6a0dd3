"""Read side of the ledger: records, lists with keyset pagination, history.

A record that is not there (or not for this viewer) raises ``laowu.store.errors.NotFound`` (also importable
from here).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from laowu.store.errors import NotFound as NotFound  # re-exported: where the routers import it from
from laowu.store.ledger import LAST_FOLLOWUP_AT
from laowu.store.scope import (
    Reach,
    Viewer,
    placement_clause,
    region_codes,
    region_prefix,
    unbounded,
    worker_clause,
    worker_sources,
)


class Filter:
    """A WHERE clause built from optional criteria, with numbered parameters; ``?`` marks the value's place."""

    def __init__(self) -> None:
        self.args: list[Any] = []
        self.parts: list[str] = ["TRUE"]

    def raw(self, clause: str) -> Filter:
        self.parts.append(clause)
        return self

    def add(self, template: str, value: Any) -> Filter:
        if value is not None and value != "":
            self.args.append(value)
            self.parts.append(template.replace("?", f"${len(self.args)}"))
        return self

    async def page(self, pool: asyncpg.Pool, select: str, order: str, limit: int) -> list[dict[str, Any]]:
        self.args.append(limit)
        sql = f"{select} WHERE {' AND '.join(self.parts)} ORDER BY {order} LIMIT ${len(self.args)}"
        return [dict(r) for r in await pool.fetch(sql, *self.args)]


WORKER_PUBLIC = f"""
    worker_id, id_number_masked, name, sex, birth_date, phone_masked, household_region, brand_ids,
    priority_groups, certificates, trainings, occupation_code, state, current_placement_id, {LAST_FOLLOWUP_AT},
    registered_at, version, updated_at, intention
"""


async def worker(pool: asyncpg.Pool, worker_id: str, viewer: Viewer) -> dict[str, Any]:
    args: list[Any] = [worker_id]
    clause = worker_clause(viewer, args)
    row = await pool.fetchrow(f"SELECT {WORKER_PUBLIC} FROM workers w WHERE worker_id = $1 AND {clause}", *args)
    if row is None:
        raise NotFound(worker_id)
    return dict(row)


async def workers(
    pool: asyncpg.Pool, *, brand_id: str | None, region: str | None, state: str | None, after: str | None, limit: int,
    viewer: Viewer,
) -> list[dict[str, Any]]:
    f = Filter()
    f.raw(await jurisdiction_clause(pool, viewer, after, f.args))
    f.add("brand_ids @> ?::text[]", [brand_id] if brand_id else None)
    f.add("household_region LIKE ?", region_prefix(region) + "%" if region else None)
    f.add("state = ?", state).add("worker_id > ?", after)
    return await f.page(pool, f"SELECT {WORKER_PUBLIC} FROM workers w", "worker_id", limit)


# A regional viewer's page is found one of two ways. Walking worker ids in order and testing each meets a page
# within about limit × workers ÷ visible rows (ids are HMAC digests, evenly spread): quick for a province, but a
# county with 22 of 1,000,000 workers read them all (320-650 ms a page). Under FEW_VISIBLE visible workers per
# reason the ids are collected from the three indexes instead, and only those rows are read. The cap prices the
# probe a big jurisdiction pays (2,000 index entries, 0.4-1.6 ms) against the longest walk left to the other
# way (limit × workers ÷ 2,000: 25,000 rows, about 8 ms, for a 50-row page of 1,000,000 workers).
FEW_VISIBLE = 2_000


async def jurisdiction_clause(conn: asyncpg.Pool | asyncpg.Connection, viewer: Viewer | None, after: str | None,
                              args: list[Any], alias: str = "w") -> str:
    """``scope.worker_clause`` for a page of workers after ``after``; for a small regional jurisdiction also the
    ids collected by :func:`few_visible`, so that only those rows are read instead of walking the ledger."""
    clause = worker_clause(viewer, args, alias)
    if viewer is None or unbounded(viewer) or viewer.role == "employer":
        return clause
    ids = await few_visible(conn, viewer, after)
    if ids is None:
        return clause
    args.append(ids)
    return f"{clause} AND {alias}.worker_id = ANY(${len(args)}::text[])"


async def few_visible(pool: asyncpg.Pool | asyncpg.Connection, viewer: Viewer, after: str | None) -> list[str] | None:
    """The ids of the workers ``viewer`` sees after ``after``, when every reason gives fewer than FEW_VISIBLE."""
    args: list[Any] = []
    sources = worker_sources(viewer, args, FEW_VISIBLE, after)
    # Counted in the database: a big jurisdiction's probe returns NULL, not thousands of ids to decode and drop
    # (through the API that took a province's page from 3.6 to 16 ms at 4 in flight).
    args.append(FEW_VISIBLE)
    ids = await pool.fetchval(
        f"SELECT CASE WHEN count(*) < ${len(args)} THEN coalesce(array_agg(worker_id), '{{}}'::text[]) END "
        f"FROM ({sources}) s", *args)
    return None if ids is None else list(ids)


async def worker_history(pool: asyncpg.Pool, worker_id: str, after: int, limit: int,
                         sent_by: str | None = None) -> list[dict[str, Any]]:
    """A worker's history after ``after``; with ``sent_by``, only the events that organization sent."""
    f = Filter().add("worker_id = ?", worker_id).add("seq > ?", after).add("actor->>'org' = ?", sent_by)
    return await f.page(pool, "SELECT seq, event_id, type, occurred_at, recorded_at, applied_at, source, actor, changes "
                        "FROM worker_events", "seq", limit)


async def in_jurisdiction(pool: asyncpg.Pool, worker_id: str, viewer: Viewer) -> bool:
    """Whether ``viewer`` sees the worker by jurisdiction (household region, dispatch origin), not only as the
    receiving region or because it registered them."""
    args: list[Any] = [worker_id]
    clause = worker_clause(viewer, args, reach="jurisdiction")
    return bool(await pool.fetchval(f"SELECT EXISTS (SELECT 1 FROM workers w WHERE worker_id = $1 AND {clause})", *args))


async def households(pool: asyncpg.Pool, worker_ids: list[str], viewer: Viewer, reach: Reach = "act"
                     ) -> dict[str, str]:
    """The current household region of each worker ``viewer`` may write about (or, with ``reach``, see)."""
    args: list[Any] = [worker_ids]
    clause = worker_clause(viewer, args, reach=reach)
    rows = await pool.fetch(
        f"SELECT worker_id, household_region FROM workers w WHERE worker_id = ANY($1::text[]) AND {clause}", *args)
    return {r["worker_id"]: r["household_region"] for r in rows}


async def discrepancies(pool: asyncpg.Pool, worker_id: str, viewer: Viewer) -> list[dict[str, Any]]:
    args: list[Any] = [worker_id]
    clause = worker_clause(viewer, args)
    value = await pool.fetchrow(f"SELECT discrepancies FROM workers w WHERE worker_id = $1 AND {clause}", *args)
    if value is None:
        raise NotFound(worker_id)
    return list(value["discrepancies"])


BRAND_PUBLIC = """
    b.brand_id, b.name, b.region_code, b.category, b.level, b.status, b.industry, b.occupation_code, b.operator,
    b.trademark_number, b.integrity_rating, b.version, b.created_at, b.updated_at,
    (SELECT count(*) FROM workers w WHERE w.brand_ids @> ARRAY[b.brand_id]) AS member_count
"""


async def brand(pool: asyncpg.Pool, brand_id: str) -> dict[str, Any]:
    row = await pool.fetchrow(f"SELECT {BRAND_PUBLIC} FROM brands b WHERE b.brand_id = $1", brand_id)
    if row is None:
        raise NotFound(brand_id)
    return dict(row)


async def brands(
    pool: asyncpg.Pool, *, region: str | None, status: str | None, after: str | None, limit: int,
    category: str | None = None, level: str | None = None,
) -> list[dict[str, Any]]:
    f = Filter().add("b.region_code LIKE ?", region_prefix(region) + "%" if region else None)
    f.add("b.status = ?", status).add("b.category = ?", category).add("b.level = ?", level)
    f.add("b.brand_id > ?", after)
    return await f.page(pool, f"SELECT {BRAND_PUBLIC} FROM brands b", "b.brand_id", limit)


async def brand_history(pool: asyncpg.Pool, brand_id: str, after: int, limit: int) -> list[dict[str, Any]]:
    """A brand's applied events (registration, changes, status changes with their reasons), oldest first."""
    f = Filter().add("brand_id = ?", brand_id).add("seq > ?", after)
    return await f.page(pool, "SELECT seq, event_id, type, occurred_at, recorded_at, applied_at, source, actor, changes "
                        "FROM brand_events", "seq", limit)


async def brand_scopes(pool: asyncpg.Pool, brand_ids: list[str]) -> dict[str, tuple[str, str]]:
    """``{brand_id: (status, region_code)}`` of applied brands: what a change to a brand is decided against."""
    rows = await pool.fetch("SELECT brand_id, status, region_code FROM brands WHERE brand_id = ANY($1::text[])",
                            brand_ids)
    return {r["brand_id"]: (r["status"], r["region_code"]) for r in rows}


async def brand_statuses(pool: asyncpg.Pool, brand_ids: list[str]) -> dict[str, str]:
    rows = await pool.fetch("SELECT brand_id, status FROM brands WHERE brand_id = ANY($1::text[])", brand_ids)
    return {r["brand_id"]: r["status"] for r in rows}


# ---- organized output -----------------------------------------------------------------------------
async def placement(pool: asyncpg.Pool, placement_id: str, viewer: Viewer) -> dict[str, Any]:
    args: list[Any] = [placement_id]
    clause = placement_clause(viewer, args)
    row = await pool.fetchrow(f"SELECT * FROM placements p WHERE placement_id = $1 AND {clause}", *args)
    if row is None:
        raise NotFound(placement_id)
    return dict(row)


async def placements(pool: asyncpg.Pool, *, status: str | None, worker_id: str | None, after: str | None, limit: int,
                     viewer: Viewer) -> list[dict[str, Any]]:
    """Placements the viewer sees (the employer named, the organizer, the origin's jurisdiction), in id order, with
    the worker's name, sex and stored masked number (``worker_*``; the caller masks it as every view does) and the
    organizer's registered name."""
    f = Filter()
    f.raw(placement_clause(viewer, f.args))
    f.add("p.status = ?", status).add("p.worker_id = ?", worker_id).add("p.placement_id > ?", after)
    return await f.page(
        pool,
        "SELECT p.*, w.name AS worker_name, w.sex AS worker_sex, w.id_number_masked AS worker_id_number_masked, "
        "o.name AS organizer_name "
        "FROM placements p LEFT JOIN workers w ON w.worker_id = p.worker_id "
        "LEFT JOIN organizations o ON o.org_id = p.organizer_id",
        "p.placement_id",
        limit,
    )


async def dispatch(pool: asyncpg.Pool, dispatch_id: str, viewer: Viewer) -> dict[str, Any]:
    args: list[Any] = [dispatch_id]
    clause = placement_clause(viewer, args, alias="d")
    row = await pool.fetchrow(f"SELECT * FROM dispatches d WHERE dispatch_id = $1 AND {clause}", *args)
    if row is None:
        raise NotFound(dispatch_id)
    workers = await pool.fetch(
        """SELECT dw.worker_id, dw.placement_id, dw.outcome, dw.reason, p.status AS placement_status
             FROM dispatch_workers dw LEFT JOIN placements p ON p.placement_id = dw.placement_id
            WHERE dw.dispatch_id = $1 ORDER BY dw.worker_id""",
        dispatch_id,
    )
    return dict(row) | {"workers": [dict(w) for w in workers]}


#: The person an alert or an entitlement (``t``) is about, by name, as every masked view shows it.
_WORKER_NAME = "(SELECT w.name FROM workers w WHERE w.worker_id = t.worker_id) AS worker_name"


async def alerts(pool: asyncpg.Pool, *, region: str | None, kind: str | None, open_only: bool | None,
                 worker_id: str | None, after: str | None, limit: int, viewer: Viewer) -> list[dict[str, Any]]:
    f = Filter()
    source, order = covered(f, "alerts", viewer, region, after)
    f.add("t.kind = ?", kind).add("t.worker_id = ?", worker_id)
    if open_only is not None:
        f.raw("t.closed_at IS NULL" if open_only else "t.closed_at IS NOT NULL")
    return await f.page(pool, f"SELECT t.*, {_WORKER_NAME} FROM {source}", order, limit)


async def subsidies(pool: asyncpg.Pool, *, region: str | None, worker_id: str | None, organization_id: str | None,
                    after: str | None, limit: int, viewer: Viewer, status: str | None = None,
                    kind: str | None = None) -> list[dict[str, Any]]:
    """Entitlements with where their workflow stands (issue 21: no ``subsidy_claims`` row means ``entitled``)."""
    f = Filter()
    source, order = covered(f, "subsidies", viewer, region, after)
    f.add("t.worker_id = ?", worker_id).add("t.organization_id = ?", organization_id).add("t.kind = ?", kind)
    if status == "entitled":
        f.raw("k.status IS NULL")
    else:
        f.add("k.status = ?", status)
    return await f.page(pool, f"SELECT t.*, COALESCE(k.status, 'entitled') AS status, COALESCE(k.period, t.period) "
                              "AS period, k.applicant_id, k.notice_id, k.notice_end, k.paid_on, k.voucher_number, "
                              f"{_WORKER_NAME}, "
                              "(SELECT o.name FROM organizations o WHERE o.org_id = t.organization_id) "
                              "AS organization_name "
                              f"FROM {source} LEFT JOIN subsidy_claims k ON k.subsidy_id = t.subsidy_id", order, limit)


COVERS = {"alerts": ("alert_regions", "alert_id"), "subsidies": ("subsidy_regions", "subsidy_id")}


def covered(f: Filter, table: str, viewer: Viewer | None, region: str | None, after: str | None) -> tuple[str, str]:
    """FROM and ORDER BY of a page of alerts or subsidies (as ``t``) after ``after``, restricted to what
    ``viewer`` sees under ``region``.

    When a region decides, the page is that region's range of its cover table (migration 0016) in id order, and
    a second region is a key lookup; a page costs the same for a county as for a province. Otherwise the
    table itself is walked in id order.
    """
    cover, key = COVERS[table]
    codes = region_codes(viewer, region)
    if not codes:
        f.raw("FALSE" if codes is None else "TRUE").add(f"t.{key} > ?", after)
        return f"{table} t", f"t.{key}"
    f.add("c.code = ?", codes[0])
    for i, code in enumerate(codes[1:]):
        f.add(f"EXISTS (SELECT 1 FROM {cover} c{i} WHERE c{i}.code = ? AND c{i}.{key} = c.{key})", code)
    f.add(f"c.{key} > ?", after)  # on the cover's column: the planner carries equalities across a join, not ranges
    return f"{cover} c JOIN {table} t ON t.{key} = c.{key}", f"c.{key}"


async def audit(pool: asyncpg.Pool | asyncpg.Connection, *, actor: str, role: str, org: str, action: str,
                worker_id: str | None = None, purpose: str | None = None, ip: str | None = None,
                detail: dict[str, Any] | None = None) -> None:
    """One entry of the audit log (pass a connection to write it inside the caller's transaction)."""
    await pool.execute(
        "INSERT INTO audit_log (actor, role, org, action, worker_id, purpose, ip, detail) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        actor, role, org, action, worker_id, purpose, ip, detail or {},
    )


async def audit_entries(pool: asyncpg.Pool, *, worker_id: str | None, actor: str | None, after: int, limit: int
                        ) -> list[dict[str, Any]]:
    f = Filter().add("seq > ?", after).add("worker_id = ?", worker_id).add("actor = ?", actor)
    return await f.page(pool, "SELECT seq, at, actor, role, org, action, worker_id, purpose, ip, detail FROM audit_log",
                        "seq", limit)


async def reveal(pool: asyncpg.Pool, worker_id: str, viewer: Viewer) -> dict[str, Any]:
    """The full record, for a viewer with jurisdiction: having registered someone (perhaps in another province) is
    not enough, or registering a known ID number would open the phone the person's own bureau keeps; nor is
    receiving them (the destination region's view is masked)."""
    args: list[Any] = [worker_id]
    clause = worker_clause(viewer, args, reach="jurisdiction")
    row = await pool.fetchrow(
        f"SELECT {WORKER_PUBLIC}, id_number_enc, phone_enc FROM workers w WHERE worker_id = $1 AND {clause}", *args)
    if row is None:
        raise NotFound(worker_id)
    return dict(row)
