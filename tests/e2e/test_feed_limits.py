"""The feed holds no stream past its credential: expiry and sign-out close it; streams per credential are capped;
Last-Event-ID cannot rewind further than the feed keeps."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from test_feed import SSE, feed

from laowu.auth import issue
from laowu.settings import Settings
from laowu.store.stats import append_feed

from conftest import serving

pytestmark = pytest.mark.services


def _bearer(settings: Settings, ttl_s: int | None = None) -> dict[str, str]:
    return {"Authorization": "Bearer " + issue(settings, role="bureau", org="hr-46", region="460000", ttl_s=ttl_s)}


async def _closed(sse: SSE, timeout: float) -> dict[str, Any]:
    while True:
        event = await sse.next(timeout)
        if event.get("event") == "closed":
            return event


async def test_stream_closes_at_token_expiry(api: httpx.AsyncClient, settings: Settings) -> None:
    async with feed(api, headers=_bearer(settings, ttl_s=2), heartbeat=0.5) as sse:
        event = await _closed(sse, timeout=10)
        assert event["data"]["reason"] == "token expired"
        with pytest.raises(EOFError):
            await sse.next(5)


async def test_stream_closes_at_sign_out(api: httpx.AsyncClient, settings: Settings) -> None:
    mine = _bearer(settings)
    async with feed(api, headers=mine, heartbeat=0.5) as sse:
        assert (await api.post("/v1/auth/logout", headers=mine)).status_code == 204
        event = await _closed(sse, timeout=10)
        assert event["data"]["reason"] == "token signed out"


async def test_streams_per_credential_are_capped(infra: Any, settings: Settings) -> None:
    capped = Settings(**{**settings.model_dump(), "feed_max_streams": 2})
    mine = _bearer(capped)
    async with serving(capped) as url, httpx.AsyncClient(base_url=url, timeout=30, headers=mine) as c:
        async with feed(c), feed(c):
            r = await c.get("/v1/feed")
            assert r.status_code == 429 and r.headers.get("retry-after")
        async with feed(c) as sse:  # closed streams give their slot back
            await sse.next(5)


async def test_last_event_id_cannot_rewind_further_than_the_feed_keeps(infra: Any, settings: Settings,
                                                                        pool: asyncpg.Pool) -> None:
    bounded = Settings(**{**settings.model_dump(), "feed_max_rewind": 3})
    async with pool.acquire() as conn, conn.transaction():
        await append_feed(conn, [("ledger", ["460105"], {"kind": "ledger", "n": n}) for n in range(10)])
    ids = [r["id"] for r in await pool.fetch("SELECT id FROM feed_events ORDER BY id")]
    first, tail = ids[0], ids[-1]
    async with serving(bounded) as url, httpx.AsyncClient(base_url=url, timeout=30, headers=_bearer(bounded)) as c:
        # ten rows back: no replay of the history, a reset event saying where the stream resumed
        async with feed(c, headers={"Last-Event-ID": str(first)}) as sse:
            await sse.next(5)  # the hello
            reset = await sse.next(5)
            assert reset.get("event") == "reset" and reset["data"]["resumed_at"] == tail
            with pytest.raises(TimeoutError):
                while True:
                    assert "id" not in await sse.next(1.5), "a row older than the bound was replayed"
        # within the bound: exactly the rows after it, no reset
        async with feed(c, headers={"Last-Event-ID": str(ids[-3])}) as sse:
            await sse.next(5)
            got = [int((await sse.next(5))["id"]) for _ in range(2)]
            assert got == ids[-2:]
