"""Imports and their row-by-row issues (``0003_imports.sql``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from laowu.store import known
from laowu.store.scope import Viewer, region_prefix

IMPORT_PUBLIC = """import_id, kind, workstation_id, filename, status, rows, accepted, rejected, warnings, sheet,
                   header_row, columns, error, result, created_at, updated_at, finished_at"""


@dataclass(frozen=True)
class IssueRow:
    row_number: int
    severity: str  # error | warning
    sealed_values: str
    reason_zh: str
    reason: str


async def create(
    pool: asyncpg.Pool, *, kind: str, workstation_id: str, file_sha256: str, filename: str | None
) -> tuple[uuid.UUID, str, bool]:
    """``(import_id, status, created)``; an earlier import of the same file that did not fail is returned instead."""
    for _ in range(3):
        row = await pool.fetchrow(
            """INSERT INTO imports (import_id, kind, workstation_id, file_sha256, filename, status)
               VALUES ($1, $2, $3, $4, $5, 'running')
               ON CONFLICT (kind, workstation_id, file_sha256) WHERE status <> 'failed' DO NOTHING
               RETURNING import_id, status""",
            uuid.uuid4(), kind, workstation_id, file_sha256, filename,
        )
        if row is not None:
            return row["import_id"], row["status"], True
        row = await pool.fetchrow(
            """SELECT import_id, status FROM imports
                WHERE kind = $1 AND workstation_id = $2 AND file_sha256 = $3 AND status <> 'failed'""",
            kind, workstation_id, file_sha256,
        )
        if row is not None:
            return row["import_id"], row["status"], False
    raise RuntimeError("could not create or find the import")  # it failed between our two statements, thrice


async def begin(pool: asyncpg.Pool, import_id: uuid.UUID, *, sheet: str, header_row: int, columns: list[str]) -> None:
    await pool.execute(
        "UPDATE imports SET sheet = $2, header_row = $3, columns = $4, updated_at = now() WHERE import_id = $1",
        import_id, sheet, header_row, columns,
    )


async def record(pool: asyncpg.Pool, import_id: uuid.UUID, issues: Sequence[IssueRow], *,
                 rows: int, accepted: int, rejected: int, warnings: int) -> None:
    """One chunk: its issues and the running totals, in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        if issues:
            await conn.execute(
                """INSERT INTO import_errors (import_id, row_number, severity, "values", reason_zh, reason)
                   SELECT $1, n, s, to_jsonb(v), z, r
                     FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(n, s, v, z, r)
                   ON CONFLICT DO NOTHING""",
                import_id, [i.row_number for i in issues], [i.severity for i in issues],
                [i.sealed_values for i in issues], [i.reason_zh for i in issues], [i.reason for i in issues],
            )
        await conn.execute(
            """UPDATE imports SET rows = $2, accepted = $3, rejected = $4, warnings = $5, updated_at = now()
                WHERE import_id = $1""",
            import_id, rows, accepted, rejected, warnings,
        )


async def finish(pool: asyncpg.Pool, import_id: uuid.UUID, status: str, error: str | None = None) -> None:
    await pool.execute(
        """UPDATE imports SET status = $2, error = $3, finished_at = now(), updated_at = now()
            WHERE import_id = $1 AND status = 'running'""",
        import_id, status, error,
    )


async def set_result(pool: asyncpg.Pool, import_id: uuid.UUID, result: dict[str, Any]) -> None:
    """What the import produced as a whole (a dispatch list: ``dispatch_id``, ``event_id``)."""
    await pool.execute("UPDATE imports SET result = $2, updated_at = now() WHERE import_id = $1", import_id, result)


async def get(pool: asyncpg.Pool, import_id: uuid.UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow(f"SELECT {IMPORT_PUBLIC} FROM imports WHERE import_id = $1", import_id)
    return dict(row) if row else None


#: How many of an import's problems its status shows on screen; the rest are in errors.xlsx.
PREVIEW_ISSUES = 20


async def first_issues(pool: asyncpg.Pool, import_id: uuid.UUID, limit: int = PREVIEW_ISSUES) -> list[dict[str, Any]]:
    """The first rows with a problem, errors before warnings, by row: the number and the reason only, so the page can
    show what to fix without the values (those, full ID numbers included, stay in the audited errors.xlsx)."""
    rows = await pool.fetch(
        """SELECT row_number AS "row", severity, reason_zh AS reason FROM import_errors WHERE import_id = $1
            ORDER BY severity = 'warning', row_number LIMIT $2""", import_id, limit)
    return [dict(r) for r in rows]


async def fail_if_stale(pool: asyncpg.Pool, import_id: uuid.UUID, seconds: float, error: str) -> bool:
    """A running import whose heartbeat stopped (its process died) is failed, so a re-upload can start afresh."""
    done = await pool.execute(
        """UPDATE imports SET status = 'failed', error = $3, finished_at = now()
            WHERE import_id = $1 AND status = 'running' AND updated_at < now() - make_interval(secs => $2)""",
        import_id, seconds, error,
    )
    return bool(done.endswith(" 1"))


async def issues(conn: asyncpg.Connection, import_id: uuid.UUID, severity: str) -> AsyncIterator[asyncpg.Record]:
    """Streamed in row order (call inside a transaction): an import may have tens of thousands."""
    async for row in conn.cursor(
        """SELECT row_number, "values" #>> '{}' AS sealed_values, reason_zh, reason FROM import_errors
            WHERE import_id = $1 AND severity = $2 ORDER BY row_number""",
        import_id, severity, prefetch=500,
    ):
        yield row


async def usable_brands(pool: asyncpg.Pool, region: str | None = None) -> list[dict[str, Any]]:
    """Brands a registration may name (candidate · listed · demonstration), optionally within a region."""
    args: list[Any] = []
    where = "status IN ('candidate', 'listed', 'demonstration')"
    if region:
        args.append(region_prefix(region) + "%")
        where += " AND region_code LIKE $1"
    rows = await pool.fetch(f"SELECT brand_id, name, region_code, status FROM brands WHERE {where} ORDER BY name, brand_id",
                            *args)
    return [dict(r) for r in rows]


async def find_brands(pool: asyncpg.Pool, keys: Sequence[str]) -> list[asyncpg.Record]:
    """Brands whose id or name is one of ``keys``, whatever their status."""
    return list(await pool.fetch(
        "SELECT brand_id, name, status FROM brands WHERE brand_id = ANY($1::text[]) OR name = ANY($1::text[])",
        list(keys),
    ))


async def worker_states(pool: asyncpg.Pool, worker_ids: Sequence[str], viewer: Viewer
                        ) -> dict[str, tuple[str, str | None]]:
    """``worker_id → (state, current_placement_id)`` of the workers ``viewer`` may act on, as ``POST
    /v1/dispatches`` decides it (``laowu.store.known``: the ledger and the viewer's accepted registrations)."""
    return await known.acting_workers(pool, list(worker_ids), viewer)


async def dispatch_taken(pool: asyncpg.Pool, dispatch_id: str, event_id: uuid.UUID) -> bool:
    """A dispatch with this id exists, and not because ``event_id`` (an earlier run of the same file) created it."""
    return bool(await pool.fetchval(
        """SELECT EXISTS (SELECT 1 FROM dispatches WHERE dispatch_id = $1)
              AND NOT EXISTS (SELECT 1 FROM event_receipts WHERE event_id = $2 AND entity_id = $1)""",
        dispatch_id, event_id,
    ))
