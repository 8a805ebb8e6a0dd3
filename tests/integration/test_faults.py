"""Fault injection: a workload, a fault mid-stream, recovery, then exact counts — every event applied once.

Faults: kill -9 of the API (clients retry with their Idempotency-Key), kill -9 of the Kafka broker,
a PostgreSQL restart under the consumers, poison messages in every source topic, and a rebalance between
two ledger consumers of one group. (kill -9 of the ledger consumer: test_ledger_faults.py.)
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from laowu.intake import Intake
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.stack.ports import free_port
from laowu.stack.processes import stop_process
from schemas.api import BrandCreate, CertificateCreate, WorkerCreate
from schemas.topics import BRANDS, DISPATCHES, WORKERS, topic_for

from conftest import Infra, spawn_ours
from helpers import bearer, decided_count, outcome_count, person, produce, wait_decided

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]


async def _ready(url: str, timeout: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(base_url=url) as c:
        while True:
            try:
                if (await c.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert loop.time() < deadline, "API never became ready"
            await asyncio.sleep(0.1)


async def _post_until_accepted(client: httpx.AsyncClient, body: dict[str, Any], key: str, attempts: int = 300) -> str:
    """What a workstation terminal does: retry with the same Idempotency-Key until the API says 202."""
    for _ in range(attempts):
        try:
            r = await client.post("/v1/workers", json=body, headers={"Idempotency-Key": key})
            if r.status_code == 202:
                return str(r.json()["event_id"])
            assert r.status_code in (500, 502, 503), r.text
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{key} never accepted")


async def _exact(pool: asyncpg.Pool, event_ids: list[str], people: int) -> None:
    decided = await wait_decided(pool, event_ids, timeout=120)
    assert len(set(event_ids)) == people
    assert {d["status"] for d in decided.values()} == {"applied"}
    assert await pool.fetchval("SELECT count(*) FROM workers") == people
    assert await pool.fetchval("SELECT count(*) FROM worker_events") == people
    assert await outcome_count(pool) == people


async def test_kill_9_api_clients_retry_with_their_idempotency_key(settings: Settings, pool: asyncpg.Pool,
                                                                   tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    api = spawn_ours(["api"], settings, tmp_path / "api.log", LAOWU_API_PORT=str(port))
    consumer = spawn_ours(["consume", "ledger"], settings, tmp_path / "ledger.log")
    people = [person(400 + n) for n in range(120)]
    try:
        await _ready(url)
        async with httpx.AsyncClient(base_url=url, timeout=5, headers=bearer("admin", "ops", settings=settings)) as c:

            async def killer() -> None:
                await asyncio.sleep(0.4)
                stop_process(api, signal.SIGKILL)
                await asyncio.sleep(0.5)
                nonlocal_api.append(spawn_ours(["api"], settings, tmp_path / "api.log", LAOWU_API_PORT=str(port)))

            nonlocal_api: list[Any] = []
            kill = asyncio.create_task(killer())
            sem = asyncio.Semaphore(8)

            async def one(n: int, body: dict[str, Any]) -> str:
                async with sem:
                    return await _post_until_accepted(c, body, f"terminal-{n}")

            ids = await asyncio.gather(*(one(n, b) for n, b in enumerate(people)))
            await kill
            # Retrying an already accepted request returns the first answer and publishes nothing.
            again = await _post_until_accepted(c, people[0], "terminal-0")
            assert again == ids[0]
        await _exact(pool, list(ids), len(people))
    finally:
        for p in [api, consumer, *locals().get("nonlocal_api", [])]:
            stop_process(p)


async def test_kafka_broker_kill_9_and_restart(infra: Infra, settings: Settings, pool: asyncpg.Pool, api: httpx.AsyncClient,
                                               tmp_path: Path) -> None:
    consumer = spawn_ours(["consume", "ledger"], settings, tmp_path / "ledger.log")
    people = [person(600 + n) for n in range(150)]
    try:
        first = [await _post_until_accepted(api, b, f"k-{n}") for n, b in enumerate(people[:50])]
        # the ledger must be running when the broker dies (what it rides out): a consumer still starting up while
        # the broker is down exits and is left to its supervisor, which this test does not run
        await wait_decided(pool, first, timeout=60)
        infra.kill("kafka")
        during = asyncio.gather(*(_post_until_accepted(api, b, f"k-{50 + n}") for n, b in enumerate(people[50:100])))
        await asyncio.sleep(2)
        await infra.start("kafka")
        rest = [await _post_until_accepted(api, b, f"k-{100 + n}") for n, b in enumerate(people[100:])]
        ids = first + list(await during) + rest
        await _exact(pool, ids, len(people))
        assert consumer.poll() is None, "the consumer must ride out a broker restart"
    finally:
        if not infra.running("kafka"):
            await infra.start("kafka")
        stop_process(consumer)


async def test_postgres_restart_while_consumers_write(infra: Infra, settings: Settings, tmp_path: Path) -> None:
    intake = Intake(Privacy(settings))
    envelopes = [intake.register_worker(WorkerCreate.model_validate(person(5000 + n))) for n in range(4000)]
    await produce(settings, envelopes)
    log = tmp_path / "ledger.log"
    consumer = spawn_ours(["consume", "ledger"], settings, log, LAOWU_CONSUMER_BATCH_MAX="20")
    assert settings.database_url
    try:
        conn = await asyncpg.connect(settings.database_url)
        while (done := await decided_count(conn)) < 300:
            await asyncio.sleep(0.01)
        await conn.close()
        assert done < len(envelopes), "the fault must hit while the consumer is writing"
        infra.kill("postgres", hard=False)  # a restart: fast shutdown, connections cut mid-transaction
        await asyncio.sleep(3)
        assert consumer.poll() is None, "the consumer must back off, not crash"
        await infra.start("postgres")
        pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
        try:
            await _exact(pool, [str(e.event_id) for e in envelopes], len(envelopes))
        finally:
            await pool.close()
        assert consumer.poll() is None
        assert "transient failure, retrying" in log.read_text(), "the consumer should have backed off"
    finally:
        if not infra.running("postgres"):
            await infra.start("postgres")
        stop_process(consumer)


async def test_poison_in_every_source_topic(settings: Settings, pool: asyncpg.Pool, ledger: Any) -> None:
    intake = Intake(Privacy(settings))
    brand = intake.register_brand(BrandCreate(brand_id="hainan-zongzi", name="海南粽师", region_code="460100",
                                              category="service", level="municipal"))
    worker = intake.register_worker(WorkerCreate.model_validate(person(900)))
    poison = [b"\x00\x01binary", b'{"type": "worker.registered", "event_id": "not-a-uuid"}', b"[" * 1_200_000]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, max_request_size=2 << 20)
    await producer.start()
    try:
        for topic in (BRANDS, DISPATCHES, WORKERS):
            for value in poison:
                await producer.send_and_wait(settings.topic(topic.name), value, key=b"poison", partition=0)
        for env in (brand, worker):
            await producer.send_and_wait(settings.topic(topic_for(env.type).name), env.to_bytes(), key=env.key.encode())
    finally:
        await producer.stop()
    decided = await wait_decided(pool, [str(brand.event_id), str(worker.event_id)])
    assert {d["status"] for d in decided.values()} == {"applied"}
    dlq = AIOKafkaConsumer(settings.topic("laowu.dead-letter.v1"), bootstrap_servers=settings.kafka_bootstrap,
                           auto_offset_reset="earliest", fetch_max_bytes=20 << 20, max_partition_fetch_bytes=20 << 20)
    await dlq.start()
    try:
        parked: list[Any] = []
        for _ in range(40):
            parked += [m for b in (await dlq.getmany(timeout_ms=300)).values() for m in b]
            if len(parked) >= 9:
                break
    finally:
        await dlq.stop()
    origins = sorted(dict(m.headers)["origin.topic"].decode().split(".", 1)[1] for m in parked)
    assert len(parked) == 9
    assert origins == sorted([t.name for t in (BRANDS, DISPATCHES, WORKERS)] * 3)
    assert await pool.fetchval("SELECT count(*) FROM workers") == 1


async def test_rebalance_between_two_consumers_of_one_group(settings: Settings, pool: asyncpg.Pool, tmp_path: Path) -> None:
    intake = Intake(Privacy(settings))
    envelopes = [intake.register_worker(WorkerCreate.model_validate(person(1000 + n))) for n in range(3000)]
    await produce(settings, envelopes)
    first = spawn_ours(["consume", "ledger"], settings, tmp_path / "a.log", LAOWU_CONSUMER_BATCH_MAX="40")
    second = None
    try:
        while await decided_count(pool) < 500:
            await asyncio.sleep(0.02)
        second = spawn_ours(["consume", "ledger"], settings, tmp_path / "b.log", LAOWU_CONSUMER_BATCH_MAX="40")
        while await decided_count(pool) < 1500:
            await asyncio.sleep(0.02)
        stop_process(first, timeout=30)  # leaves the group mid-stream: its partitions move to the second consumer
        await _exact(pool, [str(e.event_id) for e in envelopes], len(envelopes))
        both = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
        assert both.count("assigned") >= 3, "expected the group to rebalance"
    finally:
        for p in (first, second):
            if p is not None:
                stop_process(p)
    assert json.dumps([]) == "[]"


async def test_unclean_text_from_a_producer_that_bypassed_the_api(settings: Settings, pool: asyncpg.Pool,
                                                                  ledger: Any) -> None:
    """Issue 16: one registration with U+0000 in its name once halted the ledger (PostgreSQL cannot store it, the
    batch failed, the consumer restarted at the same offset, forever). Straight onto the topic, between good events:
    the poison is refused with a receipt and dead-lettered, everything around it is applied exactly once."""
    intake = Intake(Privacy(settings))
    good = [intake.register_worker(WorkerCreate.model_validate(person(950 + n))) for n in range(4)]
    brand = intake.register_brand(BrandCreate(brand_id="qiong-build", name="琼筑劳务", region_code="460100",
                                              category="skilled", level="provincial"))

    def poisoned(env: Any, field: str, value: str) -> tuple[str, bytes, bytes]:
        raw = json.loads(env.to_bytes())
        raw["event_id"] = str(uuid.uuid4())
        raw["payload"][field] = value
        return raw["event_id"], json.dumps(raw).encode(), env.key.encode()

    bad = [poisoned(intake.register_worker(WorkerCreate.model_validate(person(960))), "name", "王\u0000梅"),
           poisoned(brand, "name", "琼筑\u0000劳务"),
           poisoned(intake.register_worker(WorkerCreate.model_validate(person(961))), "name", "\ud800")]
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(settings.topic(WORKERS.name), good[0].to_bytes(), key=good[0].key.encode())
        for (_, value, key), topic in zip(bad, (WORKERS, BRANDS, WORKERS), strict=True):
            await producer.send_and_wait(settings.topic(topic.name), value, key=key)
        for env in (*good[1:], brand):
            await producer.send_and_wait(settings.topic(topic_for(env.type).name), env.to_bytes(), key=env.key.encode())
    finally:
        await producer.stop()
    decided = await wait_decided(pool, [str(e.event_id) for e in (*good, brand)] + [b[0] for b in bad])
    assert {decided[str(e.event_id)]["status"] for e in (*good, brand)} == {"applied"}
    for event_id, _, _ in bad:
        assert decided[event_id]["status"] == "rejected" and decided[event_id]["reason"]
    assert await pool.fetchval("SELECT count(*) FROM workers") == len(good)
    assert await pool.fetchval("SELECT count(*) FROM worker_events") == len(good)
    assert await pool.fetchval("SELECT count(*) FROM brands") == 1
    parked = await _dead_letters(settings, at_least=len(bad))
    assert sorted(m.value for m in parked) == sorted(value for _, value, _ in bad)  # each once, bytes untouched
    assert all(b"name" in dict(m.headers)["reason"] for m in parked), [dict(m.headers)["reason"] for m in parked]


async def test_a_batch_the_database_refuses_is_bisected_not_retried_forever(
        settings: Settings, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch, ledger: Any) -> None:
    """Defence in depth (issue 16): whatever the contract let through and PostgreSQL still refuses — here a NUL from
    a release that did not check text, simulated by switching the clean-text rule off — costs one event, not the
    ledger. The batch is bisected down to that event: it is rejected with a receipt and dead-lettered once; the
    events around it, in the same batch, are applied exactly once."""
    import schemas.common

    monkeypatch.setattr(schemas.common, "unclean_character", lambda value, multiline=False: None)
    intake = Intake(Privacy(settings))
    people = [WorkerCreate.model_validate(person(980 + n)) for n in range(9)]
    people[4] = people[4].model_copy(update={"name": "王\u0000梅"})
    envelopes = [intake.register_worker(p) for p in people]
    await produce(settings, envelopes)
    decided = await wait_decided(pool, [str(e.event_id) for e in envelopes])
    statuses = [decided[str(e.event_id)]["status"] for e in envelopes]
    assert statuses == ["applied"] * 4 + ["rejected"] + ["applied"] * 4
    assert "CharacterNotInRepertoire" in decided[str(envelopes[4].event_id)]["reason"] or \
        "Untranslatable" in decided[str(envelopes[4].event_id)]["reason"]
    assert await pool.fetchval("SELECT count(*) FROM workers") == 8
    assert await pool.fetchval("SELECT count(*) FROM worker_events") == 8
    assert ledger.applied >= 8
    dlq = AIOKafkaConsumer(settings.topic("laowu.dead-letter.v1"), bootstrap_servers=settings.kafka_bootstrap,
                           auto_offset_reset="earliest")
    await dlq.start()
    try:
        parked: list[Any] = []
        for _ in range(20):
            parked += [m for b in (await dlq.getmany(timeout_ms=300)).values() for m in b]
    finally:
        await dlq.stop()
    assert len(parked) == 1 and dict(parked[0].headers)["reason"].startswith(b"refused by the database")


async def _dead_letters(settings: Settings, at_least: int, polls: int = 20) -> list[Any]:
    """Everything on the dead-letter topic, polled ``polls`` times (so that a duplicate has time to show)."""
    dlq = AIOKafkaConsumer(settings.topic("laowu.dead-letter.v1"), bootstrap_servers=settings.kafka_bootstrap,
                           auto_offset_reset="earliest")
    await dlq.start()
    try:
        parked: list[Any] = []
        for n in range(polls * 3):
            parked += [m for b in (await dlq.getmany(timeout_ms=300)).values() for m in b]
            if n >= polls and len(parked) >= at_least:
                break
    finally:
        await dlq.stop()
    return parked


async def test_a_dead_letter_is_published_once_however_often_its_batch_is_tried(
        settings: Settings, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: a message that cannot be decoded shares a batch with one PostgreSQL refuses. The batch is tried
    whole, then bisected, so the part holding the undecodable message is tried again: its dead letter must still be
    published once, after the commit that records it (on the old consumer it was published from inside every try).
    All of it in one batch, on one partition, with the ledger consumer in this process: it never stops."""
    import schemas.common
    from consumers.runner import build

    monkeypatch.setattr(schemas.common, "unclean_character", lambda value, multiline=False: None)
    intake = Intake(Privacy(settings))
    people = [WorkerCreate.model_validate(person(990 + n)) for n in range(8)]
    people[6] = people[6].model_copy(update={"name": "王\u0000梅"})  # what an older, unchecking release let through
    envelopes = [intake.register_worker(p) for p in people]
    undecodable_id = str(uuid.uuid4())
    undecodable = json.dumps({"event_id": undecodable_id, "type": "worker.registered", "payload": {}}).encode()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for n, env in enumerate(envelopes):
            if n == 2:
                await producer.send_and_wait(settings.topic(WORKERS.name), undecodable, key=b"w-garbage", partition=0)
            await producer.send_and_wait(settings.topic(WORKERS.name), env.to_bytes(), key=env.key.encode(),
                                         partition=0)
    finally:
        await producer.stop()
    consumer, out = await build("ledger", settings)
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    try:
        decided = await wait_decided(pool, [str(e.event_id) for e in envelopes] + [undecodable_id])
        statuses = [decided[str(e.event_id)]["status"] for e in envelopes]
        assert statuses == ["applied"] * 6 + ["rejected"] + ["applied"]
        assert decided[undecodable_id]["status"] == "rejected"
        assert await pool.fetchval("SELECT count(*) FROM workers") == 7
        assert await pool.fetchval("SELECT count(*) FROM worker_events") == 7
        parked = await _dead_letters(settings, at_least=2)
        assert not task.done(), "the ledger consumer stopped"
    finally:
        await consumer.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await out.stop()
        await consumer.pool.close()
    reasons = sorted(dict(m.headers)["reason"].decode() for m in parked)
    assert len(parked) == 2, reasons
    assert reasons[0].startswith("refused by the database: ") and reasons[1].startswith("schema: "), reasons


