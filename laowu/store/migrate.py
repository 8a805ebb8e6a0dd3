"""Plain, ordered SQL migrations tracked in ``schema_migrations``; safe to run from several processes."""

from __future__ import annotations

from importlib import resources

import asyncpg

_LOCK_ID = 0x1A0_0001  # advisory lock: concurrent starters wait instead of racing


async def is_empty(dsn: str) -> bool:
    """No table outside PostgreSQL's own schemas: what a restore (``laowu.backup``) and a rebuild
    (``laowu.rebuild``) write into, never over what is there."""
    conn = await asyncpg.connect(dsn)
    try:
        return not await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
    finally:
        await conn.close()


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("laowu.store") / "migrations"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(p.name.removesuffix(".sql"), p.read_text(encoding="utf-8")) for p in files]


# What a migration cannot do inside its own transaction, for whoever applied it to a ledger that already had
# data: (a query that is true when it is needed, what to do).
AFTERWARDS: dict[str, tuple[str, str]] = {
    "0013_retention_by_due_date": (
        "SELECT EXISTS (SELECT 1 FROM placements WHERE start_date IS NOT NULL)",
        "retention figures of placements confirmed before this upgrade: run `laowu stats recount --fix` once the "
        "statistics worker is up (it waits for a consistent cut, so nothing is counted twice)",
    ),
}


async def afterwards(dsn: str, applied: list[str]) -> list[str]:
    """The follow-ups the just-applied migrations need on this database (empty on a fresh one)."""
    wanted = [AFTERWARDS[v] for v in applied if v in AFTERWARDS]
    if not wanted:
        return []
    conn = await asyncpg.connect(dsn)
    try:
        return [todo for check, todo in wanted if await conn.fetchval(check)]
    finally:
        await conn.close()


async def migrate(dsn: str) -> list[str]:
    """Apply what is missing, each file in its own transaction; returns the versions applied."""
    conn = await asyncpg.connect(dsn)
    applied: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for version, sql in migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
            applied.append(version)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
        await conn.close()
    return applied
