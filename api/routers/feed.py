"""Live feed (``GET /v1/feed``): Server-Sent Events of ledger changes, statistics updates and alerts.

Source: the ``feed_events`` table the stream processor fills in the same transactions as the figures. Its ids
are handed out in commit order (see laowu.store.stats.append_feed), so an SSE ``id:`` is a position: a client
that reconnects with ``Last-Event-ID: n`` gets exactly the rows after ``n`` — nothing skipped, nothing twice.

Fan-out: ONE poller per API process (:class:`FeedHub`) reads new rows and offers them to every subscriber's
bounded asyncio queue, so a thousand dashboards cost one cheap indexed query every 100 ms, not a thousand
Kafka consumers. A subscriber too slow to keep up is never waited for: its queue overflows, it is dropped from
the live fan-out and re-reads the rows it missed from PostgreSQL, then rejoins.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, FastAPI, Header, HTTPException, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.routing import JSONRoute
from laowu import metrics, reports
from laowu.domain.regions import covers
from laowu.store import stats as store

log = logging.getLogger(__name__)

KINDS = frozenset({"ledger", "stats", "alert"})
QUEUE_MAX = 2000
PAGE = 500
RECONNECT_MS = 2000


class Subscriber:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_MAX)
        self.overflowed = False

    def offer(self, row: dict[str, Any]) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(row)
        except asyncio.QueueFull:
            self.overflowed = True  # the subscriber catches up from PostgreSQL


class FeedHub:
    """One poller per process, fanning new feed rows out to every subscriber."""

    def __init__(self, pool: asyncpg.Pool, poll_s: float = 0.1) -> None:
        self.pool = pool
        self.poll_s = poll_s
        self.subscribers: set[Subscriber] = set()
        self.open_streams: dict[str, int] = {}  # per credential, for LAOWU_FEED_MAX_STREAMS
        self.last = 0
        self._task: asyncio.Task[None] | None = None
        self._start_lock = asyncio.Lock()

    async def subscribe(self) -> tuple[Subscriber, int]:
        """Register; returns the position from which every row reaches this subscriber's queue (rows up to it are
        committed, so PostgreSQL has them for a catch-up)."""
        async with self._start_lock:
            if self._task is None or self._task.done():
                self.last = await store.feed_tail(self.pool)
                self._task = asyncio.create_task(self._run(), name="feed-hub")
        sub = Subscriber()
        self.subscribers.add(sub)
        metrics.FEED_SUBSCRIBERS.set(len(self.subscribers))
        return sub, self.last

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        metrics.FEED_SUBSCRIBERS.set(len(self.subscribers))

    async def _run(self) -> None:
        while True:
            rows: list[dict[str, Any]] = []
            if self.subscribers:
                try:
                    rows = await store.feed_after(self.pool, self.last, PAGE)
                except Exception as exc:  # database away: keep the position, try again
                    log.warning("feed poll failed: %s", exc)
                    await asyncio.sleep(1)
                    continue
                for row in rows:
                    self.last = row["id"]
                    for sub in list(self.subscribers):
                        sub.offer(row)
            if len(rows) < PAGE:
                await asyncio.sleep(self.poll_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.feed_hub = FeedHub(app.state.pool)
    try:
        yield
    finally:
        await app.state.feed_hub.stop()


router = APIRouter(route_class=JSONRoute, tags=["live feed"], lifespan=lifespan)


def _kinds(raw: str | None) -> frozenset[str]:
    if not raw:
        return KINDS
    kinds = frozenset(k.strip() for k in raw.split(",") if k.strip())
    if not kinds or not kinds <= KINDS:
        raise HTTPException(status_code=422, detail=[{"loc": ["query", "kinds"], "type": "enum",
                                                      "msg": "comma-separated subset of ledger, stats, alert"}])
    return kinds


def _position(header: str | None, query: str | None) -> int | None:
    raw = header if header is not None else query
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise HTTPException(status_code=422, detail=[{"loc": ["header", "last-event-id"], "type": "int_parsing",
                                                      "msg": "Last-Event-ID must be an id this feed sent"}])
    return int(raw)


def matches(row: dict[str, Any], kinds: frozenset[str], region: str | None) -> bool:
    if row["kind"] not in kinds:
        return False
    return region is None or any(covers(region, r) for r in row["regions"])


def to_event(row: dict[str, Any]) -> ServerSentEvent:
    data = dict(row["data"])
    data.setdefault("kind", row["kind"])
    data["at"] = row["created_at"].isoformat()
    return ServerSentEvent(id=str(row["id"]), data=json.dumps(data, ensure_ascii=False, separators=(",", ":")))


class Credential:
    """What keeps a stream open: its token's expiry and sign-out (checked every ``check_s``), and its slot among the
    credential's concurrent streams (released when the stream ends)."""

    def __init__(self, expires: float, revoked: Callable[[], Awaitable[bool]], release: Callable[[], None],
                 check_s: float = 1.0) -> None:
        self.expires, self.revoked, self.release, self.check_s = expires, revoked, release, check_s

    async def ended(self) -> str | None:
        if time.time() >= self.expires:
            return "token expired"
        if await self.revoked():
            return "token signed out"
        return None


