"""``laowu rebuild``: the ledger, receipts, history and statistics rebuilt from the Kafka topics alone.

The source topics (brands, workers, dispatches: ``schemas.topics``) are kept forever (``retention.ms=-1``), so they
hold every event the API ever accepted, in the order each partition decided it. Replaying them through the SAME
ledger code (``consumers.ledger.LedgerConsumer``: the same decoding, rules, deferrals and rows) into an empty
database gives the same ledger — the decisions are functions of the events and their order per partition, never of
the wall clock. What the replay does not repeat:

* nothing is published: its derived events (ledger changes, alerts, subsidies) went out when the events were first
  applied, so the rebuilt outbox is emptied, and a message the ledger refused is not dead-lettered a second time;
* statistics are recounted from the rebuilt ledger (``laowu.store.stats.recount``), which is what the streamed
  figures converge to; the live feed's rows are a window on the past and are not rebuilt;
* what the deadline sweeper raised on the days it ran (overdue alerts, retention subsidies) depends on those days:
  the next sweep raises whatever is overdue as of its own day;
* what only the API keeps (accounts, idempotency keys, the audit log, receipts of requests refused before they reached
  Kafka) is not in the log: take it from a backup (``laowu backup``).

The replay reads every partition itself (no consumer group: a live ledger keeps working beside it) up to the end
offsets seen when it started, then stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition

from consumers.ledger import LedgerConsumer
from laowu import kafka_security
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.store import ledger as ledger_store
from laowu.store.migrate import is_empty, migrate
from laowu.store.pool import create_pool
from schemas.topics import BRANDS, DISPATCHES, WORKERS
from streams.recount import rebuild_figures

log = logging.getLogger(__name__)

SOURCES = (BRANDS, DISPATCHES, WORKERS)
Progress = Callable[[int, int], None]


class RebuildError(Exception):
    """A rebuild that cannot start; the message says why."""


@dataclass
class RebuildReport:
    events: int
    seconds: float
    not_republished: int
    rows: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "seconds": round(self.seconds, 1), "not_republished": self.not_republished,
                "rows": self.rows}


class ReplayConsumer(LedgerConsumer):
    """The ledger consumer reading every source partition itself, publishing nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_aside = 0

    def partitions(self) -> list[TopicPartition]:
        return [TopicPartition(self.settings.topic(t.name), p) for t in SOURCES for p in range(t.partitions)]

    async def start(self) -> None:
        self.consumer = kafka_security.consumer(
            self.settings, group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
            isolation_level="read_committed", max_partition_fetch_bytes=4 << 20,
            fetch_max_wait_ms=self.settings.consumer_fetch_wait_ms)
        await self.consumer.start()
        assigned = self.partitions()
        self.consumer.assign(assigned)
        await self.seek_assigned(set(assigned))

    async def _commit_to_kafka(self, records: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        return None  # no group: the positions are the rows in PostgreSQL

    async def dead_letter(self, msg: ConsumerRecord, reason: str) -> None:
        self.set_aside += 1  # dead-lettered when the live ledger refused it; its receipt is rebuilt all the same


async def end_offsets(settings: Settings) -> dict[tuple[str, int], int]:
    client = kafka_security.consumer(settings, enable_auto_commit=False)
    await client.start()
    try:
        parts = [TopicPartition(settings.topic(t.name), p) for t in SOURCES for p in range(t.partitions)]
        ends = await client.end_offsets(parts)
        return {(tp.topic, tp.partition): int(end) for tp, end in ends.items()}
    finally:
        await client.stop()


async def rebuild(settings: Settings, target_dsn: str, progress: Progress | None = None,
                  poll_s: float = 0.2) -> RebuildReport:
    """Replay the source topics of ``settings`` (its broker and topic prefix) into the empty database ``target_dsn``."""
    if not await is_empty(target_dsn):
        raise RebuildError("the target database is not empty: rebuild into a new, empty database")
    started = time.monotonic()
    await migrate(target_dsn)
    world = settings.model_copy(update={"database_url": target_dsn})
    ends = await end_offsets(world)
    total = sum(ends.values())
    pool = await create_pool(target_dsn, min_size=1, max_size=4, writer=True)
    replay = ReplayConsumer(world, pool, None, privacy=Privacy(world))  # type: ignore[arg-type]  # publishes nothing
    try:
        await replay.start()
        task = asyncio.create_task(replay.run())
        try:
            while True:
                done = await ledger_store.stored_offsets(pool, replay.group)
                read = sum(min(max(done.get(k, 0), 0), end) for k, end in ends.items())
                if progress is not None:
                    progress(read, total)
                if read >= total:
                    break
                if task.done():
                    task.result()  # a bug stopped the replay: say so rather than wait for ever
                    raise RebuildError("the replay stopped before reaching the end of the topics")
                await asyncio.sleep(poll_s)
        finally:
            await replay.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM outbox")  # published when the events were first applied
            await rebuild_figures(conn)
            rows = {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}"))
                    for t in ("workers", "worker_events", "brands", "brand_events", "dispatches", "placements",
                              "followups", "event_receipts", "deferred_events", "alerts", "subsidies", "stats_figures")}
    finally:
        await pool.close()
    return RebuildReport(events=total, seconds=time.monotonic() - started, not_republished=replay.set_aside, rows=rows)
