"""``matching_shortlist_p99_ms`` (issue 19): ``GET /v1/demands/{id}/shortlist`` for a shortlist of 50 with
1,000,000 workers in the ledger (``LAOWU_BENCH_LOOKUP_WORKERS``), through one ``laowu api`` process.

The workers are the lookups' ledger-shaped rows (``benchmarks.run.worker_rows``: 8 counties, one brand and its
occupation per county, 70 % available), with a 求职意向 for 30 % of them (occupations, destinations, lowest wage).
That is the hard case for candidate selection: every available person of a county has the position's occupation
(~87,000 of them), so nothing but the index and the per-reason bound keeps the read small. Three requesters: the
county's workstation, the province's bureau (five of the counties), and the same county for a position with
reserved posts (a third candidate query, priority groups). Each with 4 requests in flight, then one at a time;
the reported figure is the worst p99 of the three at 4 in flight (the one-at-a-time p99s are in the detail).

Run alone: ``LAOWU_BENCH_ONLY=matching make bench`` (about two minutes, most of it loading the rows).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from benchmarks import api_load

SHORTLIST = 50


def intentions(rows: list[tuple[Any, ...]], seed: int) -> list[tuple[Any, ...]]:
    """The rows with an ``intention`` column: 30 % of people stated one."""
    rng = random.Random(seed)
    from laowu.simulate import BRANDS

    codes = sorted({b.occupation_code for b in BRANDS if b.occupation_code})
    out = []
    for row in rows:
        stated = None
        if rng.random() < 0.3:
            stated = {"occupations": [row[10], rng.choice(codes)] if rng.random() < 0.5 else [row[10]],
                      "destinations": [rng.choice(["440300", "440000", "460100", "330000"])],
                      "min_monthly_wage": str(rng.choice([3500, 4500, 5500, 7000]))}
        out.append((*row, stated))
    return out


async def add_demand(pool: asyncpg.Pool, occupation: str) -> None:
    from laowu.domain.demands import DemandRecord
    from laowu.store.demands import save_demands

    def position(pid: str, reserved: int) -> dict[str, Any]:
        return {"position_id": pid, "title": "岗位", "occupation_code": occupation, "headcount": 100,
                "wage_min": "4000", "wage_max": "6000", "work_region": "440305",
                "start_date": (date.today() + timedelta(days=30)).isoformat(),
                "certificates": [{"kind": "skill_level", "level": 4}], "age_min": 18, "age_max": 50,
                "brand_id": None, "reserved_posts": reserved}

    rec = DemandRecord(demand_id="bench-demand", employer_id="emp-bench", employer_name="基准测试用人单位",
                       posted_by="emp-bench", title="基准", positions=[position("plain", 0), position("reserved", 20)],
                       origin_regions=["460000"], closing_date=date.today() + timedelta(days=30),
                       posted_at=datetime.now(UTC), filled={"plain": 0, "reserved": 0},
                       filled_priority={"plain": 0, "reserved": 0}, version=1)
    async with pool.acquire() as conn, conn.transaction():
        await save_demands(conn, [rec])


async def measure(url: str, auth: Any, requests: int) -> dict[str, Any]:
    cases = {
        "county_workstation": (("workstation", "ws-469005-01", "469005"), "plain"),
        "province_bureau": (("bureau", "hainan", "460000"), "plain"),
        "county_reserved_posts": (("workstation", "ws-469005-01", "469005"), "reserved"),
    }
    out: dict[str, Any] = {}
    for name, (viewer, position) in cases.items():
        path = f"/v1/demands/bench-demand/shortlist?position_id={position}&limit={SHORTLIST}"
        out[name] = await api_load.gets(url, [path] * requests, concurrency=4, headers=auth(*viewer), warmup=20)
        # one clerk at a time: the latency a person waits for, without the other requests' queueing on 2 cores
        out[name]["one_in_flight"] = await api_load.gets(url, [path] * (requests // 2), concurrency=1,
                                                         headers=auth(*viewer), warmup=10)
    return out


def describe(detail: dict[str, Any]) -> str:
    return json.dumps({k: {"p50_ms": v["p50_ms"], "p99_ms": v["p99_ms"], "statuses": v["statuses"],
                           "one_in_flight_p99_ms": v["one_in_flight"]["p99_ms"]} for k, v in detail.items()},
                      ensure_ascii=False)