async def stream(hub: FeedHub, after: int | None, kinds: frozenset[str], region: str | None,
                 credential: Credential | None = None, max_rewind: int | None = None) -> AsyncIterator[Any]:
    try:
        sub, tail = await hub.subscribe()
    except BaseException:
        if credential is not None:
            credential.release()
        raise
    # A position beyond the tail (the database was reset) means: from the live tail. So does one further back than
    # max_rewind rows: replaying an unbounded history would let one client read the whole table on every
    # reconnect; the client is told with a ``reset`` event and reloads its figures.
    too_old = after is not None and max_rewind is not None and after < tail - max_rewind
    cursor = tail if after is None or after > tail or too_old else after
    resync = cursor < tail
    try:
        yield ServerSentEvent(retry=RECONNECT_MS, comment="laowu feed")
        if too_old:
            yield ServerSentEvent(event="reset", data=json.dumps({"reason": "Last-Event-ID older than the feed keeps",
                                                                  "resumed_at": tail}))
        while True:
            if credential is not None:
                reason = await credential.ended()
                if reason is not None:
                    yield ServerSentEvent(event="closed", data=json.dumps({"reason": reason}), retry=3_600_000)
                    return
            if resync or (sub.overflowed and sub.queue.empty()):
                sub.overflowed, resync = False, False
                while True:  # catch up from PostgreSQL, then back to the live queue
                    rows = await store.feed_after(hub.pool, cursor, PAGE)
                    for row in rows:
                        cursor = row["id"]
                        if matches(row, kinds, region):
                            yield to_event(row)
                    if len(rows) < PAGE:
                        break
                continue
            try:
                wait = None if credential is None else max(0.01, min(credential.check_s,
                                                                     credential.expires - time.time()))
                row = await asyncio.wait_for(sub.queue.get(), timeout=wait)
            except TimeoutError:
                continue  # look at expiry and sign-out again
            if row["id"] <= cursor:
                continue  # already sent while catching up
            cursor = row["id"]
            if matches(row, kinds, region):
                yield to_event(row)
    finally:
        hub.unsubscribe(sub)
        if credential is not None:
            credential.release()


@router.get("/v1/feed", response_class=EventSourceResponse)
async def feed(
    request: Request,
    kinds: Annotated[str | None, Query(description="comma-separated: ledger, stats, alert (default all)")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$", description="only events of regions it covers")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id_query: Annotated[str | None, Query(alias="last_event_id",
                                                     description="resume position, for clients that cannot set headers")] = None,
    heartbeat: Annotated[float, Query(ge=0.5, le=60, description="seconds between keep-alive comments")] = 15.0,
    access_token: Annotated[str | None, Query(description="bearer token, for EventSource (cannot set headers)")] = None,
) -> EventSourceResponse:
    """``text/event-stream``: every event has an ``id:`` and a JSON ``data:`` with ``kind`` and the ids it concerns.
    A new connection starts at the live tail; ``Last-Event-ID`` resumes right after that id, unless it lies more than
    LAOWU_FEED_MAX_REWIND rows back: then the stream starts at the tail with a ``reset`` event. The stream ends
    with a ``closed`` event when its token expires or is signed out; a credential may hold at most
    LAOWU_FEED_MAX_STREAMS streams at once (429 beyond)."""
    chosen = _kinds(kinds)
    scope = reports.jurisdiction(getattr(request.state, "actor", None), region)
    after = _position(last_event_id, last_event_id_query)
    hub: FeedHub = request.app.state.feed_hub
    settings = request.app.state.settings
    actor = request.state.actor
    key = actor.subject or actor.org
    if hub.open_streams.get(key, 0) >= settings.feed_max_streams:
        raise HTTPException(status_code=429, detail="too many open feeds for this credential",
                            headers={"Retry-After": str(RECONNECT_MS // 1000)})
    hub.open_streams[key] = hub.open_streams.get(key, 0) + 1

    def release() -> None:
        left = hub.open_streams.get(key, 1) - 1
        if left > 0:
            hub.open_streams[key] = left
        else:
            hub.open_streams.pop(key, None)

    revocations = request.app.state.revocations
    jti = request.state.token_jti

    async def revoked() -> bool:
        await revocations.refresh(hub.pool)
        return bool(revocations.is_revoked(jti))

    credential = Credential(float(request.state.token_exp), revoked, release)
    return EventSourceResponse(stream(hub, after, chosen, scope, credential, settings.feed_max_rewind), ping=heartbeat,
                               headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
