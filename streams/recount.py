"""``laowu stats recount [--fix]``: recompute every streamed figure from the ledger and report (or correct) drift.

A recount is only comparable with the stored figures at a *consistent cut*: every ledger change committed
in the recount's snapshot must already have been applied by the stream processor, and nothing else. So, in
one REPEATABLE READ transaction:

1. ``LOCK stats_figures, stats_members IN EXCLUSIVE MODE`` before the snapshot is taken — the sink's
   upserts wait (API reads go on), so the figures cannot move under us;
2. the outbox holds no ``ledger.changed`` rows (all were relayed to Kafka before the snapshot);
3. the ledger-changes topic's end offsets, read *after* the snapshot, are all covered by the offsets the
   sink recorded in the same transactions as its figures.

If the cut is not consistent (events in flight) the transaction is abandoned, the sink is let go for a
moment, and it tries again. ``--fix`` writes the recount over drifted cells and rebuilds the memberships,
only at a consistent cut. Any change committed after the snapshot is applied by the sink on top, as usual.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from laowu import kafka_security
from laowu.settings import Settings
from laowu.store import flows as flow_store
from laowu.store import monitoring as monitoring_store
from laowu.store import stats as store
from laowu.store.pool import create_pool
from schemas.topics import LEDGER_CHANGES
from streams import flows, monitoring
from streams.monitoring import through as monitoring_through

log = logging.getLogger(__name__)


@dataclass
class Report:
    consistent_cut: bool
    outbox_pending: int
    kafka_lag: int | None
    cells: int
    drift: list[dict[str, Any]] = field(default_factory=list)
    corrected: bool = False
    attempts: int = 1
    flows: dict[str, Any] = field(default_factory=dict)  # the flow figures' own check (streams.flows, issue 19)

    def as_dict(self) -> dict[str, Any]:
        return {"consistent_cut": self.consistent_cut, "in_flight": {"outbox": self.outbox_pending,
                "kafka_lag": self.kafka_lag}, "cells": self.cells, "drift": self.drift, "drift_count": len(self.drift),
                "corrected": self.corrected, "attempts": self.attempts, "flows": self.flows}


def _plain(value: Decimal) -> str:
    """30.00 and 30 alike as "30"; 7800.50 as "7800.5"."""
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))


async def end_offsets(consumer: AIOKafkaConsumer, topic: str, partitions: int = LEDGER_CHANGES.partitions) -> dict[int, int]:
    """End offsets of the ledger-changes topic. Its partitions come from the catalogue it was created from (as
    api/lag.py does): a consumer that subscribes to nothing knows no partitions — asking it found none, so the
    recount saw no lag at all and could call a cut consistent with changes still in Kafka."""
    ends = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    return {tp.partition: int(offset) for tp, offset in ends.items()}


async def _attempt(conn: Any, consumer: AIOKafkaConsumer | None, topic: str, fix: bool, last: bool) -> Report | None:
    """One try at a consistent cut; None when events are in flight and this is not the last try."""
    tr = conn.transaction(isolation="repeatable_read")
    await tr.start()
    committed = False
    try:
        await store.lock_figures(conn)
        await flow_store.lock(conn)
        pending = await store.pending_ledger_changes(conn)  # the snapshot is taken here, after the lock
        lag: int | None = None
        ends: dict[int, int] | None = None
        if consumer is not None:
            ends = await end_offsets(consumer, topic)
            applied = await store.applied_offsets(conn, topic)
            lag = sum(max(0, end - applied.get(p, 0)) for p, end in ends.items())
        flow_report = await flows.check(conn, ends, topic, fix and pending == 0 and lag == 0)
        consistent = pending == 0 and lag == 0 and flow_report["consistent_cut"]
        if not consistent and not last:
            return None
        expected = await store.recount(conn)
        actual = await store.stored(conn)
        drift = sorted(c for c in expected.keys() | actual.keys() if expected.get(c, Decimal(0)) != actual.get(c, Decimal(0)))
        report = Report(consistent, pending, lag, len(expected.keys() | actual.keys()), flows=flow_report, drift=[
            {"dim": c[0], "key": c[1], "month": c[2], "metric": c[3],
             "stored": _plain(actual.get(c, Decimal(0))), "recount": _plain(expected.get(c, Decimal(0)))} for c in drift])
        monitored = await monitoring.drift(conn, monitoring_through())  # 务工监测 (issue 20)
        report.drift += monitored
        if fix and consistent:
            await store.correct(conn, expected, drift)
            if monitored:
                await monitoring_store.rebuild(conn)
            await tr.commit()
            committed = report.corrected = True
        return report
    finally:
        if not committed:
            await tr.rollback()


async def rebuild_figures(conn: asyncpg.Connection) -> None:
    """Every figure the stream worker keeps, written from the ledger alone (``laowu rebuild``: nothing streamed yet).
    One home for the list, so that a figure added to the stream is rebuilt too."""
    expected = await store.recount(conn)
    await store.correct(conn, expected, expected.keys())
    await monitoring_store.rebuild(conn)  # 务工监测 (issue 20)
    flows_expected = await flow_store.recount(conn)  # 劳务流向 (issue 19)
    await flow_store.correct(conn, flows_expected, flows_expected.keys())


async def recount(settings: Settings, fix: bool = False, attempts: int = 40, wait_s: float = 0.25) -> Report:
    assert settings.database_url and settings.kafka_bootstrap, "DATABASE_URL and KAFKA_BOOTSTRAP must be set"
    topic = settings.topic(LEDGER_CHANGES.name)
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    consumer: AIOKafkaConsumer | None = kafka_security.consumer(settings, enable_auto_commit=False,
                                                                request_timeout_ms=10_000)
    try:
        try:
            await consumer.start()  # type: ignore[union-attr]
        except Exception as exc:
            log.warning("Kafka unreachable (%s): the cut cannot be checked", exc)
            consumer = None
        for attempt in range(1, attempts + 1):
            async with pool.acquire() as conn:
                report = await _attempt(conn, consumer, topic, fix, last=attempt == attempts)
            if report is not None:
                report.attempts = attempt
                return report
            await asyncio.sleep(wait_s)  # let the sink catch up
        raise AssertionError("unreachable")
    finally:
        if consumer is not None:
            await consumer.stop()
        await pool.close()
