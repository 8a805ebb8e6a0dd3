"""A mixed workload driven over HTTP, and the statistics worker as a child process — shared by service tests.

Registrations (with merges and household moves across counties, cities and provinces), organized outputs
from county-, city- and province-level origins, confirmations and no-shows, follow-ups in and out of the
30-day window, separations, and a second dispatch of separated workers (distinct counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from laowu.settings import Settings
from laowu.stack.processes import stop_process
from streams.recount import recount

from conftest import spawn_ours
from helpers import bearer, person, wait_decided

BRANDS = [
    {"brand_id": "qiongzhu", "name": "琼筑劳务", "region_code": "460000", "category": "skilled", "level": "provincial"},
    {"brand_id": "wenchang-chef", "name": "文昌鸡师傅", "region_code": "469005", "category": "service", "level": "municipal"},
    {"brand_id": "chengkou-build", "name": "城口建工", "region_code": "500229", "category": "skilled", "level": "county"},
]
HAINAN = ["460105", "460106", "460107", "469005", "460202"]
CHONGQING = ["500101", "500229"]
EMP_SZ = {"employer_id": "emp-sz-build", "name": "深圳某建筑公司"}
EMP_HZ = {"employer_id": "emp-hz-food", "name": "杭州某餐饮公司"}
AUTH_SZ = bearer("employer", EMP_SZ["employer_id"], "440300")
AUTH_HZ = bearer("employer", EMP_HZ["employer_id"], "330100")
WS_HN = bearer("workstation", "ws-hn-01", "460000")
WS_CQ = bearer("workstation", "ws-cq-01", "500000")
D0 = date.today() - timedelta(days=240)


def at(day: date) -> str:
    return datetime.combine(day, dtime(10, 0), UTC).isoformat()


@contextlib.contextmanager
def streams_worker(settings: Settings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = spawn_ours(["streams", "worker"], settings, log)
    try:
        yield proc
    finally:
        stop(proc)


stop = stop_process  # the one way a process of ours is stopped (laowu.stack.processes)


async def settle(pool: asyncpg.Pool, ids: list[str]) -> None:
    await wait_decided(pool, ids, timeout=90)


def accepted(r: httpx.Response) -> str:
    assert r.status_code == 202, r.text
    return str(r.json()["event_id"])


class Workload:
    """Registrations (with merges and a household move), four organized outputs from county, city and province
    level origins, confirmations and no-shows, follow-ups in and out of the 30-day window, separations, and
    a second dispatch of separated workers (distinct counts)."""

    def __init__(self, api: httpx.AsyncClient, pool: asyncpg.Pool, workers: int = 70, seed: int = 11) -> None:
        self.api, self.pool, self.n, self.rng = api, pool, workers, random.Random(seed)
        self.workers: list[str] = []
        self.regions: dict[str, str] = {}
        self.placements: dict[str, dict[str, str]] = {}  # placement_id -> worker, employer, organizer
        self.events = 0

    async def batch(self, events: list[dict[str, Any]], headers: dict[str, str] | None = None) -> list[str]:
        r = await self.api.post("/v1/events:batch", json={"events": events}, headers=headers)
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert {x["status"] for x in results} == {"accepted"}, results[:3]
        self.events += len(results)
        return [x["event_id"] for x in results]

    async def run(self) -> None:
        await self.brands()
        await self.register()
        await self.dispatch_all()
        await self.outcomes()

    async def brands(self) -> None:
        ids = [accepted(await self.api.post("/v1/brands", json=b | {"occurred_at": at(D0)})) for b in BRANDS]
        await settle(self.pool, ids)
        ids = [accepted(await self.api.post("/v1/brands/qiongzhu/status", json={"status": "listed", "reason": "入库"}))]
        await settle(self.pool, ids)

    async def register(self) -> None:
        events = []
        for i in range(self.n):
            region = (HAINAN + CHONGQING)[i % 7]
            brand = "chengkou-build" if region.startswith("50") else ("wenchang-chef" if i % 2 else "qiongzhu")
            body = person(5000 + i, region=region) | {"brand_ids": [brand],
                                                      "priority_groups": ["poverty_alleviated"] if i % 3 == 0 else []}
            events.append({"type": "worker.registered", "occurred_at": at(D0 + timedelta(days=i % 90)), "payload": body})
        ids = await self.batch(events)
        await settle(self.pool, ids)
        rows = await self.pool.fetch("SELECT worker_id, household_region FROM workers ORDER BY registered_at, worker_id")
        self.workers = [r["worker_id"] for r in rows]
        self.regions = {r["worker_id"]: r["household_region"] for r in rows}
        # Second registrations merge (a brand more, a priority group); a late-arriving earlier one moves the month.
        again = []
        for i, e in enumerate(events[:: 7]):
            p = dict(e["payload"])
            p["brand_ids"] = [*p["brand_ids"], "qiongzhu"] if not p["household_region"].startswith("50") else p["brand_ids"]
            p["priority_groups"] = ["left_behind_women"] if i % 2 else []
            again.append({"type": "worker.registered", "occurred_at": at(D0 - timedelta(days=40 * (i % 2))), "payload": p})
        ids = await self.batch(again)
        # Household moves between counties, cities and provinces.
        movers = [w for w in self.workers if self.regions[w] in ("460105", "460202")][:3]
        for w, to in zip(movers, ("460108", "460106", "500103"), strict=False):
            ids.append(accepted(await self.api.post(f"/v1/workers/{w}/household",
                                                    json={"household_region": to, "reason": "户籍迁移"})))
            self.regions[w] = to
        await settle(self.pool, ids)

    async def dispatch(self, dispatch_id: str, origin: str, dest: str, brand: str, employer: dict[str, str],
                       organizer: str, workers: list[str], departure: date) -> None:
        r = await self.api.post("/v1/dispatches", json={
            "dispatch_id": dispatch_id, "organizer_id": organizer, "brand_id": brand, "mode": "directed_interregional",
            "origin_region": origin, "destination_region": dest, "employer": employer, "departure_date": departure.isoformat(),
            "worker_ids": workers, "occurred_at": at(departure)})
        await settle(self.pool, [accepted(r)])
        self.events += 1
        for p in r.json()["placements"]:
            self.placements[p["placement_id"]] = {"worker": p["worker_id"], "employer": employer["employer_id"],
                                                  "organizer": organizer, "departure": departure.isoformat()}

    async def dispatch_all(self) -> None:
        hainan = [w for w in self.workers if self.regions[w].startswith("46")]
        chongqing = [w for w in self.workers if self.regions[w].startswith("50")]
        await self.dispatch("dsp-wc-county", "469005", "440305", "wenchang-chef", EMP_SZ, "ws-hn-01", hainan[:22],
                            D0 + timedelta(days=20))
        await self.dispatch("dsp-hk-city", "460100", "440300", "qiongzhu", EMP_SZ, "ws-hn-01", hainan[22:40],
                            D0 + timedelta(days=50))
        await self.dispatch("dsp-cq-province", "500000", "330100", "chengkou-build", EMP_HZ, "ws-cq-01", chongqing,
                            D0 + timedelta(days=80))

    async def outcomes(self) -> None:
        confirms: dict[str, list[dict[str, Any]]] = {}
        confirmed: list[str] = []
        for n, (pid, p) in enumerate(sorted(self.placements.items())):
            departure = date.fromisoformat(p["departure"])
            if n % 6 == 5:
                item = {"type": "placement.rejected", "payload": {"placement_id": pid, "employer_id": p["employer"],
                                                                   "reason": "未到岗"}}
            else:
                start = departure + timedelta(days=3 + n % 4)
                item = {"type": "placement.confirmed", "occurred_at": at(start), "payload": {
                    "placement_id": pid, "employer_id": p["employer"], "position": "普工", "start_date": start.isoformat(),
                    "monthly_wage": f"{5200 + 150 * (n % 9)}.00", "contract": True, "contract_months": 12}}
                confirmed.append(pid)
                p["start"] = start.isoformat()
            confirms.setdefault(p["employer"], []).append(item)
        ids = []
        for employer, items in confirms.items():
            ids += await self.batch(items, AUTH_SZ if employer == EMP_SZ["employer_id"] else AUTH_HZ)
        await settle(self.pool, ids)

        followups: dict[str, list[dict[str, Any]]] = {}
        for n, pid in enumerate(confirmed):
            if n % 3 == 2:
                continue
            p = self.placements[pid]
            day = date.fromisoformat(p["start"]) + timedelta(days=(12, 30, 31, 45)[n % 4])
            followups.setdefault(p["organizer"], []).append({"type": "followup.recorded", "payload": {
                "placement_id": pid, "date": day.isoformat(), "channel": "phone", "employment_status": "on_job",
                "monthly_wage": "6000", "satisfaction": 4}})
        ids = []
        for organizer, items in followups.items():
            ids += await self.batch(items, WS_HN if organizer == "ws-hn-01" else WS_CQ)
        await settle(self.pool, ids)

        ends: dict[str, list[dict[str, Any]]] = {}
        ended = confirmed[:: 5]
        for n, pid in enumerate(ended):
            p = self.placements[pid]
            end = date.fromisoformat(p["start"]) + timedelta(days=(20, 100, 200)[n % 3])
            ends.setdefault(p["employer"], []).append({"type": "placement.ended", "payload": {
                "placement_id": pid, "end_date": end.isoformat(), "reason": ("resigned", "returned_home")[n % 2]}})
        ids = []
        for employer, items in ends.items():
            ids += await self.batch(items, AUTH_SZ if employer == EMP_SZ["employer_id"] else AUTH_HZ)
        await settle(self.pool, ids)

        # Separated Hainan workers go out again under the same brand: still one distinct worker each.
        again = [self.placements[pid]["worker"] for pid in ended if self.placements[pid]["organizer"] == "ws-hn-01"][:4]
        if again:
            before = set(self.placements)
            await self.dispatch("dsp-wc-again", "469005", "440305", "wenchang-chef", EMP_SZ, "ws-hn-01", again,
                                D0 + timedelta(days=150))
            start = D0 + timedelta(days=152)
            items = [{"type": "placement.confirmed", "payload": {
                "placement_id": pid, "employer_id": EMP_SZ["employer_id"], "position": "厨师", "start_date": start.isoformat(),
                "monthly_wage": "8800.00", "contract": True}} for pid in sorted(set(self.placements) - before)]
            await settle(self.pool, await self.batch(items, AUTH_SZ))


async def converge(settings: Settings, timeout: float = 90, worker: subprocess.Popen[bytes] | None = None) -> Any:
    """Until the figures are at a consistent cut with the ledger; returns the recount report there."""
    deadline = time.monotonic() + timeout
    while True:
        assert worker is None or worker.poll() is None, f"the streams worker exited with {worker.returncode}"
        report = await recount(settings, attempts=8, wait_s=0.25)
        if report.consistent_cut and not report.drift:
            return report
        if time.monotonic() > deadline:
            return report
        await asyncio.sleep(0.5)
