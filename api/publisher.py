"""The one Kafka producer of the API: idempotent, ``acks=all``; every published event gets a receipt."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError

from api.coalesce import Coalescer
from laowu import kafka_security
from laowu.application.catalogue import PLACEMENT_CREATORS
from laowu.publish import PARTITIONER, publish_many
from laowu.settings import Settings
from laowu.store import known, receipts
from schemas.envelope import Outgoing
from schemas.topics import topic_for

# Per partition: a 1,000-event batch (~700 kB over the workers topic's 6 partitions) fits in one record batch
# each. aiokafka queues one batch per partition while the previous one is in flight, so the default 16 kB
# capped a produce round trip at ~20 events per partition. Stays below the topics' 2 MiB max.message.bytes.
MAX_BATCH_BYTES = 1 << 20
# Publishes this large build their own record batches (``publish_many``); smaller ones (single writes) go
# through ``send()``, which appends to the batch already open for the partition, shared with concurrent requests.
OWN_BATCHES_FROM = 32
# How long a write waits for the brokers' acknowledgements before answering 503. The idempotent producer never
# gives up on a batch it holds (aiokafka retries it until a leader takes it): that is how a killed leader is ridden
# out, a new one being elected within seconds. With a majority of a cluster gone no leader is elected, and a request
# waited for as long as the outage lasted (issue 22's fault test: past 7 minutes). The producer's own request timeout
# (15 s) plus a margin; what it still holds may reach the log later, under the event ids the client's retry with its
# Idempotency-Key derives again, so the ledger applies it once.
ACK_WAIT_S = 20.0


class Publisher:
    def __init__(self, settings: Settings, pool: asyncpg.Pool) -> None:
        self.settings = settings
        self.pool = pool
        self.accept_receipts: Coalescer[receipts.ReceiptRow, None] = Coalescer(lambda rows: receipts.accept(pool, rows))
        self.producer: AIOKafkaProducer = kafka_security.producer(
            settings,
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            max_batch_size=MAX_BATCH_BYTES,
            max_request_size=2 << 20,
            request_timeout_ms=15_000,
            partitioner=PARTITIONER,
        )
        # One large publish at a time: aiokafka's ``send_batch`` waits for the partition's previous batch to drain
        # and takes the whole wait off its timeout again on every wake-up, so eight concurrent 1,000-event
        # batches ran out of their 15 s within two seconds (KafkaTimeoutError, a 503).
        self.batch_lock = asyncio.Lock()

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    async def publish(self, envelopes: Sequence[Outgoing]) -> None:
        """Send all, wait for every broker acknowledgement, then write the ``accepted`` receipts."""
        topics: dict[str, str] = {}
        messages = []
        for e in envelopes:
            topic = topics.get(e.type)
            if topic is None:  # the catalogue is searched once per type, not once per event
                topic = topics[e.type] = self.settings.topic(topic_for(e.type).name)
            messages.append((topic, e.key.encode("utf-8"), e.to_bytes()))
        if len(messages) >= OWN_BATCHES_FROM:
            # One record batch per partition, in event order, where send() would put each key: send() per event
            # was 15 % of the API's time on 1,000-event batches (metadata checks, a future per message).
            async with self.batch_lock:
                await _acknowledged(publish_many(self.producer, messages))
        else:
            await _acknowledged(self._send_each(messages))
        # The placements of a dispatch first: a write may name one as soon as its dispatch's receipt says accepted.
        await known.accept_placements(self.pool, [
            (x["placement_id"], e.event_id, e.key, x["worker_id"], e.payload["employer"]["employer_id"],
             e.payload["organizer_id"])
            for e in envelopes if e.type in PLACEMENT_CREATORS for x in e.payload["placements"]])
        await self.accept_receipts([(e.event_id, e.type, e.source, e.key) for e in envelopes])

    async def _send_each(self, messages: Sequence[tuple[str, bytes, bytes]]) -> None:
        await asyncio.gather(*[await self.producer.send(topic, value=value, key=key) for topic, key, value in messages])

    async def kafka_ready(self) -> bool:
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=3)
            return True
        except Exception:
            return False


async def _acknowledged(sending: Awaitable[Any]) -> None:
    """Await ``sending`` for at most :data:`ACK_WAIT_S`, then raise ``KafkaTimeoutError`` (the API's 503).

    The sending itself is not cancelled (shielded): cancelling aiokafka's delivery futures under its sender would
    not take the records back, only lose track of them."""
    task = asyncio.ensure_future(sending)
    task.add_done_callback(_forget)  # also when this request is cancelled (its client went away) while it sends
    try:
        await asyncio.wait_for(asyncio.shield(task), ACK_WAIT_S)
    except TimeoutError:
        raise KafkaTimeoutError(f"no acknowledgement from the brokers within {ACK_WAIT_S:.0f}s") from None


def _forget(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: an abandoned send that failed later is no unhandled error
