"""The ledger's promises under faults: nothing lost, nothing applied twice, bad messages parked."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from laowu.intake import Intake
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.stack.processes import stop_process
from schemas.api import BrandCreate, WorkerCreate, WorkerPatch
from schemas.envelope import Envelope

from conftest import Infra, new_database, running_ledger, spawn_ours
from helpers import decided_count, person, produce, wait_decided

pytestmark = pytest.mark.services

SNAPSHOT = """
    SELECT worker_id, id_number_masked, name, sex, birth_date, phone_masked, household_region, occupation_code,
           brand_ids, priority_groups, certificates, workstation_ids, state, field_times, registered_at, version,
           (SELECT count(*) FROM worker_events e WHERE e.worker_id = w.worker_id) AS history
      FROM workers w ORDER BY worker_id
"""


def workload(settings: Settings, people: int, seed_time: datetime) -> list[Envelope]:
    """Registrations (10% of people twice, from another workstation) and out-of-order profile updates."""
    intake = Intake(Privacy(settings))
    out = [intake.register_brand(BrandCreate(brand_id="yesao", name="椰嫂", region_code="460000",
                                             category="service", level="provincial"))]
    for n in range(people):
        body = person(n) | {"brand_ids": ["yesao"], "occurred_at": seed_time + timedelta(minutes=n)}
        env = intake.register_worker(WorkerCreate.model_validate(body))
        out.append(env)
        if n % 10 == 0:
            again = body | {"workstation_id": "ws-469005-02", "name": f"又{n}", "occurred_at": seed_time - timedelta(days=1)}
            out.append(intake.register_worker(WorkerCreate.model_validate(again)))
        if n % 7 == 0:
            wid = env.key
            out.append(intake.update_worker(wid, WorkerPatch(name=f"新{n}", occurred_at=seed_time + timedelta(days=2))))
            out.append(intake.update_worker(wid, WorkerPatch(name=f"旧{n}", occurred_at=seed_time + timedelta(days=1))))
    return out


async def snapshot(dsn: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [dict(r) for r in await conn.fetch(SNAPSHOT)]
    finally:
        await conn.close()


async def test_kill_9_mid_batch_yields_the_same_ledger(infra: Infra, settings: Settings, pool: asyncpg.Pool,
                                                        tmp_path: Path) -> None:
    envelopes = workload(settings, 2500, datetime(2026, 5, 1, tzinfo=UTC))
    await produce(settings, envelopes)
    ids = [str(e.event_id) for e in envelopes]

    log = tmp_path / "ledger.log"
    proc = spawn_ours(["consume", "ledger"], settings, log, LAOWU_CONSUMER_BATCH_MAX="97")
    kills = 0
    try:
        for threshold in (400, 1500):  # two crashes, each in the middle of the stream
            while await decided_count(pool) < threshold:
                assert proc.poll() is None, log.read_text()[-3000:]
                await asyncio.sleep(0.02)
            stop_process(proc, signal.SIGKILL)
            kills += 1
            proc = spawn_ours(["consume", "ledger"], settings, log, LAOWU_CONSUMER_BATCH_MAX="97")
        decided = await wait_decided(pool, ids, timeout=120)
    finally:
        stop_process(proc)
    assert kills == 2
    assert {d["status"] for d in decided.values()} == {"applied"}
    assert await pool.fetchval("SELECT count(*) FROM worker_events") == len(envelopes) - 1  # one is the brand

    # The same events, uninterrupted, into a fresh database.
    reference = Settings(**{**settings.model_dump(), "database_url": await new_database(infra)})
    async with running_ledger(reference, group="reference"):
        ref_pool = await asyncpg.connect(reference.database_url)
        try:
            while await decided_count(ref_pool) < len(ids):
                await asyncio.sleep(0.1)
        finally:
            await ref_pool.close()
    assert settings.database_url and reference.database_url
    crashed, clean = await snapshot(settings.database_url), await snapshot(reference.database_url)
    assert len(crashed) == 2500
    assert crashed == clean
    renamed = {r["worker_id"]: r["name"] for r in crashed}
    assert sum(1 for name in renamed.values() if name.startswith("新")) == len(range(0, 2500, 7))


async def test_poison_messages_go_to_dead_letter_and_the_stream_moves_on(settings: Settings, pool: asyncpg.Pool) -> None:
    intake = Intake(Privacy(settings))
    good = intake.register_worker(WorkerCreate.model_validate(person(11)))
    forged = good.model_copy(update={"event_id": uuid.uuid4()})
    forged.payload = forged.payload | {"worker_id": "w" + "1" * 24}
    forged.key = "w" + "1" * 24
    unknown_type = json.loads(good.to_bytes()) | {"type": "worker.teleported", "event_id": str(uuid.uuid4())}
    bad_version = json.loads(good.to_bytes()) | {"schema_version": 9, "event_id": str(uuid.uuid4())}
    topic = settings.topic("laowu.workers.v1")
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, max_request_size=2 << 20)
    await producer.start()
    try:
        # Everything on one partition, poison first, so the good event can only be applied after them.
        for value in (b"\xff\xfe not json", json.dumps({"hello": "world"}).encode(), forged.to_bytes(),
                      json.dumps(unknown_type).encode(), json.dumps(bad_version).encode(), b"x" * 1_500_000,
                      good.to_bytes()):
            key = forged.key if value == forged.to_bytes() else good.key
            await producer.send_and_wait(topic, value, key=key.encode(), partition=0)
    finally:
        await producer.stop()
    async with running_ledger(settings):
        decided = await wait_decided(pool, [str(good.event_id), str(forged.event_id)])
    assert decided[str(good.event_id)]["status"] == "applied"
    assert "keyed hash" in decided[str(forged.event_id)]["reason"]
    assert await pool.fetchval("SELECT count(*) FROM workers") == 1

    dlq = AIOKafkaConsumer(settings.topic("laowu.dead-letter.v1"), bootstrap_servers=settings.kafka_bootstrap,
                           auto_offset_reset="earliest", fetch_max_bytes=20 << 20, max_partition_fetch_bytes=20 << 20)
    await dlq.start()
    try:
        parked: list[Any] = []
        for _ in range(20):
            parked += [m for batch in (await dlq.getmany(timeout_ms=500)).values() for m in batch]
            if len(parked) >= 6:
                break
    finally:
        await dlq.stop()
    reasons = [dict(m.headers)["reason"].decode() for m in parked]
    assert len(parked) == 6, reasons
    assert parked[0].value == b"\xff\xfe not json"  # original bytes, untouched
    assert all(dict(m.headers)["origin.topic"].decode() == topic for m in parked)
    assert any("worker.teleported" in r for r in reasons) and any("schema_version" in r for r in reasons)


async def test_no_plaintext_id_number_or_phone_at_rest(api: Any, settings: Settings, pool: asyncpg.Pool, ledger: Any) -> None:
    people = [person(n) for n in range(20, 40)]
    r = await api.post("/v1/events:batch", json={"events": [{"type": "worker.registered", "payload": p} for p in people]})
    await wait_decided(pool, [x["event_id"] for x in r.json()["results"]])
    secrets = [p["id_number"] for p in people] + [p["phone"] for p in people]
    tables = [r["tablename"] for r in await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    assert "workers" in tables and "worker_events" in tables
    for table in tables:
        dump = "\n".join(r["t"] for r in await pool.fetch(f"SELECT row_to_json(x)::text AS t FROM {table} x"))
        leaked = [s for s in secrets if s in dump]
        assert not leaked, f"{table} holds plaintext {leaked[:2]}"

    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        topics = sorted(t for t in await consumer.topics() if t.startswith(settings.topic_prefix))
        consumer.subscribe(topics)
        seen: list[Any] = []
        for _ in range(20):
            seen += [m for batch in (await consumer.getmany(timeout_ms=500)).values() for m in batch]
            if len(seen) >= len(people):
                break
    finally:
        await consumer.stop()
    assert len(seen) >= len(people)
    for m in seen:
        blob = (m.key or b"") + (m.value or b"") + b"".join(v for _, v in m.headers)
        assert not [s for s in secrets if s.encode() in blob]


async def test_a_deferral_nobody_woke_is_applied(settings: Settings, pool: asyncpg.Pool) -> None:
    """Two consumers in one group: B registers a worker and looks for waiters just before A commits an update
    deferred for that worker. Nobody wakes it; the consumer's periodic repair must, traffic or not."""
    intake = Intake(Privacy(settings))
    reg = intake.register_worker(WorkerCreate.model_validate(person(4242, region="460105")))
    update = intake.update_worker(reg.key, WorkerPatch(name="林晓梅", occurred_at=datetime.now(UTC)))
    async with running_ledger(settings):
        await produce(settings, [reg])
        await wait_decided(pool, [str(reg.event_id)])
        # The state the race leaves behind: the registration applied, the update parked as if it were early.
        await pool.execute(
            "INSERT INTO deferred_events (event_id, waits_for, envelope, deferred_at) "
            "VALUES ($1, $2, $3, now() - interval '10 seconds')",
            update.event_id, f"worker:{reg.key}", json.loads(update.to_bytes()))
        decided = await wait_decided(pool, [str(update.event_id)], timeout=30)
    assert decided[str(update.event_id)]["status"] == "applied"
    assert await pool.fetchval("SELECT name FROM workers WHERE worker_id = $1", reg.key) == "林晓梅"
    assert await pool.fetchval("SELECT count(*) FROM deferred_events") == 0
    assert await pool.fetchval("SELECT count(*) FROM worker_events WHERE event_id = $1", update.event_id) == 1
