"""The one Kafka producer of the API: idempotent, ``acks=all``; every published event gets a receipt."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import asyncpg
from aiokafka import AIOKafkaProducer

from laowu.settings import Settings
from laowu.store import receipts
from schemas.envelope import Envelope
from schemas.topics import topic_for


class Publisher:
    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self.settings = settings
        self.pool = pool
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            max_request_size=2 << 20,
            request_timeout_ms=15_000,
        )

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Send all, wait for every broker acknowledgement, then write the ``accepted`` receipts."""
        futures = [
            await self.producer.send(
                self.settings.topic(topic_for(e.type).name), value=e.to_bytes(), key=e.key.encode("utf-8")
            )
            for e in envelopes
        ]
        await asyncio.gather(*futures)
        await receipts.accept(self.pool, [(e.event_id, e.type, e.source, e.key) for e in envelopes])

    async def kafka_ready(self) -> bool:
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=3)
            return True
        except Exception:
            return False
