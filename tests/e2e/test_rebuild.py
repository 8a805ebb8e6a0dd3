"""``laowu rebuild`` (issue 23): after the suite's mixed workload, the ledger rebuilt from the Kafka topics alone into an
empty database equals the live one row for row, and its statistics equal the live ledger's recount."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from laowu.rebuild import RebuildError, rebuild
from laowu.settings import Settings
from laowu.store import receipts
from laowu.store import stats as stats_store
from streams import monitoring

from conftest import Infra, new_database
from workload import Workload

pytestmark = pytest.mark.services

#: The tables compared. Left out are the columns that record the processing rather than the ledger — exactly those the
#: database fills in itself when a row is written: a ``DEFAULT now()`` (when it was written) or a sequence (``seq``, the
#: global position of a history entry: a cursor following the order in which partitions happened to interleave; each
#: entity's own order is compared through its other columns) — and the ones named here. Every other column is compared,
#: ``recorded_at`` (when the API accepted the event) and every event time among them.
TABLES: dict[str, set[str]] = {
    "workers": set(), "worker_events": set(), "brands": set(), "brand_events": set(), "dispatches": set(),
    "dispatch_workers": set(), "placements": set(), "followups": set(),
    "deferred_events": set(), "alerts": set(), "alert_regions": set(), "subsidies": set(), "subsidy_regions": set(),
    "consumer_offsets": set(),
    # issues 19-21: demands, casework, organizations (registered on first use by the workload's dispatches), claims
    "demands": set(), "alert_cases": set(), "alert_case_events": set(), "organizations": set(),
    "organization_events": set(), "subsidy_claims": set(), "subsidy_budgets": set(), "subsidy_events": set(),
}


async def rows(dsn: str, table: str, left_out: set[str]) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        found = await conn.fetch(
            "SELECT column_name, column_default FROM information_schema.columns WHERE table_name = $1 "
            "AND table_schema = 'public' ORDER BY ordinal_position", table)
        columns = [r["column_name"] for r in found]
        written = {r["column_name"] for r in found if str(r["column_default"]).startswith(("now()", "nextval("))}
        kept = [c for c in columns if c not in left_out | written]
        assert kept and set(left_out) <= set(columns), (table, columns)
        listed = ", ".join(f'"{c}"' for c in kept)
        return [tuple(r) for r in await conn.fetch(f"SELECT {listed} FROM {table} ORDER BY {listed}")]
    finally:
        await conn.close()


async def test_rebuild_from_the_topics_equals_the_live_ledger(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any,
                                                             settings: Settings, infra: Infra) -> None:
    load = Workload(api, pool, workers=40, seed=23)
    await load.run()
    assert settings.database_url
    target = await new_database(infra)
    with pytest.raises(RebuildError, match="not empty"):
        await rebuild(settings, settings.database_url)
    # the template database is migrated: a rebuild needs a database without tables
    conn = await asyncpg.connect(target)
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    await conn.close()
    seen: list[tuple[int, int]] = []
    report = await rebuild(settings, target, lambda done, total: seen.append((done, total)))
    assert report.events == seen[-1][1] == seen[-1][0] > load.events // 2
    for table, left_out in TABLES.items():
        live, rebuilt = await rows(settings.database_url, table, left_out), await rows(target, table, left_out)
        if table in ("workers", "worker_events", "placements", "followups", "consumer_offsets", "organizations"):
            assert live, f"the workload left {table} empty: the comparison would prove nothing"
        first = next(((a, b) for a, b in zip(rebuilt, live, strict=False) if a != b), None)
        where = [i for i, (x, y) in enumerate(zip(*first, strict=True)) if x != y] if first else []
        assert rebuilt == live, f"{table}: {len(rebuilt)} rows rebuilt, {len(live)} live; columns {where} differ: " + str(
            [(first[0][i], first[1][i]) for i in where] if first else None)
    # What became of each event (issue 22: an applied worker event's receipt is its history row, and the live
    # ledger also holds the API's `accepted` rows for them): the outcomes, not the receipt rows, must be equal.
    outcomes = f"SELECT event_id, type, status, reason, source, entity_id FROM ({receipts.OUTCOMES}) o ORDER BY 1"
    live_outcomes = [tuple(r) for r in await pool.fetch(outcomes)]
    rebuilt_conn = await asyncpg.connect(target)
    try:
        assert [tuple(r) for r in await rebuilt_conn.fetch(outcomes)] == live_outcomes
    finally:
        await rebuilt_conn.close()
    assert live_outcomes, "the workload left no outcome: the comparison would prove nothing"
    async with pool.acquire() as live_conn:
        expected = await stats_store.recount(live_conn)
    rebuilt_conn = await asyncpg.connect(target)
    try:
        assert await stats_store.stored(rebuilt_conn) == expected
        assert await rebuilt_conn.fetchval("SELECT count(*) FROM outbox") == 0
        # the stream's copy of the monitoring facts (务工监测, issue 20) equals a recount from the rebuilt ledger
        assert await rebuilt_conn.fetchval("SELECT count(*) FROM monitoring_people") > 0
        assert await monitoring.drift(rebuilt_conn, monitoring.through()) == []
    finally:
        await rebuilt_conn.close()
