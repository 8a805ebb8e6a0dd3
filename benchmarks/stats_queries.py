"""Time each query behind ``GET /v1/stats/overview`` against a database, per scope (one JSON object).

For a database kept by ``LAOWU_BENCH_KEEP=1 make bench`` (restart its PostgreSQL first). ``make bench`` runs
no statistics worker during its ledger segments; it writes ``stats_figures`` with :func:`fill_figures` before
timing ``stats_query_p99_ms``. ``--fill`` does the same here, from a recount of the ledger (what ``laowu stats
recount --fix`` does, without waiting for a consistent cut: nothing else may run)::

    python -m benchmarks.stats_queries postgresql://postgres@127.0.0.1:PORT/laowu --fill
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import asyncpg

from laowu.domain import statistics as st
from laowu.store import stats as store
from laowu.store.migrate import migrate
from laowu.store.pool import create_pool

SCOPES: list[st.Scope] = [("all", ""), ("region", "460000"), ("region", "469005")]


async def fill_figures(conn: asyncpg.Connection) -> dict[str, Any]:
    """Write ``stats_figures`` from a recount of the ledger, in one transaction (nothing else may write)."""
    t = time.perf_counter()
    async with conn.transaction():
        expected = await store.recount(conn)
        await store.correct(conn, expected, list(expected))
    return {"cells": len(expected), "seconds": round(time.perf_counter() - t, 1)}


async def main_async(dsn: str, fill: bool, repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {"migrations_applied": await migrate(dsn)}
    pool = await create_pool(dsn)
    try:
        if fill:
            async with pool.acquire() as conn:
                out["fill"] = await fill_figures(conn)
        today = datetime.now(st.BEIJING).date()
        for scope in SCOPES:
            region = scope[1] or None
            queries: dict[str, Callable[[], Awaitable[Any]]] = {
                "figures_of": lambda scope=scope: store.figures_of(pool, [scope]),
                "retention": lambda scope=scope: store.retention(pool, scope, today),
                "subsidies": lambda scope=scope: store.subsidies(pool, scope),
                "series": lambda scope=scope: store.series(pool, scope, "2025-12", "2026-11"),
                "open_alerts": lambda region=region: store.open_alerts(pool, region),
                "brands_in": lambda region=region: store.brands_in(pool, region),
            }
            timings: dict[str, float] = {}
            for name, query in queries.items():
                await query()  # warm the cache and the plan
                runs = []
                for _ in range(repeat):
                    t = time.perf_counter()
                    await query()
                    runs.append((time.perf_counter() - t) * 1000)
                timings[name] = round(statistics.median(runs), 2)
            out[f"{scope[0]}:{scope[1]}"] = {"median_ms": timings}
        out["rows"] = {t: await pool.fetchval(f"SELECT count(*) FROM {t}")
                       for t in ("placements", "subsidies", "alerts", "stats_figures")}
    finally:
        await pool.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dsn")
    parser.add_argument("--fill", action="store_true", help="write the streamed figures from a recount first")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args.dsn, args.fill, args.repeat)), ensure_ascii=False))


if __name__ == "__main__":
    main()
