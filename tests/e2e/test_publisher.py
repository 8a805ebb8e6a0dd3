"""The API's producer: hand-built record batches put every key where ``send()`` would, in order, with receipts."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from api.publisher import OWN_BATCHES_FROM, Publisher
from laowu.intake import Context, Intake
from laowu.privacy import Privacy
from laowu.settings import Settings
from schemas.api import WorkerCreate
from schemas.envelope import Envelope
from schemas.topics import WORKERS

from helpers import person

pytestmark = pytest.mark.services


async def test_batches_land_on_the_partition_send_would_choose(settings: Settings, pool: asyncpg.Pool) -> None:
    intake = Intake(Privacy(settings))
    envelopes = [intake.register_worker(WorkerCreate.model_validate(person(n)), Context()) for n in range(400, 700)]
    halves = (envelopes[:150], envelopes[150:])
    assert all(len(h) >= OWN_BATCHES_FROM for h in halves)
    topic = settings.topic(WORKERS.name)
    publisher = Publisher(settings, pool)
    await publisher.start()
    try:
        await publisher.producer.partitions_for(topic)
        # aiokafka's own choice for the key, the one send() makes
        expected = {e.key: publisher.producer._partition(topic, None, None, None, e.key.encode(), None) for e in envelopes}
        assert len(set(expected.values())) == WORKERS.partitions
        await asyncio.gather(*(publisher.publish(h) for h in halves))  # two requests in flight at once
    finally:
        await publisher.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(WORKERS.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        landed: dict[int, list[str]] = {}
        while sum(map(len, landed.values())) < len(envelopes):
            for tp, records in (await consumer.getmany(timeout_ms=2000)).items():
                for record in records:
                    env = Envelope.from_bytes(record.value)
                    assert record.key == env.key.encode()
                    landed.setdefault(tp.partition, []).append(env.key)
    finally:
        await consumer.stop()
    assert {key: p for p, keys in landed.items() for key in keys} == expected
    for half in halves:  # each request's events keep their order within a partition
        own = {e.key for e in half}
        for p, keys in landed.items():
            assert [k for k in keys if k in own] == [e.key for e in half if expected[e.key] == p]
    accepted = await pool.fetchval("SELECT count(*) FROM event_receipts WHERE event_id = ANY($1::uuid[]) "
                                   "AND status = 'accepted'", [e.event_id for e in envelopes])
    assert accepted == len(envelopes)
