"""The store translates the driver's "cannot reach the database" errors into its own ``Unavailable`` (the API's pool,
``create_pool(translate=True)``), whichever way the database went away: a connection lost under a query or a
transaction, or no server to connect to; other errors of the database stay what they are."""

from __future__ import annotations

import asyncio
import socket

import asyncpg
import pytest

from laowu.settings import Settings
from laowu.store.errors import UNAVAILABLE, Unavailable
from laowu.store.pool import create_pool


async def _terminate_all(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        await conn.close()


async def test_a_connection_lost_under_a_query_or_a_transaction_is_unavailable(settings: Settings) -> None:
    assert settings.database_url
    pool = await create_pool(settings.database_url, min_size=1, max_size=1, translate=True)
    try:
        assert await pool.fetchval("SELECT 1") == 1
        # Killed under a query (a connection already dead when taken is replaced by the pool, unseen).
        query = asyncio.create_task(pool.fetchval("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.5)
        await _terminate_all(settings.database_url)
        with pytest.raises(Unavailable) as lost:
            await query
        assert isinstance(lost.value.__cause__, UNAVAILABLE)
        with pytest.raises(Unavailable):
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT 1")
                await _terminate_all(settings.database_url)
                await conn.execute("SELECT 1")
        assert await pool.fetchval("SELECT 2") == 2  # and the pool recovers by itself
        with pytest.raises(asyncpg.UndefinedTableError):  # a mistake of ours is not an outage
            await pool.fetch("SELECT * FROM no_such_table")
    finally:
        await pool.close()


async def test_no_server_to_connect_to_is_unavailable() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = await create_pool(f"postgresql://laowu@127.0.0.1:{port}/laowu", min_size=0, max_size=1, translate=True)
    try:
        with pytest.raises(Unavailable) as down:
            await pool.fetchval("SELECT 1")
        assert isinstance(down.value.__cause__, OSError)
    finally:
        await pool.close()
