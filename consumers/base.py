"""A batched consumer whose offsets live in PostgreSQL, next to the rows they produced.

Three kinds of failure are kept apart (as Sentry's arroyo does):
* transient (database or broker unreachable): the batch is retried with backoff, never skipped;
* invalid message (bad bytes, bad schema, broken rule of the wire format, data PostgreSQL refuses): never
  retried, sent to the dead-letter topic with the reason and original bytes once its refusal has committed, and
  the partition moves on;
* back-pressure: we only fetch the next batch once the previous one committed.

Across partitions and topics, messages are applied in the order they were published (acceptance order: the API
publishes an event before it answers 202, so whatever a later write named was published before it): the fetched
messages are held per partition and released merged by their Kafka timestamp, only up to the *horizon* — the newest
timestamp every assigned partition is known to have reached (a partition read to its end reaches "now"). Without it a
backlog read from several partitions at once (a restart after a pause, a restore from a backup, ``laowu rebuild``)
could decide a dispatch before the separation it was accepted after, on another topic, and refuse the worker as busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from laowu import kafka_security, metrics
from laowu.settings import Settings
from laowu.store import ledger as store
from laowu.store.errors import REFUSED_DATA, TRANSIENT_DB
from schemas.topics import DEAD_LETTER

log = logging.getLogger(__name__)

TRANSIENT = (*TRANSIENT_DB, KafkaError)
#: A partition whose end the broker has not told us yet holds the others back at most this long.
UNKNOWN_END_WAIT_S = 5.0


def release(held: Mapping[TopicPartition, Sequence[ConsumerRecord]], horizon: float,
            limit: int) -> dict[TopicPartition, list[ConsumerRecord]]:
    """What may be applied now: of each partition's held messages, the prefix published no later than ``horizon``;
    at most ``limit`` in all, taken in publication order across partitions (each partition's own order is kept, also
    where its timestamps are not monotonic). Pure: the consumer's ordering rule, tested without a broker."""
    ready = {tp: list(msgs[:next((i for i, m in enumerate(msgs) if m.timestamp > horizon), len(msgs))])
             for tp, msgs in held.items()}
    ready = {tp: msgs for tp, msgs in ready.items() if msgs}
    if sum(len(m) for m in ready.values()) <= limit:
        return ready
    taken: dict[TopicPartition, int] = {}
    streams = [[(m.timestamp, tp) for m in msgs] for tp, msgs in ready.items()]
    for _, tp in heapq.merge(*streams, key=lambda pair: pair[0]):
        if sum(taken.values()) >= limit:
            break
        taken[tp] = taken.get(tp, 0) + 1
    return {tp: ready[tp][:n] for tp, n in taken.items()}


