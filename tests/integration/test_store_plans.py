"""The batch writers' id-array lookups are planned for each batch, never from a plan cached on an empty table.

A generic plan made while ``workers`` was small is a sequential scan comparing every row with every id; it
stalled the ledger for 15-25 s on a fresh database under load (``benchmarks.freshness``, auto_explain).
"""

from __future__ import annotations

import asyncpg

from laowu.settings import Settings
from laowu.store import ledger as store
from laowu.store.pool import create_pool

LOOKUP = "%FROM workers WHERE worker_id = ANY%FOR UPDATE"


async def _plans_after_lookups(dsn: str, writer: bool) -> asyncpg.Record:
    pool = await create_pool(dsn, min_size=1, max_size=1, writer=writer)
    try:
        async with pool.acquire() as conn:
            for batch in range(8):  # more than the five custom plans after which PostgreSQL may go generic
                async with conn.transaction():
                    await store.load_workers(conn, [f"w{batch}-{i}" for i in range(500)])
            row = await conn.fetchrow("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                                      "WHERE statement LIKE $1", LOOKUP)
            assert row is not None, "the lookup is not a prepared statement any more"
            return row
    finally:
        await pool.close()


async def test_writer_pool_plans_every_lookup(settings: Settings) -> None:
    assert settings.database_url
    plans = await _plans_after_lookups(settings.database_url, writer=True)
    assert (plans["generic_plans"], plans["custom_plans"]) == (0, 8)


async def test_default_pool_would_reuse_a_generic_plan(settings: Settings) -> None:
    """The hazard the writer setting removes is real on this server: without it the lookup goes generic."""
    assert settings.database_url
    plans = await _plans_after_lookups(settings.database_url, writer=False)
    assert plans["generic_plans"] > 0
