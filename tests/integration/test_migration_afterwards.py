"""A migration that needs a follow-up says so when it upgrades a ledger with data, and only then."""

from __future__ import annotations

from laowu.store.migrate import afterwards, migrate
from laowu.store.pool import connect

from helpers import database_before


async def test_retention_upgrade_of_a_ledger_with_placements_asks_for_a_recount(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = await database_before(infra, "0013")
    conn = await connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO placements (placement_id, dispatch_id, worker_id, employer_id, organizer_id, brand_id, "
            "origin_region, destination_region, departure_date, status, start_date, version) "
            "VALUES ('p1', 'd1', 'w1', 'e1', 'ws1', 'qz', '469005', '440305', '2026-02-01', 'confirmed', '2026-02-05', 2)")
    finally:
        await conn.close()
    applied = await migrate(dsn)
    [todo] = await afterwards(dsn, applied)
    assert "laowu stats recount --fix" in todo
    assert await afterwards(dsn, await migrate(dsn)) == []  # nothing applied the second time


async def test_a_fresh_database_needs_no_follow_up(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = await database_before(infra, "0001")
    applied = await migrate(dsn)
    assert "0013_retention_by_due_date" in applied
    assert await afterwards(dsn, applied) == []
