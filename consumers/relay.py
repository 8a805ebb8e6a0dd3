"""Outbox relay: publishes derived events committed by the ledger, then deletes them.

At-least-once by design (a crash between publish and delete re-publishes); every derived event has a
deterministic ``event_id``, so whoever reads them can recognise a repeat.
"""

from __future__ import annotations

import asyncio
import json
import logging

import asyncpg
from aiokafka import AIOKafkaProducer

from laowu.store import dispatch as dstore

log = logging.getLogger(__name__)


async def relay_once(pool: asyncpg.Pool, producer: AIOKafkaProducer, limit: int = 1000) -> int:
    async with pool.acquire() as conn, conn.transaction():
        rows = await dstore.relay_batch(conn, limit)
        if not rows:
            return 0
        futures = [
            await producer.send(r["topic"], json.dumps(r["value"], ensure_ascii=False).encode(), key=r["key"].encode())
            for r in rows
        ]
        await asyncio.gather(*futures)
        await dstore.delete_outbox(conn, [r["id"] for r in rows])
    return len(rows)


async def run_relay(pool: asyncpg.Pool, producer: AIOKafkaProducer, stop: asyncio.Event, idle_s: float = 0.05) -> None:
    while not stop.is_set():
        try:
            sent = await relay_once(pool, producer)
        except Exception as exc:  # transient: database or broker away; the rows stay in the outbox
            log.warning("outbox relay failed, retrying: %s: %s", type(exc).__name__, exc)
            sent = 0
            await asyncio.sleep(1)
        if sent == 0:
            await asyncio.sleep(idle_s)
