"""Outbox relay: publishes derived events committed by the ledger, then deletes them.

At-least-once by design (a crash between publish and delete re-publishes); every derived event has a
deterministic ``event_id``, so whoever reads them can recognise a repeat.
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
from aiokafka import AIOKafkaProducer

from laowu import metrics
from laowu.publish import publish_many
from laowu.store import outbox

log = logging.getLogger(__name__)
RELAY_LOCK = 0x1A0_0002
MEASURE_EVERY_S = 5.0


async def relay_once(pool: asyncpg.Pool, producer: AIOKafkaProducer, rows: int = 8) -> int:
    async with pool.acquire() as conn, conn.transaction():
        # The delete need not wait for its WAL flush: if a database crash forgets it, the rows are published
        # again, and every derived event has a deterministic event_id that its readers recognise.
        await conn.execute("SET LOCAL synchronous_commit TO off")
        # One relay at a time, whatever the number of consumer replicas: two would publish interleaved slices
        # of the outbox, and events of one key could overtake each other.
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", RELAY_LOCK):
            return 0
        claimed = await outbox.claim(conn, rows)
        if not claimed:
            return 0
        sent = await publish_many(producer, (m for _, frames in claimed for m in outbox.unpack(frames)))
        await outbox.delete(conn, [row_id for row_id, _ in claimed])
    metrics.OUTBOX_PUBLISHED.inc(sent)
    return sent


async def measure(pool: asyncpg.Pool) -> None:
    """Outbox depth and the age of its oldest row: a relay that cannot publish shows here first."""
    rows, age = await outbox.depth(pool)
    metrics.OUTBOX_ROWS.set(rows)
    metrics.OUTBOX_AGE.set(age)


async def run_relay(pool: asyncpg.Pool, producer: AIOKafkaProducer, stop: asyncio.Event, idle_s: float = 0.05) -> None:
    measured = 0.0
    while not stop.is_set():
        if time.monotonic() - measured >= MEASURE_EVERY_S:
            measured = time.monotonic()
            try:
                await measure(pool)
            except Exception as exc:  # the database is away: the relay below says so too
                log.debug("outbox not measured: %s", exc)
        try:
            sent = await relay_once(pool, producer)
        except Exception as exc:  # transient: database or broker away; the rows stay in the outbox
            log.warning("outbox relay failed, retrying: %s: %s", type(exc).__name__, exc)
            sent = 0
            await asyncio.sleep(1)
        if sent == 0:
            await asyncio.sleep(idle_s)
