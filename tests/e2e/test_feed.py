"""The live feed (GET /v1/feed, Server-Sent Events): latency, heartbeat, gap-free resume, filters, fan-out."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from laowu.settings import Settings
from laowu.stack.processes import stop_process

from conftest import spawn_ours
from helpers import person, wait_decided

pytestmark = pytest.mark.services


class SSE:
    """A minimal text/event-stream reader: events as dicts with id, data (parsed) and comments."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()

    async def next(self, timeout: float) -> dict[str, Any]:
        event: dict[str, Any] = {"comments": []}
        async with asyncio.timeout(timeout):
            async for line in self.lines:
                if line == "":
                    if len(event) > 1 or event["comments"]:
                        return event
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "":
                    event["comments"].append(value)
                elif name == "data":
                    event["data"] = json.loads(value)
                else:
                    event[name] = value
        raise EOFError("stream ended")

    async def until(self, predicate: Any, timeout: float) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Read until an event matches; returns it and everything read before it."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no matching event within {timeout}s; saw {len(seen)}: {seen[-3:]}")
            event = await self.next(left)
            if "data" in event and predicate(event["data"]):
                return event, seen
            seen.append(event)


@contextlib.asynccontextmanager
async def feed(api: httpx.AsyncClient, **params: Any) -> AsyncIterator[SSE]:
    headers = params.pop("headers", None)
    async with api.stream("GET", "/v1/feed", params=params, headers=headers) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        yield SSE(r)


async def register(api: httpx.AsyncClient, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = await api.post("/v1/events:batch", json={"events": [{"type": "worker.registered", "payload": b} for b in bodies]})
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def ledger_of(worker_id: str) -> Any:
    return lambda d: d["kind"] == "ledger" and d.get("worker_id") == worker_id


async def test_feed_latency_heartbeat_resume_and_filters(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings, tmp_path: Path
) -> None:
    proc = spawn_ours(["streams", "worker"], settings, tmp_path / "streams.log")
    try:
        async with feed(api, heartbeat="1") as sse:
            hello = await sse.next(5)
            assert hello["retry"] == "2000" and "id" not in hello
            # Warm-up: the worker joins its group; then measure one event end to end.
            (warm,) = await register(api, [person(7000)])
            await sse.until(ledger_of(warm["worker_id"]), 60)
            latencies = []
            for n in range(3):
                t0 = time.monotonic()
                (res,) = await register(api, [person(7001 + n)])
                event, _ = await sse.until(ledger_of(res["worker_id"]), 2.0)
                latencies.append(time.monotonic() - t0)
                assert event["data"]["cause_type"] == "worker.registered" and event["data"]["entity"] == "worker"
                assert event["data"]["regions"] == [person(7001 + n)["household_region"]]
                assert "name" not in event["data"] and "id_number" not in json.dumps(event["data"])
            print(f"feed latency (POST → SSE event): {[round(x, 3) for x in latencies]} s")
            stats, _ = await sse.until(lambda d: d["kind"] == "stats" and d["scope"] == "overview", 5)
            assert stats["data"]["figures"]["registered"] >= 4 and int(stats["id"]) > 0
            # Heartbeat: a comment at least every second when nothing happens.
            beat = await sse.next(3)
            while not beat["comments"]:
                beat = await sse.next(3)
            assert beat["comments"][0].startswith("ping")
            last_id = int(stats["id"])

        # Disconnected: more happens meanwhile.
        results = await register(api, [person(7100 + n) for n in range(15)])
        await wait_decided(pool, [r["event_id"] for r in results])
        wanted = {r["worker_id"] for r in results}
        deadline = time.monotonic() + 30
        while await pool.fetchval("SELECT count(*) FROM feed_events WHERE kind = 'ledger' AND data->>'worker_id' = "
                                  "ANY($1::text[])", list(wanted)) < len(wanted):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        expected = [r["id"] for r in await pool.fetch("SELECT id FROM feed_events WHERE id > $1 ORDER BY id", last_id)]
        assert len(expected) > 15

        # Resume with Last-Event-ID: exactly the rows after it, in order — no gap, no repeat.
        async with feed(api, headers={"Last-Event-ID": str(last_id)}) as sse:
            got: list[int] = []
            while len(got) < len(expected):
                event = await sse.next(5)
                if "id" in event:
                    got.append(int(event["id"]))
            assert got == expected
        # The same with the query parameter, filtered to ledger events of one region.
        async with feed(api, last_event_id=str(last_id), kinds="ledger", region="500000") as sse:
            rows = await pool.fetch("SELECT id, regions FROM feed_events WHERE id > $1 AND kind = 'ledger' ORDER BY id",
                                    last_id)
            mine = [r["id"] for r in rows if any(x.startswith("50") for x in r["regions"])]
            assert 0 < len(mine) < len(rows)
            got = []
            while len(got) < len(mine):
                event = await sse.next(5)
                if "id" in event:
                    assert event["data"]["kind"] == "ledger"
                    got.append(int(event["id"]))
            assert got == mine

        # Fan-out: many subscribers, one poller; each gets the next event within 2 s.
        async with contextlib.AsyncExitStack() as stack:
            streams = [await stack.enter_async_context(feed(api, kinds="ledger")) for _ in range(12)]
            for sse in streams:
                await sse.next(5)  # the hello
            (res,) = await register(api, [person(7200)])
            t0 = time.monotonic()
            await asyncio.gather(*(sse.until(ledger_of(res["worker_id"]), 2.0) for sse in streams))
            print(f"12 subscribers all had the event {time.monotonic() - t0:.3f}s after it was accepted")

        assert (await api.get("/v1/feed", params={"kinds": "gossip"})).status_code == 422
        assert (await api.get("/v1/feed", headers={"Last-Event-ID": "x"})).status_code == 422
    finally:
        stop_process(proc)
