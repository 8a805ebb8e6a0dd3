"""The ledger consumer (with its relay and sweeper) and the statistics worker serve their metrics on
``LAOWU_METRICS_PORT``, and the figures are what happened: applied, rejected, deferred and dead-lettered events,
freshness, batches, lag per partition, the outbox, sweeps, statistics drained."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from laowu.intake import Intake
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.stack.ports import free_port
from laowu.stack.processes import stop_process
from schemas.api import BrandCreate, WorkerCreate, WorkerPatch
from schemas.envelope import Envelope
from schemas.events import WorkerBrandJoined, WorkerBrandLeft
from schemas.topics import WORKERS

from conftest import spawn_ours
from helpers import person, produce, wait_decided

pytestmark = pytest.mark.services

PEOPLE = 20


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    return sum(v for (n, ls), v in found.items() if n == name and set(labels.items()) <= ls)


async def scrape(port: int, until: object, what: str, timeout: float = 60) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    deadline = time.monotonic() + timeout
    last: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                last = samples((await client.get(f"http://127.0.0.1:{port}/metrics")).text)
            except httpx.TransportError:
                pass
            if last and until(last):  # type: ignore[operator]
                return last
            await asyncio.sleep(0.25)
    raise AssertionError(f"{what} not seen in {timeout:.0f}s; last scrape: {sorted(k[0] for k in last)[:40]}")


async def test_the_ledger_and_statistics_processes_report_what_they_did(settings: Settings, pool: asyncpg.Pool,
                                                                      tmp_path: Path) -> None:
    intake = Intake(Privacy(settings))
    at = datetime(2026, 6, 1, tzinfo=UTC)
    envelopes = [intake.register_brand(BrandCreate(brand_id="m-b", name="椰嫂", region_code="460000",
                                                   category="service", level="provincial"))]
    people = [intake.register_worker(WorkerCreate.model_validate(person(n) | {"occurred_at": at + timedelta(minutes=n)}))
              for n in range(PEOPLE)]
    envelopes += people
    # not a member of m-b: rejected
    envelopes.append(Envelope.wrap(WorkerBrandLeft(worker_id=people[0].key, brand_id="m-b", reason="转行"),
                                   type="worker.brand_left", key=people[0].key, source="ws-469005-01"))
    # about somebody never registered: rejected
    stranger = Privacy(settings).worker_id(person(PEOPLE + 1)["id_number"])
    envelopes.append(intake.update_worker(stranger, WorkerPatch(name="候补", occurred_at=at)))
    # naming a brand accepted but not registered yet: waits — deferred
    waiting = Envelope.wrap(WorkerBrandJoined(worker_id=people[1].key, brand_id="m-later"),
                            type="worker.brand_joined", key=people[1].key, source="ws-469005-01")
    envelopes.append(waiting)
    await produce(settings, envelopes)
    # not an event at all: dead-lettered
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    await producer.send_and_wait(settings.topic(WORKERS.name), b"not json", key=b"x")
    await producer.stop()

    ledger_port, streams_port = free_port(), free_port()
    ledger = spawn_ours(["consume", "ledger"], settings, tmp_path / "ledger.log", LAOWU_METRICS_PORT=str(ledger_port))
    streams = spawn_ours(["streams", "worker"], settings, tmp_path / "streams.log", LAOWU_METRICS_PORT=str(streams_port))
    try:
        await wait_decided(pool, [str(e.event_id) for e in envelopes if e is not waiting], timeout=90)
        def workers_lag(f: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> dict[str, float]:
            return {dict(ls)["partition"]: v for (n, ls), v in f.items()
                    if n == "laowu_consumer_lag" and dict(ls)["topic"] == settings.topic(WORKERS.name)}

        # the metrics are set just after each commit the receipts show: wait for all of them to be counted
        found = await scrape(ledger_port, lambda f: value(f, "laowu_dead_letters_total") >= 1
                             and value(f, "laowu_sweeper_runs_total", outcome="ok") >= 1
                             and value(f, "laowu_ledger_events_total", topic=WORKERS.name) >= PEOPLE + 3
                             and len(workers_lag(f)) == WORKERS.partitions and not any(workers_lag(f).values()),
                             "every decision counted, a sweep and no lag")
        assert value(found, "laowu_ledger_events_total", type="worker.registered", outcome="applied") == PEOPLE
        assert value(found, "laowu_ledger_events_total", type="brand.registered", outcome="applied") == 1
        assert value(found, "laowu_ledger_events_total", type="worker.brand_left", outcome="rejected") == 1
        assert value(found, "laowu_ledger_events_total", type="worker.updated", outcome="rejected") == 1
        assert value(found, "laowu_ledger_events_total", type=waiting.type, outcome="deferred") == 1
        assert value(found, "laowu_ledger_events_total", topic=WORKERS.name) == PEOPLE + 3
        assert value(found, "laowu_dead_letters_total", group="ledger") == 1
        applied = value(found, "laowu_ledger_events_total", outcome="applied")
        assert value(found, "laowu_ledger_freshness_seconds_count") == applied
        # every receipt is in some committed batch (the refused message has no event id, so none; deferred: none yet)
        assert value(found, "laowu_ledger_batch_events_sum") == applied + 2
        assert value(found, "laowu_ledger_batch_duration_seconds_count") >= 1
        assert value(found, "laowu_sweeper_last_success_timestamp_seconds") > time.time() - 120
        assert set(workers_lag(found)) == {str(p) for p in range(WORKERS.partitions)}
        relayed = await scrape(ledger_port, lambda f: value(f, "laowu_outbox_published_total") > 0
                               and value(f, "laowu_outbox_rows") == 0, "the outbox drained")
        assert value(relayed, "laowu_outbox_oldest_age_seconds") == 0
        # one ledger change per entity changed, each reaching the figures once
        stats = await scrape(streams_port, lambda f: value(f, "laowu_statistics_events_total") >= PEOPLE + 1,
                             "the statistics drained")
        assert value(stats, "laowu_statistics_lag_seconds_count") == value(stats, "laowu_statistics_events_total",
                                                                           topic="ledger-changes")
    finally:
        stop_process(ledger)
        stop_process(streams)
