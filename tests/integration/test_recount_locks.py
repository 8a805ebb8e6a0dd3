"""``laowu stats recount`` takes its locks in the order the statistics sink writes, so the two never deadlock."""

from __future__ import annotations

import asyncio

import asyncpg

from laowu.settings import Settings
from laowu.store import stats as store


async def test_recount_lock_waits_for_a_sink_chunk_instead_of_deadlocking_with_it(settings: Settings) -> None:
    assert settings.database_url
    sink = await asyncpg.connect(settings.database_url)
    recount = await asyncpg.connect(settings.database_url)
    try:
        # A sink chunk (streams.sink._apply_ledger): memberships first ...
        sink_tx = sink.transaction()
        await sink_tx.start()
        await sink.execute("INSERT INTO stats_members (dim, key, month, metric, worker_id) "
                           "VALUES ('all', '', '', 'dispatched', 'w-1')")
        # ... meanwhile a recount starts its cut and waits for the chunk ...
        recount_tx = recount.transaction(isolation="repeatable_read")
        await recount_tx.start()
        locking = asyncio.create_task(store.lock_figures(recount))
        await asyncio.sleep(0.3)
        assert not locking.done()
        # ... and the chunk goes on to the figures. With the recount holding stats_figures already, PostgreSQL
        # found a deadlock here after deadlock_timeout (1 s) and failed one of the two.
        await asyncio.wait_for(sink.execute(
            "INSERT INTO stats_figures (dim, key, month, metric, value) VALUES ('all', '', '', 'registered', 1)"), 5)
        await sink_tx.commit()
        await asyncio.wait_for(locking, 5)
        assert await recount.fetchval("SELECT value FROM stats_figures WHERE metric = 'registered'") == 1
        await recount_tx.rollback()
    finally:
        await sink.close()
        await recount.close()