async def test_an_event_deferred_under_looser_rules_is_refused_not_a_halt(settings: Settings, pool: asyncpg.Pool,
                                                                          ledger: Any) -> None:
    """Issue 16 made text stricter. An event an older release deferred (a certificate whose worker was not registered
    yet) may hold what is no longer clean; when the registration wakes it, it is refused with a receipt — on the old
    consumer it failed validation inside every batch that woke it, and the ledger stopped at the registration."""
    intake = Intake(Privacy(settings))
    registration = intake.register_worker(WorkerCreate.model_validate(person(1990)))
    worker_id = registration.payload["worker_id"]
    certificate = intake.add_certificate(worker_id, CertificateCreate(kind="special_operation", name="电工"))
    stored = json.loads(certificate.to_bytes())
    stored["payload"]["certificate"]["name"] = "电\u001b工"  # storable in jsonb, no longer clean text
    await pool.execute("INSERT INTO deferred_events (event_id, waits_for, envelope) VALUES ($1, $2, $3)",
                       certificate.event_id, f"worker:{worker_id}", stored)
    later = intake.register_worker(WorkerCreate.model_validate(person(1991)))
    await produce(settings, [registration, later])
    decided = await wait_decided(pool, [str(e.event_id) for e in (registration, certificate, later)], timeout=30)
    assert decided[str(registration.event_id)]["status"] == "applied"
    assert decided[str(later.event_id)]["status"] == "applied"
    refused = decided[str(certificate.event_id)]
    assert refused["status"] == "rejected" and "certificate.name" in refused["reason"], refused
    assert await pool.fetchval("SELECT count(*) FROM deferred_events") == 0
    assert await pool.fetchval("SELECT count(*) FROM worker_events") == 2
