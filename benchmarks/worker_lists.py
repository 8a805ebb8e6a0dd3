"""Times a list's query for viewers of every reach; prints a line each.

``GET /v1/workers`` (``laowu.store.queries.workers``), or with ``LIST=alerts`` / ``LIST=subsidies`` the alert and
subsidy lists. Run it against a ledger kept by ``LAOWU_BENCH_KEEP=1 LAOWU_BENCH_ONLY=api make bench``
(1,000,000 workers in 8 counties, a few hundred elsewhere), after restarting that home's PostgreSQL::

    .venv/bin/python -m benchmarks.worker_lists DSN [force_generic_plan]

The second argument sets ``plan_cache_mode`` on the connection, to see the plans a long-lived pool ends with.
That ledger has no alerts or subsidies; ``benchmarks/README.md`` gives the SQL that makes one of each per
worker (or for 30 % of them) in the worker's household region.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from typing import Any

from laowu.store import pool as pools
from laowu.store import queries
from schemas.common import Actor

CASES: list[tuple[str, dict[str, Any]]] = [
    ("workstation, sparse county 469006", {"viewer": Actor(role="workstation", org="ws-469006-01", region="469006")}),
    ("workstation, sparse county 460203", {"viewer": Actor(role="workstation", org="ws-460203-01", region="460203")}),
    ("bureau, province 460000", {"viewer": Actor(role="bureau", org="hainan", region="460000")}),
    ("bureau, city 460100", {"viewer": Actor(role="bureau", org="haikou", region="460100")}),
    ("bureau, province, state=placed", {"viewer": Actor(role="bureau", org="hainan", region="460000"), "state": "placed"}),
    ("admin, region=469006", {"viewer": Actor(role="admin", org="a", region=None), "region": "469006"}),
    ("employer", {"viewer": Actor(role="employer", org="emp-1", region=None)}),
]


LISTS: dict[str, tuple[Any, dict[str, Any]]] = {
    "workers": (queries.workers, {"brand_id": None, "region": None, "state": None}),
    "alerts": (queries.alerts, {"region": None, "kind": None, "open_only": None, "worker_id": None}),
    "subsidies": (queries.subsidies, {"region": None, "worker_id": None, "organization_id": None}),
}


async def main(dsn: str, plan_cache_mode: str | None) -> None:
    query, defaults = LISTS[os.environ.get("LIST", "workers")]
    pool = await pools.create_pool(dsn, min_size=1, max_size=1)
    if plan_cache_mode:
        await pool.execute(f"SET plan_cache_mode = {plan_cache_mode}")
    for name, kw in CASES:
        if not set(kw) <= {"viewer", *defaults}:
            continue
        args: dict[str, Any] = {**defaults, "after": None, "limit": 50, **kw}
        times, rows = [], []
        for _ in range(12):  # past the five custom plans after which PostgreSQL may go generic
            t = time.perf_counter()
            rows = await query(pool, **args)
            times.append((time.perf_counter() - t) * 1000)
        print(f"{name:36s} rows={len(rows):3d} first={times[0]:7.1f} ms median={statistics.median(times):7.1f} ms "
              f"max after 6={max(times[6:]):7.1f} ms")
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
