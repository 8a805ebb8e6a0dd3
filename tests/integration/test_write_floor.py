"""``benchmarks.write_floor`` replays exactly the writes it is given: a floor that wrote fewer would flatter it."""

from __future__ import annotations

import uuid

import asyncpg

from benchmarks import write_floor


async def test_bump_makes_exactly_the_updates_asked(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("CREATE TEMP TABLE t (k int PRIMARY KEY, v int) ON COMMIT DROP")
        await conn.execute("INSERT INTO t SELECT g, g FROM generate_series(1, 7) g")
        for updates, expected in ((0, 0), (3, 3), (7, 10), (16, 26)):  # cumulative: a part, one pass, passes + part
            await write_floor.bump(conn, "t", "k", 7, updates)
            assert await conn.fetchval(
                "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relid = 't'::regclass") == expected


async def test_floor_copies_every_ledger_row_and_leaves_no_twin(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO event_receipts (event_id, type, status, source, entity_id) VALUES ($1, 'worker.registered', "
            "'applied', 'test', 'w')", [(uuid.uuid4(),) for _ in range(5)])
        result = await write_floor.floor(conn, 5, {"event_receipts": 12, "workers": 3})
        assert result["copied"] == {"event_receipts": 5}
        assert result["updated"] == {"event_receipts": 12}  # none asked of an empty table: nothing to update
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'floor\\_%'") == 0


def test_hot_updates_are_not_replayed() -> None:
    writes = {"workers": {"ins": 10, "upd": 30, "hot": 12, "del": 0}, "outbox": {"ins": 1, "upd": 0, "hot": 0, "del": 1}}
    assert write_floor.moved(writes) == {"workers": 18}