def publication_order(records: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> Iterable[ConsumerRecord]:
    """The records of a batch merged across partitions by Kafka timestamp, each partition's order kept."""
    return heapq.merge(*records.values(), key=lambda m: m.timestamp)


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: BatchConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        log.info("partitions revoked: %s", sorted(f"{tp.topic}:{tp.partition}" for tp in revoked))
        self.owner.forget(revoked)  # their new owner reads them again from the stored offsets

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.owner.seek_assigned(assigned)


class BatchConsumer(ABC):
    group: str
    topics: Sequence[str]

    def __init__(self, settings: Settings, pool: asyncpg.Pool, producer: AIOKafkaProducer, group: str | None = None) -> None:
        if group:
            self.group = group
        self.settings = settings
        self.pool = pool
        self.producer = producer
        self.consumer: AIOKafkaConsumer | None = None
        self.dead_letter_topic = settings.topic(DEAD_LETTER.name)
        self.applied = 0
        self._parked: list[tuple[ConsumerRecord, str]] = []
        self._stopping = asyncio.Event()
        self._fetched_at = time.monotonic()
        self._held: dict[TopicPartition, list[ConsumerRecord]] = {}
        self._seen: dict[TopicPartition, float] = {}  # the newest timestamp fetched from each partition
        self._next: dict[TopicPartition, int] = {}  # the offset after the last one fetched from each partition
        self._assigned_at = time.monotonic()

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            self._held.pop(tp, None)
            self._seen.pop(tp, None)
            self._next.pop(tp, None)

    async def seek_assigned(self, assigned: set[TopicPartition]) -> None:
        assert self.consumer is not None
        self.forget(assigned)  # read again from the stored offsets
        self._assigned_at = time.monotonic()
        offsets = await self._retry(lambda: store.stored_offsets(self.pool, self.group))
        for tp in assigned:
            position = offsets.get((tp.topic, tp.partition), -1)
            if position >= 0:
                self.consumer.seek(tp, position)
            else:
                await self.consumer.seek_to_beginning(tp)
        log.info("assigned %d partitions, positions from PostgreSQL", len(assigned))

    async def start(self) -> None:
        self.consumer = kafka_security.consumer(
            self.settings,
            group_id=self.settings.topic(self.group),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_partition_fetch_bytes=4 << 20,
            fetch_max_wait_ms=self.settings.consumer_fetch_wait_ms,
            session_timeout_ms=30_000,
            heartbeat_interval_ms=3_000,
            max_poll_interval_ms=300_000,
        )
        await self.consumer.start()
        self.consumer.subscribe(list(self.topics), listener=_SeekToStored(self))

    async def stop(self) -> None:
        self._stopping.set()
        if self.consumer is not None:
            await self.consumer.stop()

    async def run(self) -> None:
        assert self.consumer is not None
        while not self._stopping.is_set():
            try:
                batch = await self.consumer.getmany(
                    timeout_ms=self.settings.consumer_poll_ms, max_records=self.settings.consumer_batch_max
                )
            except KafkaError as exc:
                log.warning("fetch failed, retrying: %s", exc)
                await asyncio.sleep(1)
                continue
            for tp, msgs in batch.items():
                # A message fetched again (the client re-resolving a position it was asked to seek) is held or
                # applied already: the stored offsets would skip it only if that batch had committed.
                msgs = [m for m in msgs if m.offset >= self._next.get(tp, 0)]
                if msgs:
                    self._held.setdefault(tp, []).extend(msgs)
                    self._next[tp] = msgs[-1].offset + 1
                    self._seen[tp] = max(self._seen.get(tp, -math.inf), max(m.timestamp for m in msgs))
            # the horizon asks every partition its position: only worth it when something waits to be released
            records = release(self._held, await self._horizon(), self.settings.consumer_batch_max) if self._held else {}
            if not records:
                if not batch:
                    await self._measure_lag(self.consumer.assignment())
                    await self.idle()
                continue
            for tp, msgs in records.items():
                held = self._held.get(tp)
                if not held or held[0] is not msgs[0]:
                    # revoked while the horizon was asked (a rebalance runs beside this loop): its held messages are
                    # gone; applying these is still safe, the stored offsets decide who applied what
                    continue
                rest = held[len(msgs):]
                if rest:
                    self._held[tp] = rest
                else:
                    del self._held[tp]
            self._fetched_at = time.monotonic()
            try:
                await self._apply_or_bisect(records)
            except Exception:
                # A bug, not bad data: crash loudly; the supervisor restarts us at the last committed offsets.
                log.exception("batch could not be applied; stopping")
                raise
            await self._commit_to_kafka(records)
            await self._measure_lag(records)

    async def _horizon(self) -> float:
        """The newest Kafka timestamp up to which every assigned partition has been read: a partition read to the end
        the broker last reported does not hold anyone back; one with more to read holds the others at the newest
        message fetched from it (and everyone waits until it has been fetched from)."""
        assert self.consumer is not None
        horizon = math.inf
        for tp in self.consumer.assignment():
            try:
                high = self.consumer.highwater(tp)
                if high is None:
                    if time.monotonic() - self._assigned_at < UNKNOWN_END_WAIT_S:
                        return -math.inf
                    continue  # a partition the broker says nothing about must not stop the others for ever
                position = await self.consumer.position(tp)
            except Exception:  # revoked meanwhile (the client asserts on a partition it no longer has)
                continue
            if position >= high:
                continue
            seen = self._seen.get(tp)
            if seen is None:
                return -math.inf
            horizon = min(horizon, seen)
        return horizon

    async def _apply(self, records: dict[TopicPartition, list[ConsumerRecord]]) -> list[tuple[ConsumerRecord, str]]:
        """One transaction: the fresh records and their offsets. Returns the messages found unusable on the way
        (``park``), to be dead-lettered by the caller once this has committed."""
        self._parked = []
        async with self.pool.acquire() as conn, conn.transaction():
            stored = await store.lock_offsets(conn, self.group, [(tp.topic, tp.partition) for tp in records])
            fresh: dict[TopicPartition, list[ConsumerRecord]] = {}
            for tp, msgs in records.items():
                # A lower offset was applied by us before a crash, or by the previous owner of the partition.
                fresh[tp] = [m for m in msgs if m.offset >= stored[(tp.topic, tp.partition)]]
            count = await self.apply_batch(conn, fresh)
            await store.store_offsets(
                conn, self.group, {(tp.topic, tp.partition): msgs[-1].offset + 1 for tp, msgs in records.items()}
            )
        parked, self._parked = self._parked, []
        self.applied += count
        self.committed(count, time.monotonic() - self._fetched_at)
        return parked

    def committed(self, decided: int, seconds: float) -> None:
        """Called once a batch's transaction committed (never for a try that rolled back)."""
        metrics.LEDGER_BATCH_EVENTS.observe(decided)
        metrics.LEDGER_BATCH_SECONDS.observe(seconds)

    async def _measure_lag(self, partitions: Iterable[TopicPartition]) -> None:
        """What is left behind each partition: the broker's high watermark (known from the last fetch) minus our
        position. Measured where the work happens, so it is there even when no API replica is scraped."""
        if self.consumer is None:
            return
        assigned = self.consumer.assignment()
        for tp in partitions:
            # a partition revoked meanwhile (a rebalance runs beside the loop): its new owner reports it; the client
            # asserts on a partition it no longer has, and a metric must never stop the ledger
            if tp not in assigned:
                continue
            with contextlib.suppress(Exception):
                high = self.consumer.highwater(tp)
                if high is not None:
                    position = await self.consumer.position(tp)
                    metrics.CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(max(high - position, 0))

    def park(self, msg: ConsumerRecord, reason: str) -> None:
        """Dead-letter ``msg`` once the transaction being applied commits — never from inside it.

        A transaction can be tried more than once (a transient failure, or a part of a batch being bisected): a
        dead letter published from inside it would be published again on every try, and one published for a
        transaction that then rolled back would describe a decision that was never recorded. (A crash between the
        commit and the publish loses the dead letter, never the decision: the receipt says ``rejected`` and why.)
        """
        self._parked.append((msg, reason))

    async def _apply_or_bisect(self, records: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Apply the batch; if PostgreSQL refuses its data, find the event it refuses and set that one aside.

        A data error (``laowu.store.errors.REFUSED_DATA``: a character it cannot store, a number out of range, a
        string too long …) is a property of one message, not of the moment: retrying the same batch fails forever
        and halts the ledger (issue 16). So the batch is halved, each half applied in its own transaction with its
        own offsets, until the single message that fails is found; it gets a ``rejected`` receipt and its offset is
        stored in one transaction, and it goes to the dead-letter topic after that commits. Everything else is
        applied once, and each dead letter is published once, after the commit of the part that decided it.
        """
        try:
            parked = await self._retry(lambda: self._apply(records))
        except REFUSED_DATA as exc:
            self._parked = []
            flat = [(tp, m) for tp, msgs in records.items() for m in msgs]
            if len(flat) == 1:
                await self._set_aside(flat[0][0], flat[0][1], f"{type(exc).__name__}: {exc}")
                return
            log.warning("batch of %d refused by PostgreSQL (%s); bisecting", len(flat), type(exc).__name__)
            half = len(flat) // 2
            for part in (flat[:half], flat[half:]):
                grouped: dict[TopicPartition, list[ConsumerRecord]] = {}
                for tp, m in part:  # per-partition order is kept: each part takes a run of each partition's messages
                    grouped.setdefault(tp, []).append(m)
                await self._apply_or_bisect(grouped)
            return
        for msg, reason in parked:
            await self._retry(lambda m=msg, r=reason: self.dead_letter(m, r))

    async def _set_aside(self, tp: TopicPartition, msg: ConsumerRecord, reason: str) -> None:
        async def refuse() -> bool:
            async with self.pool.acquire() as conn, conn.transaction():
                stored = await store.lock_offsets(conn, self.group, [(tp.topic, tp.partition)])
                if msg.offset < stored[(tp.topic, tp.partition)]:
                    return False  # decided already (by us before a crash, or the partition's previous owner)
                await self.refuse(conn, msg, reason)
                await store.store_offsets(conn, self.group, {(tp.topic, tp.partition): msg.offset + 1})
                return True

        if await self._retry(refuse):
            await self._retry(lambda: self.dead_letter(msg, f"refused by the database: {reason}"))

    async def refuse(self, conn: asyncpg.Connection, msg: ConsumerRecord, reason: str) -> None:
        """Record, inside the open transaction, that ``msg`` was refused (a consumer with receipts writes one)."""
        return None

    async def _commit_to_kafka(self, records: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        """Mirror the positions to Kafka, only so that lag tools see them; PostgreSQL stays authoritative."""
        assert self.consumer is not None
        try:
            await self.consumer.commit({tp: msgs[-1].offset + 1 for tp, msgs in records.items()})
        except KafkaError as exc:
            log.info("kafka offset mirror skipped: %s", exc)

    async def _retry(self, action):  # type: ignore[no-untyped-def]
        delay = 0.2
        while True:
            try:
                return await action()
            except TRANSIENT as exc:
                if self._stopping.is_set():
                    raise
                log.warning("transient failure, retrying in %.1fs: %s: %s", delay, type(exc).__name__, exc)
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 10.0)

    async def dead_letter(self, msg: ConsumerRecord, reason: str) -> None:
        """Park an unusable message with its reason; the original bytes are kept untouched."""
        headers = [
            ("reason", reason.encode("utf-8")[:2000]),
            ("origin.topic", msg.topic.encode()),
            ("origin.partition", str(msg.partition).encode()),
            ("origin.offset", str(msg.offset).encode()),
            ("consumer.group", self.group.encode()),
        ]
        value = msg.value if msg.value is None or len(msg.value) < 9 << 20 else msg.value[: 9 << 20]
        await self.producer.send_and_wait(self.dead_letter_topic, value=value, key=msg.key, headers=headers)
        metrics.DEAD_LETTERS.labels(self.group, msg.topic).inc()
        log.warning("dead-lettered %s:%d@%d: %s", msg.topic, msg.partition, msg.offset, reason,
                    extra={"topic": msg.topic, "partition": msg.partition, "offset": msg.offset, "group": self.group})

    async def idle(self) -> None:
        """Called when a poll returned nothing: room for housekeeping that must not wait for traffic."""
        return None

    @abstractmethod
    async def apply_batch(self, conn: asyncpg.Connection, records: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        """Apply fresh records inside the open transaction; return how many events were decided."""
