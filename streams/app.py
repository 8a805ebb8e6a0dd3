"""The statistics stream processor (faust): ledger changes → figures in PostgreSQL, feed rows, ``stats.updated``.

Run it with ``laowu streams worker``. Built by :func:`create_app` (nothing happens at import). Two agents,
each a short loop handing chunks to the sinks:

* ``ledger-changes`` — ``laowu.ledger-changes.v1``, each chunk decoded once (:mod:`streams.changes`), then
  :class:`streams.sink.StatsSink` (statistics deltas, monitoring facts, ledger and stats feed rows) and
  :class:`streams.flows.FlowSink` (labour flows), each in its own transaction with its own applied-events table.
  Until issue 22 the flows had an agent of their own on the same topic: every message went through faust and
  pydantic twice, and the statistics worker was the busiest Python process under load;
* ``alerts`` — ``laowu.alerts.v1``: alert feed rows.

Settings, chosen on purpose (faust's issue tracker has the stories behind them):

* agent ``concurrency=1`` — with more, faust acknowledges (and commits) offsets past messages that another
  actor of the same agent is still processing; a crash then loses them;
* chunks via ``stream.take_events(500, within=0.1)`` — one PostgreSQL transaction per chunk (0.1 s bounds the
  latency a chunk adds, and at high rates chunks fill to 500 long before); faust acks the
  chunk's events only after the loop body returns, so offsets are committed after the write they cover;
* a chunk that fails or is interrupted must never be acknowledged: transient database errors are retried for
  ever inside the loop, anything else (or cancellation mid-chunk) ends the process with ``os._exit`` before
  faust can commit — a restart redelivers the chunk and the sink's applied-events table makes it a no-op;
* ``store="memory://"``, no tables, ``table_standby_replicas=0`` — the figures' state of record is
  PostgreSQL, so there is no changelog to recover (faust's table-recovery gaps cannot bite) and no RocksDB;
* static group membership (``consumer_group_instance_id``, KIP-345; see :func:`instance_id`) — a worker
  restarted by the supervisor after a crash takes its partitions back at once instead of waiting for the
  dead member's session to expire (the slow-rebalance pitfall);
* ``broker_session_timeout=30`` / ``broker_heartbeat_interval=3`` — a worker that is gone for good loses its
  partitions within 30 s instead of 60, while a busy event loop still heartbeats in time;
* ``broker_commit_interval=1`` — fewer redeliveries after a crash (they are harmless, only wasted work);
* ``stream_wait_empty=False`` — a rebalance or shutdown does not wait for buffered events to drain (they
  are simply redelivered);
* ``topic_replication_factor`` follows the cluster (``LAOWU_KAFKA_BROKERS``: one replica per broker, up to 3) —
  faust's own topics (its assignor's leader topic) are as safe as ours;
* ``web_enabled=False`` — no faust web server: health is the process and its consumer-group lag;
* the consumer's broker fetch wait is 100 ms instead of faust's fixed 1.5 s (``streams.transport``): aiokafka
  re-fetches a drained partition only after the fetch in flight returns, so a long wait set the latency.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import faust

from laowu import heap
from laowu.kafka_security import KafkaSecurity
from laowu.settings import Settings
from schemas.topics import ALERTS, LEDGER_CHANGES
from streams import flows
from streams.sink import Message, StatsSink, read_changes
from streams.transport import Transport

log = logging.getLogger(__name__)

CHUNK = 500
CHUNK_WAIT_S = 0.1
PRUNE_EVERY_S = 3600.0
EXIT_UNAPPLIED = 70


def broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{h.strip()}" for h in bootstrap.split(",") if h.strip()]


def _message(event: Any) -> Message:
    m = event.message
    return Message(topic=m.topic, partition=m.partition, offset=m.offset, value=m.value)


async def _apply_or_die(apply: Callable[[Sequence[Message]], Awaitable[int]], events: Sequence[Any]) -> None:
    """Apply a chunk; never return without having applied it (faust acks the chunk when we return)."""
    try:
        await apply([_message(e) for e in events])
    except asyncio.CancelledError:
        log.warning("stopped in the middle of a chunk: exiting before faust can commit it (it will be redelivered)")
        logging.shutdown()
        os._exit(EXIT_UNAPPLIED)
    except Exception:
        log.exception("chunk could not be applied: exiting before faust can commit it")
        logging.shutdown()
        os._exit(EXIT_UNAPPLIED)


def instance_id() -> str | None:
    """Static group membership id: ``LAOWU_STREAMS_INSTANCE_ID`` (``none`` turns it off), else ``<hostname>-stats``.

    Right where a restarted worker keeps its host name (the local supervisor, a container restart, a StatefulSet
    pod); where every restart gets a new name (Deployment pods) turn it off, or the departed member's partitions
    wait for its session timeout.
    """
    value = os.environ.get("LAOWU_STREAMS_INSTANCE_ID", "").strip()
    if value.lower() == "none":
        return None
    return value or f"{socket.gethostname()}-stats"


class _App(faust.App):
    def _new_transport(self) -> Transport:
        return Transport(self.conf.broker_consumer, self)


def create_app(settings: Settings, sink: StatsSink | None = None) -> faust.App:
    if not settings.kafka_bootstrap or not settings.database_url:
        raise RuntimeError("DATABASE_URL and KAFKA_BOOTSTRAP must be set")
    datadir = settings.home / "faust" / settings.topic("laowu-stats")  # unused (no tables); kept out of the cwd
    datadir.mkdir(parents=True, exist_ok=True)
    app = _App(
        settings.topic("laowu-stats"),
        broker=broker_urls(settings.kafka_bootstrap),
        # The same SASL/TLS as every other client (laowu.kafka_security): faust's aiokafka driver hands these to its
        # consumers and producer, topic creation included.
        broker_credentials=KafkaSecurity.from_settings(settings).faust_credentials(),
        store="memory://",
        autodiscover=False,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=30.0,
        broker_heartbeat_interval=3.0,
        broker_commit_interval=1.0,
        stream_wait_empty=False,
        topic_replication_factor=settings.kafka_replication,
        topic_partitions=1,
        table_standby_replicas=0,
        producer_acks=-1,
        web_enabled=False,
        datadir=str(datadir),
        consumer_group_instance_id=instance_id(),
    )
    the_sink = sink or StatsSink(settings)
    raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
    ledger_topic = app.topic(settings.topic(LEDGER_CHANGES.name), **raw)
    alerts_topic = app.topic(settings.topic(ALERTS.name), **raw)

    flow_sink = flows.register(app, settings)  # 劳务流向 (issue 19)

    async def apply_ledger(msgs: Sequence[Message]) -> int:
        changes, offsets = read_changes(msgs)
        applied = await the_sink.apply_changes(changes, offsets)
        await flow_sink.apply_changes(changes, offsets)
        return applied

    async def ledger_changes(stream: Any) -> None:  # faust.Stream; its stub lacks take_events
        async for events in stream.take_events(CHUNK, within=CHUNK_WAIT_S):
            await _apply_or_die(apply_ledger, events)

    async def alerts(stream: Any) -> None:
        async for events in stream.take_events(CHUNK, within=CHUNK_WAIT_S):
            await _apply_or_die(the_sink.apply_alerts, events)

    async def prune() -> None:
        try:
            applied, feed = await the_sink.prune()
            if applied or feed:
                log.info("pruned %d applied-event ids and %d feed rows", applied, feed)
        except Exception as exc:  # housekeeping: try again next time
            log.warning("prune failed: %s", exc)

    app.agent(ledger_topic, name="ledger-changes", concurrency=1)(ledger_changes)
    app.agent(alerts_topic, name="alerts", concurrency=1)(alerts)
    app.timer(PRUNE_EVERY_S)(prune)
    app.sink_ = the_sink  # type: ignore[attr-defined]
    return app


def run_worker(settings: Settings) -> None:
    """``laowu streams worker``: the faust worker in the foreground until SIGTERM/SIGINT."""
    from laowu import logs

    app = create_app(settings)
    level = os.environ.get("LAOWU_LOG_LEVEL", "INFO")
    # faust configures logging itself: JSON lines (LAOWU_LOG_FORMAT=json) need our formatter handed to it
    config = logs.dict_config(level) if logs.log_format() == "json" else None
    worker = faust.Worker(app, loglevel=level, quiet=True, logging_config=config)
    heap.settle()
    worker.execute_from_commandline()
