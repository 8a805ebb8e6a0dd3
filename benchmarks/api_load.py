"""HTTP load against one ``laowu api`` process: single writes, batches, lookups, statistics queries."""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import httpx


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while True:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url}/readyz did not answer 200 in {timeout:.0f}s")
            await asyncio.sleep(0.25)


def _limits(n: int) -> httpx.Limits:
    return httpx.Limits(max_connections=n, max_keepalive_connections=n)


Auth = Callable[[dict[str, Any]], dict[str, str]]


async def single_posts(url: str, bodies: Sequence[dict[str, Any]], auth: Auth, concurrency: int, seconds: float
                       ) -> dict[str, Any]:
    """``concurrency`` clients POST /v1/workers back to back for ``seconds`` (or until bodies run out), each
    request with the credential of the body's workstation."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    source = iter(bodies)
    deadline = time.monotonic() + seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        for body in source:
            if time.monotonic() > deadline:
                return
            t = time.perf_counter()
            r = await client.post("/v1/workers", json=body, headers=auth(body))
            latencies.append(time.perf_counter() - t)
            statuses[r.status_code] += 1

    started, cpu = time.monotonic(), time.process_time()
    # One AsyncClient (one connection) per simulated client: a single httpx pool shared by 64 tasks spends more
    # CPU on its own bookkeeping than the server does on the requests (measured: 116/s shared vs 399/s with 8).
    clients = [httpx.AsyncClient(base_url=url, timeout=60, limits=_limits(1)) for _ in range(concurrency)]
    try:
        await asyncio.gather(*(client_loop(c) for c in clients))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    elapsed = time.monotonic() - started
    accepted = statuses.get(202, 0)
    return {"requests": sum(statuses.values()), "accepted": accepted, "statuses": dict(statuses),
            "seconds": round(elapsed, 2), "per_s": round(accepted / elapsed, 1),
            "client_cpu_share": round((time.process_time() - cpu) / elapsed, 2),
            "p50_ms": _ms(percentile(latencies, 50)), "p99_ms": _ms(percentile(latencies, 99))}


async def batch_posts(url: str, chunks: Sequence[tuple[dict[str, str], list[dict[str, Any]]]], concurrency: int
                      ) -> dict[str, Any]:
    """POST /v1/events:batch, one (headers, events) chunk per request, ``concurrency`` in flight."""
    source = iter(chunks)
    results: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []

    async def client_loop(client: httpx.AsyncClient) -> None:
        for headers, chunk in source:
            t = time.perf_counter()
            r = await client.post("/v1/events:batch", json={"events": chunk}, headers=headers)
            latencies.append(time.perf_counter() - t)
            statuses[r.status_code] += 1
            if r.status_code == 200:
                results.update(res["status"] for res in r.json()["results"])

    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=_limits(concurrency)) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    return {"events": sum(len(c) for _, c in chunks), "batches": len(chunks), "results": dict(results),
            "statuses": dict(statuses),
            "seconds": round(elapsed, 2), "per_s": round(results.get("accepted", 0) / elapsed, 1),
            "batch_p50_ms": _ms(percentile(latencies, 50)), "batch_p99_ms": _ms(percentile(latencies, 99))}


async def gets(url: str, paths: Sequence[str], concurrency: int, headers: dict[str, str], warmup: int = 200
               ) -> dict[str, Any]:
    """Latency of GETs with ``concurrency`` in flight; the first ``warmup`` are not counted."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = itertools.count()
    source = iter(paths)

    async def client_loop(client: httpx.AsyncClient) -> None:
        for path in source:
            t = time.perf_counter()
            r = await client.get(path)
            dt = time.perf_counter() - t
            statuses[r.status_code] += 1
            if next(counter) >= warmup:
                latencies.append(dt)

    started = time.monotonic()
    clients = [httpx.AsyncClient(base_url=url, timeout=30, limits=_limits(1), headers=headers) for _ in range(concurrency)]
    # The bench process holds the generated streams (millions of objects): a cyclic-GC pass over them stalled
    # all 8 client loops at once and showed up as server latency. Freeze them for the measurement.
    gc.collect()
    gc.freeze()
    try:
        await asyncio.gather(*(client_loop(c) for c in clients))
    finally:
        gc.unfreeze()
        await asyncio.gather(*(c.aclose() for c in clients))
    elapsed = time.monotonic() - started
    return {"requests": len(paths), "statuses": dict(statuses), "seconds": round(elapsed, 2),
            "per_s": round(len(paths) / elapsed, 1), "p50_ms": _ms(percentile(latencies, 50)),
            "p99_ms": _ms(percentile(latencies, 99)), "mean_ms": _ms(statistics.fmean(latencies) if latencies else None)}


async def has_route(url: str, path: str) -> bool:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        r = await client.get("/openapi.json")
        return r.status_code == 200 and path in r.json().get("paths", {})


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)
