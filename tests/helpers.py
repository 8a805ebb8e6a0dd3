"""Helpers shared by service tests: valid synthetic people, waiting for receipts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from laowu.domain.identity import id_number_for
from laowu.people import COUNTIES as COUNTIES  # re-exported: tests import them from here
from laowu.people import person as person  # the one generator of valid people, shared with the demo, simulator, benches
from laowu.store import receipts

id_number = id_number_for  # the one generator of valid numbers (laowu.domain.identity)


async def wait_decided(pool: asyncpg.Pool, event_ids: list[str], timeout: float = 60) -> dict[str, dict[str, Any]]:
    """Until every event is applied or rejected (``laowu.store.receipts.OUTCOMES``); returns them by event id."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [{"id": i} | o for i, o in (await receipts.outcomes(pool, event_ids)).items() if o["status"] != "accepted"]
        if len(rows) == len(set(event_ids)):
            return {r["id"]: r for r in rows}
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(rows)} of {len(set(event_ids))} events decided after {timeout}s")
        await asyncio.sleep(0.1)


async def decided_count(pool: asyncpg.Pool | asyncpg.Connection) -> int:
    """How many events the ledger decided (applied or rejected), however their outcome is kept."""
    return int(await pool.fetchval(f"SELECT count(*) FROM ({receipts.OUTCOMES}) o WHERE status <> 'accepted'"))


async def outcome_count(pool: asyncpg.Pool | asyncpg.Connection) -> int:
    """How many events have an outcome or a receipt: one each, never two."""
    return int(await pool.fetchval(f"SELECT count(*) FROM ({receipts.OUTCOMES}) o"))


async def every_page(fetch: Callable[[str | None], Awaitable[list[dict[str, Any]]]], key: str, limit: int,
                     most: int = 100) -> list[str]:
    """The ``key`` of every row of a keyset-paginated list, in order: ``fetch(after)`` gives the page after a key."""
    seen: list[str] = []
    after = None
    for _ in range(most):
        rows = await fetch(after)
        seen += [r[key] for r in rows]
        if len(rows) < limit:
            return seen
        after = rows[-1][key]
    raise AssertionError("paging did not end")


async def wait_receipt(client: httpx.AsyncClient, event_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = await client.get(f"/v1/events/{event_id}")
        if r.status_code == 200 and r.json()["status"] != "accepted":
            return dict(r.json())
        assert time.monotonic() < deadline, f"receipt {event_id} still {r.status_code} {r.text}"
        await asyncio.sleep(0.1)


def bearer(role: str, org: str, region: str | None = None, settings: Any = None) -> dict[str, str]:
    """Authorization header for a credential of ``role`` in ``org`` covering ``region``."""
    from laowu.auth import issue
    from laowu.settings import Settings

    return {"Authorization": "Bearer " + issue(settings or Settings(env="test"), role=role, org=org, region=region)}


ADMIN = {"role": "admin", "org": "laowu-ops"}


async def produce(settings: Any, envelopes: list[Any]) -> None:
    """Publish envelopes straight to their topics, as a producer that bypasses the API would."""
    from aiokafka import AIOKafkaProducer

    from schemas.topics import topic_for

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(settings.topic(topic_for(e.type).name), e.to_bytes(), key=e.key.encode())
                   for e in envelopes]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def create_database(infra: Any, template: str | None = None) -> str:
    """A new database in the test server (a copy of ``template`` when given); returns its URL."""
    import uuid

    name = f"t_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(infra.postgres.url("postgres"))
    try:
        await admin.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    finally:
        await admin.close()
    return str(infra.postgres.url(name))


async def database_before(infra: Any, version: str) -> str:
    """A new database with every migration older than ``version`` applied, as a release before it left it."""
    from laowu.store.migrate import migration_files

    dsn = await create_database(infra)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, applied_at timestamptz DEFAULT now())")
        for applied, sql in migration_files():
            if applied >= version:
                break
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", applied)
    finally:
        await conn.close()
    return dsn
