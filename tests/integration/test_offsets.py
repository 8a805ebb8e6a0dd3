"""Stored consumer positions only move forward."""

from __future__ import annotations

import asyncpg

from laowu.store import ledger as store


async def test_a_stale_batch_does_not_rewind_the_new_owner(pool: asyncpg.Pool) -> None:
    """The new owner of a partition committed up to 300; the fenced old owner then finishes its batch up to 200."""
    async with pool.acquire() as conn:
        for upto in (300, 201):
            async with conn.transaction():
                await store.lock_offsets(conn, "ledger", [("workers", 0)])
                await store.store_offsets(conn, "ledger", {("workers", 0): upto})
        assert await store.stored_offsets(conn, "ledger") == {("workers", 0): 300}
