"""The statistics sink: a chunk of ledger changes (or alerts) → PostgreSQL, in ONE transaction.

Exactly-once effect on top of at-least-once delivery: the transaction first inserts the chunk's event ids
into ``stats_applied_events`` (``ON CONFLICT DO NOTHING RETURNING``) and applies deltas only for the ids
that were new; distinct counts go through membership rows the same way. A chunk that is redelivered after a
crash (faust had not committed its offsets yet) therefore changes nothing the second time. The same
transaction records the applied offsets, appends the live-feed rows and queues ``stats.updated`` events in
the outbox (published by the ledger consumer's relay), so figures, feed and events never disagree.

No faust here: the sink takes plain messages, so it is tested and reused (``laowu stats recount``) without it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

import asyncpg
from pydantic import ValidationError

from laowu import metrics
from laowu.domain import statistics as st
from laowu.domain.regions import region_name
from laowu.settings import Settings
from laowu.store import outbox as outbox_store
from laowu.store import stats as store
from laowu.store.errors import TRANSIENT_DB
from laowu.store.pool import create_pool
from schemas import events as ev
from schemas.envelope import Envelope
from schemas.topics import STATS
from streams import monitoring
from streams.changes import Change, ChangeBody, decode_change

log = logging.getLogger(__name__)
T = TypeVar("T")

TRANSIENT = TRANSIENT_DB
SCOPE_NAMES = {"all": "overview", "region": "region", "brand": "brand"}
ID_FIELDS = ("worker_id", "placement_id", "brand_id", "dispatch_id")


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes | None


def decode(msg: Message, wanted: tuple[str, ...]) -> Envelope | None:
    """Our own derived events; anything unreadable is logged and skipped (its offset still counts as applied)."""
    if msg.value is None:
        return None
    try:
        env = Envelope.from_bytes(msg.value)
    except (ValidationError, ValueError) as exc:
        log.warning("skipping undecodable message %s:%d@%d: %s", msg.topic, msg.partition, msg.offset, str(exc)[:200])
        return None
    if env.type not in wanted:
        log.warning("skipping %s on %s:%d@%d", env.type, msg.topic, msg.partition, msg.offset)
        return None
    return env


def read_changes(msgs: Sequence[Message]) -> tuple[list[Change], dict[tuple[str, int], int]]:
    """A chunk of ``laowu.ledger-changes.v1``, decoded once for every sink of the worker, and its next offsets."""
    changes = [c for c in (decode_change(m.value, f"{m.topic}:{m.partition}@{m.offset}") for m in msgs) if c is not None]
    return changes, next_offsets(msgs)


def next_offsets(msgs: Sequence[Message]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for m in msgs:
        key = (m.topic, m.partition)
        out[key] = max(out.get(key, 0), m.offset + 1)
    return out


def ledger_item(env: Change, body: ChangeBody) -> dict[str, Any]:
    """A ledger change as the feed shows it: ids, what caused it, where — no personal data."""
    view: Mapping[str, Any] = body.after or body.before or {}
    item: dict[str, Any] = {"kind": "ledger", "event_id": str(env.event_id), "entity": body.entity,
                            "entity_id": body.entity_id, "cause_type": body.cause_type,
                            "cause_event_id": body.cause_event_id, "occurred_at": env.occurred_at.isoformat(),
                            "regions": list(body.regions)}
    for name in ID_FIELDS:
        if view.get(name):
            item[name] = view[name]
    if body.regions:
        item["region_name"] = region_name(body.regions[0])
    if body.entity == "worker" and body.after:
        item["state"] = body.after.get("state")
    if body.entity in ("placement", "followup") and body.after:
        item["status"] = body.after.get("status")
    return item


def alert_item(env: Envelope) -> dict[str, Any]:
    p = env.payload
    regions = list(p.get("regions", []))
    return {"kind": "alert", "type": env.type, "event_id": str(env.event_id), "alert_id": p["alert_id"],
            "alert_kind": p["kind"], "worker_id": p["worker_id"], "placement_id": p.get("placement_id"),
            "occurred_at": env.occurred_at.isoformat(), "regions": regions,
            "region_name": region_name(regions[0]) if regions else None}


def stats_item(scope: st.Scope, raw: Mapping[str, Decimal]) -> dict[str, Any]:
    dim, key = scope
    item: dict[str, Any] = {"kind": "stats", "scope": SCOPE_NAMES[dim], "scope_id": key or "all",
                            "figures": st.derive(raw)}
    if dim == "region":
        item["region"] = key
    if dim == "brand":
        item["brand_id"] = key
    return item


class StatsSink:
    def __init__(self, settings: Settings, pool: asyncpg.Pool | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self._owns_pool = pool is None
        self.stats_topic = settings.topic(STATS.name)
        self.applied = 0
        self.skipped_duplicates = 0

    async def start(self) -> None:
        if self.pool is None:
            assert self.settings.database_url, "DATABASE_URL must be set"
            self.pool = await create_pool(self.settings.database_url, min_size=1, max_size=3, writer=True)

    async def stop(self) -> None:
        if self.pool is not None and self._owns_pool:
            await self.pool.close()
            self.pool = None

    async def retrying(self, action: Callable[[], Awaitable[T]]) -> T:
        """Transient failures (database away) are retried for ever: the chunk must not be acknowledged unapplied."""
        delay = 0.2
        while True:
            try:
                return await action()
            except TRANSIENT as exc:
                log.warning("stats sink: transient failure, retrying in %.1fs: %s: %s", delay, type(exc).__name__, exc)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 10.0)

    # ---- ledger changes → figures, feed, stats.updated -------------------------------------------
    async def apply_ledger(self, msgs: Sequence[Message]) -> int:
        return await self.apply_changes(*read_changes(msgs))

    async def apply_changes(self, changes: Sequence[Change], offsets: dict[tuple[str, int], int]) -> int:
        await self.start()
        return await self.retrying(lambda: self._apply_ledger(changes, offsets))

    async def _apply_ledger(self, envs: Sequence[Change], offsets: dict[tuple[str, int], int]) -> int:
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            new = await store.mark_applied(conn, [e.event_id for e in envs])
            fresh: list[tuple[Change, ChangeBody]] = []
            for e in envs:
                if e.event_id in new:
                    new.discard(e.event_id)  # a repeat inside the chunk counts once
                    fresh.append((e, e.body))
            delta = st.Delta()
            for _, body in fresh:
                delta.add(st.change_delta(body.entity, body.before, body.after))
            new_members = await store.add_members(conn, delta.members)
            cells = delta.nonzero()
            for cell, value in st.member_cells(new_members).items():
                cells[cell] = cells.get(cell, Decimal(0)) + value
            await store.add_to_figures(conn, cells)
            await monitoring.apply(conn, [body for _, body in fresh])  # 务工监测 (issue 20)
            await store.record_offsets(conn, offsets)
            feed: list[tuple[str, Sequence[str], Mapping[str, Any]]] = [
                ("ledger", body.regions, ledger_item(e, body)) for e, body in fresh]
            outbox = await self._stats_updates(conn, cells, feed)
            await outbox_store.enqueue(conn, outbox)
            await store.append_feed(conn, feed)
        self.applied += len(fresh)
        self.skipped_duplicates += len(envs) - len(fresh)
        now = datetime.now(UTC)
        metrics.STATS_EVENTS.labels("ledger-changes").inc(len(fresh))
        for e, _ in fresh:  # recorded_at of a ledger change: when the ledger emitted it, in its transaction
            metrics.STATS_LAG.observe(max((now - e.recorded_at).total_seconds(), 0.0))
        return len(fresh)

    async def _stats_updates(self, conn: asyncpg.Connection, cells: Mapping[st.Cell, Decimal],
                             feed: list[tuple[str, Sequence[str], Mapping[str, Any]]]) -> list[tuple[str, str, dict[str, Any]]]:
        """Current figures of every overview/region/brand scope the chunk moved: feed rows and stats.updated events."""
        scopes = st.touched_scopes(cells)
        if not scopes:
            return []
        figures = await store.figures_of(conn, scopes)
        brand_ids = [k for d, k in scopes if d == "brand"]
        brand_regions = {r["brand_id"]: r["region_code"] for r in await conn.fetch(
            "SELECT brand_id, region_code FROM brands WHERE brand_id = ANY($1::text[])", brand_ids)}
        outbox = []
        for scope in sorted(scopes):
            item = stats_item(scope, figures[scope])
            dim, key = scope
            regions = [key] if dim == "region" else [brand_regions[key]] if key in brand_regions else []
            feed.append(("stats", regions, item))
            body = ev.StatsUpdated(scope=item["scope"], scope_id=item["scope_id"], figures=item["figures"])
            env = Envelope.wrap(body, type="stats.updated", key=f"{item['scope']}:{item['scope_id']}"[:128],
                                source="laowu.streams")
            outbox.append((self.stats_topic, env.key, json.loads(env.to_bytes())))
        return outbox

    # ---- alerts → feed ---------------------------------------------------------------------------
    async def apply_alerts(self, msgs: Sequence[Message]) -> int:
        await self.start()
        envs = [e for e in (decode(m, ("alert.raised", "alert.closed")) for m in msgs) if e is not None]
        return await self.retrying(lambda: self._apply_alerts(envs))

    async def _apply_alerts(self, envs: Sequence[Envelope]) -> int:
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            new = await store.mark_applied(conn, [e.event_id for e in envs])
            feed: list[tuple[str, Sequence[str], Mapping[str, Any]]] = []
            for e in envs:
                if e.event_id in new:
                    new.discard(e.event_id)
                    item = alert_item(e)
                    feed.append(("alert", item["regions"], item))
            await store.append_feed(conn, feed)
        metrics.STATS_EVENTS.labels("alerts").inc(len(feed))
        return len(feed)

    async def prune(self) -> tuple[int, int]:
        await self.start()
        assert self.pool is not None
        return await store.prune(self.pool)
