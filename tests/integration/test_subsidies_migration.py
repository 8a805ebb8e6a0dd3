"""Upgrading to subsidies that carry their placement's region and brand fills them in for what was accrued before."""

from __future__ import annotations

from laowu.store import stats
from laowu.store.migrate import migrate
from laowu.store.pool import connect

from helpers import database_before


async def test_existing_subsidies_get_their_placements_region_and_brand(infra) -> None:  # type: ignore[no-untyped-def]
    dsn = await database_before(infra, "0014")
    conn = await connect(dsn)
    try:
        for pid, origin, brand in (("p1", "469005", "yesao"), ("p2", "500101", "qz")):
            await conn.execute(
                "INSERT INTO placements (placement_id, dispatch_id, worker_id, employer_id, organizer_id, brand_id, "
                "origin_region, destination_region, departure_date, status, start_date, version) "
                "VALUES ($1, 'd1', 'w' || $1, 'e1', 'ws1', $3, $2, '440305', '2026-02-01', 'confirmed', '2026-02-05', 2)",
                pid, origin, brand)
            await conn.execute(
                "INSERT INTO subsidies (subsidy_id, kind, worker_id, organization_id, placement_id, amount, rule_version, "
                "accrued_at) VALUES ('s:' || $1, 'employment_service', 'w' || $1, 'ws1', $1, 300, 'v1', now())", pid)

        assert "0014_subsidies_scope" in await migrate(dsn)

        rows = await conn.fetch("SELECT placement_id, origin_region, brand_id FROM subsidies ORDER BY placement_id")
        assert [tuple(r) for r in rows] == [("p1", "469005", "yesao"), ("p2", "500101", "qz")]
        assert await stats.subsidies(conn, ("region", "460000")) == (300, 1)
        assert await stats.subsidies(conn, ("region", "469005")) == (300, 1)
        assert await stats.subsidies(conn, ("brand", "qz")) == (300, 1)
        assert await stats.subsidies(conn, ("all", "")) == (600, 2)
        # A ledger consumer of the previous release, during a rolling update, does not know the columns.
        await conn.execute(
            "INSERT INTO subsidies (subsidy_id, kind, worker_id, organization_id, placement_id, amount, rule_version, "
            "accrued_at) VALUES ('s:p2b', 'retention', 'wp2', 'ws1', 'p2', 500, 'v1', now())")
        assert await stats.subsidies(conn, ("region", "500000")) == (800, 2)
        assert await stats.subsidies(conn, ("brand", "qz")) == (800, 2)
    finally:
        await conn.close()
