"""Consumer lag for /metrics: Kafka's end offsets minus the positions the consumers committed in PostgreSQL.

The positions that matter live in PostgreSQL (written with the rows they cover), so lag is measured against
them, not against Kafka's committed offsets.
"""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from laowu import kafka_security
from laowu.metrics import CONSUMER_LAG as LAG
from laowu.settings import Settings
from laowu.store.ledger import stored_offsets
from schemas.topics import BRANDS, DISPATCHES, WORKERS

GROUPS = {"ledger": (BRANDS, DISPATCHES, WORKERS)}


class LagProbe:
    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self.settings, self.pool = settings, pool
        self.client: AIOKafkaConsumer | None = None
        self.lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self.lock:
            if self.client is None:
                self.client = kafka_security.consumer(self.settings, enable_auto_commit=False)
                await self.client.start()
            for group, topics in GROUPS.items():
                # Partition counts come from the catalogue the topics were created from.
                parts = [TopicPartition(self.settings.topic(t.name), p) for t in topics for p in range(t.partitions)]
                ends = await asyncio.wait_for(self.client.end_offsets(parts), timeout=3)
                done = await stored_offsets(self.pool, group)
                for tp, end in ends.items():
                    position = max(done.get((tp.topic, tp.partition), 0), 0)
                    LAG.labels(group, tp.topic, str(tp.partition)).set(max(end - position, 0))

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.stop()
