"""HTTP load against one ``laowu api`` process: single writes, batches, lookups, statistics queries.

The load generator runs on the same two cores as the API, Kafka and PostgreSQL, so every CPU microsecond it
spends is taken from the server it measures. It uses aiohttp (one session and one connection per simulated
client) and encodes request bodies before the clock starts: measured on this machine, httpx spent 0.73 ms of
CPU per GET against aiohttp's 0.10 ms, and that difference showed up as server latency.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(url, timeout=aiohttp.ClientTimeout(total=2)) as session:
        while True:
            try:
                async with session.get("/readyz") as r:
                    if r.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}/readyz did not answer 200 in {timeout:.0f}s")
            await asyncio.sleep(0.25)


@asynccontextmanager
async def clients(url: str | Sequence[str], n: int, timeout: float, headers: dict[str, str] | None = None
                  ) -> AsyncIterator[list[aiohttp.ClientSession]]:
    """``n`` sessions of one keep-alive connection each: ``n`` independent clients, as workstations are.

    Several URLs (API processes behind no balancer): the clients are dealt among them in turn, as a
    round-robin balancer would spread connections."""
    urls = [url] if isinstance(url, str) else list(url)
    sessions = [aiohttp.ClientSession(urls[i % len(urls)], connector=aiohttp.TCPConnector(limit=1), headers=headers,
                                      timeout=aiohttp.ClientTimeout(total=timeout)) for i in range(n)]
    try:
        yield sessions
    finally:
        await asyncio.gather(*(s.close() for s in sessions))


@asynccontextmanager
async def frozen_heap() -> AsyncIterator[None]:
    """The bench process holds the generated streams (millions of objects): a cyclic-GC pass over them stalls
    every client loop at once and shows up as server latency. Freeze them for the measurement."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


JSON = {"Content-Type": "application/json"}
Auth = Callable[[dict[str, Any]], dict[str, str]]


async def single_posts(url: str, bodies: Sequence[dict[str, Any]], auth: Auth, concurrency: int, seconds: float
                       ) -> dict[str, Any]:
    """``concurrency`` clients POST /v1/workers back to back for ``seconds`` (or until bodies run out), each
    request with the credential of the body's workstation."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    source = iter([(orjson.dumps(b), JSON | auth(b)) for b in bodies])
    deadline = time.monotonic() + seconds

    async def client_loop(session: aiohttp.ClientSession) -> None:
        for data, headers in source:
            if time.monotonic() > deadline:
                return
            t = time.perf_counter()
            async with session.post("/v1/workers", data=data, headers=headers) as r:
                await r.read()
            latencies.append(time.perf_counter() - t)
            statuses[r.status] += 1

    async with clients(url, concurrency, timeout=60) as sessions, frozen_heap():
        started, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(client_loop(s) for s in sessions))
        elapsed = time.monotonic() - started
        client_cpu = time.process_time() - cpu
    accepted = statuses.get(202, 0)
    requests = sum(statuses.values())
    return {"requests": requests, "accepted": accepted, "statuses": dict(statuses),
            "seconds": round(elapsed, 2), "per_s": round(accepted / elapsed, 1),
            "client_cpu_share": round(client_cpu / elapsed, 2),
            "client_cpu_ms_per_request": _ms(client_cpu / requests if requests else None),
            "p50_ms": _ms(percentile(latencies, 50)), "p99_ms": _ms(percentile(latencies, 99))}


async def batch_posts(url: str | Sequence[str], chunks: Sequence[tuple[dict[str, str], list[dict[str, Any]]]], concurrency: int
                      ) -> dict[str, Any]:
    """POST /v1/events:batch, one (headers, events) chunk per request, ``concurrency`` in flight."""
    source = iter([(orjson.dumps({"events": chunk}), JSON | headers) for headers, chunk in chunks])
    results: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def client_loop(session: aiohttp.ClientSession) -> None:
        for data, headers in source:
            t = time.perf_counter()
            async with session.post("/v1/events:batch", data=data, headers=headers) as r:
                answer = await r.read()
            latencies.append(time.perf_counter() - t)
            statuses[r.status] += 1
            if r.status == 200:
                results.update(res["status"] for res in orjson.loads(answer)["results"])

    async with clients(url, concurrency, timeout=300) as sessions, frozen_heap():
        started, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(client_loop(s) for s in sessions))
        elapsed = time.monotonic() - started
        client_cpu = time.process_time() - cpu
    return {"events": sum(len(c) for _, c in chunks), "batches": len(chunks), "results": dict(results),
            "statuses": dict(statuses),
            "seconds": round(elapsed, 2), "per_s": round(results.get("accepted", 0) / elapsed, 1),
            "client_cpu_share": round(client_cpu / elapsed, 2),
            "batch_p50_ms": _ms(percentile(latencies, 50)), "batch_p99_ms": _ms(percentile(latencies, 99))}


async def gets(url: str, paths: Sequence[str], concurrency: int, headers: dict[str, str], warmup: int = 200
               ) -> dict[str, Any]:
    """Latency of GETs with ``concurrency`` in flight; the first ``warmup`` are not counted."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = itertools.count()
    source = iter(paths)

    async def client_loop(session: aiohttp.ClientSession) -> None:
        for path in source:
            t = time.perf_counter()
            async with session.get(path) as r:
                await r.read()
            dt = time.perf_counter() - t
            statuses[r.status] += 1
            if next(counter) >= warmup:
                latencies.append(dt)

    async with clients(url, concurrency, timeout=30, headers=headers) as sessions, frozen_heap():
        started, cpu = time.monotonic(), time.process_time()
        await asyncio.gather(*(client_loop(s) for s in sessions))
        elapsed = time.monotonic() - started
        client_cpu = time.process_time() - cpu
    return {"requests": len(paths), "statuses": dict(statuses), "seconds": round(elapsed, 2),
            "per_s": round(len(paths) / elapsed, 1), "p50_ms": _ms(percentile(latencies, 50)),
            "p99_ms": _ms(percentile(latencies, 99)), "mean_ms": _ms(statistics.fmean(latencies) if latencies else None),
            "client_cpu_ms_per_request": _ms(client_cpu / len(paths) if paths else None)}


async def has_route(url: str, path: str) -> bool:
    async with aiohttp.ClientSession(url, timeout=aiohttp.ClientTimeout(total=10)) as session, \
            session.get("/openapi.json") as r:
        return r.status == 200 and path in orjson.loads(await r.read()).get("paths", {})


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)
