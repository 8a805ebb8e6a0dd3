"""Process entry point for the consumers: ``laowu consume ledger``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaProducer

from consumers.base import BatchConsumer
from consumers.ledger import LedgerConsumer
from consumers.relay import run_relay
from consumers.sweeper import run_sweeper
from laowu import heap, kafka_security
from laowu.privacy import Privacy
from laowu.publish import PARTITIONER
from laowu.settings import Settings
from laowu.store.pool import create_pool

log = logging.getLogger(__name__)


def _producer(settings: Settings) -> AIOKafkaProducer:
    return kafka_security.producer(settings, enable_idempotence=True, acks="all", max_request_size=10 << 20,
                                   max_batch_size=1 << 20, partitioner=PARTITIONER)


def _database_url(settings: Settings) -> str:
    if not settings.database_url or not settings.kafka_bootstrap:
        raise RuntimeError("DATABASE_URL and KAFKA_BOOTSTRAP must be set")
    return settings.database_url


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def build(name: str, settings: Settings, group: str | None = None) -> tuple[BatchConsumer, AIOKafkaProducer]:
    pool = await create_pool(_database_url(settings), min_size=1, max_size=4, writer=True)
    producer = _producer(settings)
    await producer.start()
    if name == "ledger":
        consumer: BatchConsumer = LedgerConsumer(settings, pool, producer, group, privacy=Privacy(settings))
    else:
        raise SystemExit(f"unknown consumer {name!r}")
    return consumer, producer


async def run_relay_only(settings: Settings) -> None:
    """``laowu consume relay``: the outbox relay and the deadline sweeper in a process of their own, so that on a
    small machine they use another core than the ledger consumer (started with ``--no-relay``)."""
    pool = await create_pool(_database_url(settings), min_size=1, max_size=2, writer=True)
    producer = _producer(settings)
    await producer.start()
    stop = _stop_on_signals()
    heap.settle()
    await asyncio.gather(run_relay(pool, producer, stop),
                         run_sweeper(pool, settings, stop, settings.sweep_every_s))
    await producer.stop()
    await pool.close()


@contextlib.asynccontextmanager
async def running(name: str, settings: Settings, group: str | None = None, *, relay: bool = True,
                  sweep: bool = True) -> AsyncIterator[tuple[BatchConsumer, asyncio.Task[None]]]:
    """The consumer (with the outbox relay and the deadline sweeper beside it) running in this event loop until the
    block ends; yields it and its task. ``laowu consume`` runs it until a signal, the tests' in-process ledger for
    a test (without the sweeper: they sweep with a chosen ``today``)."""
    consumer, producer = await build(name, settings, group)
    stop = asyncio.Event()
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    helpers = ([asyncio.create_task(run_relay(consumer.pool, producer, stop))] if relay else []) + (
        [asyncio.create_task(run_sweeper(consumer.pool, settings, stop, settings.sweep_every_s))] if sweep else [])
    try:
        yield consumer, task
    finally:
        stop.set()
        await consumer.stop()
        task.cancel()
        await asyncio.gather(task, *helpers, return_exceptions=True)
        await producer.stop()
        await consumer.pool.close()


async def run_async(name: str, settings: Settings, relay: bool = True) -> None:
    if name == "relay":
        return await run_relay_only(settings)
    stop = _stop_on_signals()  # before the start: a signal while it joins its group stops it right after
    async with running(name, settings, relay=relay, sweep=relay) as (_, task):
        heap.settle()  # the process's, not the tests' in-process ledger's: start-up is done
        log.info("%s consumer running", name)
        await asyncio.wait({task, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if task.done() and not task.cancelled() and task.exception():
        raise task.exception()  # type: ignore[misc]


def run(name: str, settings: Settings, relay: bool = True) -> None:
    asyncio.run(run_async(name, settings, relay))
