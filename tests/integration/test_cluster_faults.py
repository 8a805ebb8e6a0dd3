"""Faults on a real three-node Kafka cluster (issue 22): the API and the ledger ride out a broker killed with
``kill -9``, and refuse writes cleanly while two of three are gone — every event applied exactly once.

The module starts its own cluster once (``start_infra`` with ``kafka_brokers=3``: three combined controller+broker
KRaft nodes, a static quorum, every topic with 3 replicas and ``min.insync.replicas=2``) beside the session's
PostgreSQL; the API (``serving``) and the ledger (``running_ledger``) run in this process, pointed at it. Clients
send ``POST /v1/events:batch`` with an ``Idempotency-Key`` and, like a workstation terminal, retry a 503 or a broken
connection with the same key.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from test_faults import _exact

from laowu import kafka_security
from laowu.kafka_security import PLAINTEXT
from laowu.settings import Settings
from laowu.stack.launcher import InfraHandle, provision, start_infra
from schemas.topics import CATALOGUE, WORKERS

from conftest import METRICS_TOKEN, Infra, new_database, running_ledger, serving, spawn_ours, stack_home
from helpers import bearer, person
from workload import converge, stop

pytestmark = [pytest.mark.services, pytest.mark.timeout(420)]

NODES = 3
BATCH = 40  # from 32 events on, the publisher builds its own record batches (api.publisher.OWN_BATCHES_FROM)
#: The publisher gives up on a broker after 15 s (``request_timeout_ms``); a refusal must come within that plus
#: the request's own work, never as a hang.
REFUSAL_WITHIN_S = 30.0


@pytest.fixture(scope="module")
def cluster(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfraHandle]:
    """Three Kafka nodes as one quorum, bound to this process; the session's PostgreSQL serves the databases."""
    with stack_home(tmp_path_factory, "cluster") as home:
        settings = Settings(env="test", home=home, database_url=infra.dsn, kafka_bootstrap=None, kafka_port=0,
                            kafka_brokers=NODES, kafka_heap="320m", kafka_security_protocol="PLAINTEXT",
                            kafka_sasl_username=None, kafka_sasl_password=None)
        handle = asyncio.run(start_infra(home, settings, migrate=False, die_with_parent=True))
        try:
            assert sorted(handle.kafka_nodes) == [f"kafka-{n}" for n in range(1, NODES + 1)]
            yield handle
        finally:
            for name in handle.processes:  # its data is thrown away: no controlled shutdown to wait for
                handle.kill(name)


@pytest.fixture
async def world(infra: Infra, cluster: InfraHandle) -> Settings:
    """This test's database and topic prefix, on the cluster; its topics created as deployed (3 replicas)."""
    settings = Settings(env="test", database_url=await new_database(infra), kafka_bootstrap=cluster.bootstrap,
                        topic_prefix=f"t{uuid.uuid4().hex[:10]}.", consumer_poll_ms=50, metrics_token=METRICS_TOKEN,
                        kafka_brokers=NODES)
    await provision(settings, cluster.bootstrap, None, migrate=False, topics=True)
    return settings


@contextlib.asynccontextmanager
async def _admin(settings: Settings) -> AsyncIterator[Any]:
    admin = kafka_security.admin(PLAINTEXT, bootstrap=settings.kafka_bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def _partitions(settings: Settings, names: list[str]) -> list[dict[str, Any]]:
    async with _admin(settings) as admin:
        described = await admin.describe_topics(names)
    return [{**p, "topic": t["topic"]} for t in described for p in t["partitions"]]


async def _leader_of_most(settings: Settings) -> int:
    """The node leading most partitions of the workers topic (where registrations go)."""
    parts = await _partitions(settings, [settings.topic(WORKERS.name)])
    leaders = [p["leader"] for p in parts]
    return max(set(leaders), key=leaders.count)


async def _all_in_sync(settings: Settings, timeout: float = 90) -> None:
    """Until every partition of the test's topics has all three replicas in sync: a node that came back has caught
    up with what was written while it was gone."""
    names = [settings.topic(t.name) for t in CATALOGUE]
    deadline = time.monotonic() + timeout
    lagging: list[Any] = ["not described yet"]
    while True:
        with contextlib.suppress(Exception):  # a node still joining may not answer yet
            parts = await _partitions(settings, names)
            lagging = [(p["topic"], p["partition"], p["isr"]) for p in parts if len(p["isr"]) < NODES]
            if parts and not lagging:
                assert all(len(p["replicas"]) == NODES for p in parts)
                return
        assert time.monotonic() < deadline, f"replicas not back in sync after {timeout:.0f}s: {lagging[:4]}"
        await asyncio.sleep(0.5)


def _batch(first: int) -> dict[str, Any]:
    return {"events": [{"type": "worker.registered", "payload": person(first + n)} for n in range(BATCH)]}


async def _send(client: httpx.AsyncClient, body: dict[str, Any], key: str, refusals: list[float],
                attempts: int = 200) -> list[str]:
    """What a workstation terminal does: retry with the same Idempotency-Key until the batch is answered; returns
    the event ids, every item accepted. A 503 must say the event log is unavailable and when to retry."""
    for _ in range(attempts):
        started = time.monotonic()
        try:
            r = await client.post("/v1/events:batch", json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            await asyncio.sleep(0.2)
            continue
        if r.status_code == 200:
            results = r.json()["results"]
            assert [x["status"] for x in results] == ["accepted"] * len(body["events"]), results
            return [x["event_id"] for x in results]
        assert r.status_code == 503, (r.status_code, r.text)  # never a 500
        assert "event log unavailable" in r.json()["detail"] and r.headers["Retry-After"], r.text
        refusals.append(time.monotonic() - started)
        await asyncio.sleep(0.2)
    raise AssertionError(f"{key} never accepted")


@contextlib.asynccontextmanager
async def _statistics(settings: Settings, tmp_path: Path) -> AsyncIterator[None]:
    """The faust statistics worker (a process of its own, its topics replicated as the cluster's) through the fault;
    at the end its figures must be a consistent cut of the ledger with no drift and nothing left unread."""
    log = tmp_path / "streams.log"
    worker = spawn_ours(["streams", "worker"], settings, log, LAOWU_HOME=str(tmp_path))
    try:
        # Running before the fault: a worker that cannot reach the cluster at start exits (`laowu up` restarts it).
        deadline = time.monotonic() + 90
        while "[^Worker]: Ready" not in log.read_text(errors="replace"):
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the streams worker did not start"
            await asyncio.sleep(0.2)
        yield
        report = await converge(settings, timeout=120, worker=worker)
        assert report.consistent_cut and not report.drift and report.kafka_lag == 0, (
            report.as_dict(), log.read_text()[-3000:])
    finally:
        stop(worker)


async def _registered(client: httpx.AsyncClient, sent: int, timeout: float = 120) -> int:
    """The overview's ``registered`` once the statistics caught up with ``sent`` (never more: nothing counted twice)."""
    deadline = time.monotonic() + timeout
    while True:
        r = await client.get("/v1/stats/overview")
        assert r.status_code == 200, r.text
        figure = int(r.json()["registered"])
        assert figure <= sent, f"{figure} registered of {sent} sent"
        if figure == sent or time.monotonic() > deadline:
            return figure
        await asyncio.sleep(0.5)


async def _settle(cluster: InfraHandle) -> None:
    """Every node running again (after a failed test too), so the next test starts on a whole cluster."""
    await asyncio.gather(*(cluster.start(n) for n in cluster.kafka_nodes if not cluster.running(n)))


async def test_kill_9_of_the_leading_broker_mid_stream(cluster: InfraHandle, world: Settings, tmp_path: Path) -> None:
    settings = world
    batches = 16
    refusals: list[float] = []
    assert settings.database_url
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        async with running_ledger(settings), _statistics(settings, tmp_path), serving(settings) as url, \
                httpx.AsyncClient(base_url=url, timeout=60, headers=bearer("admin", "ops", settings=settings)) as client:
            victim = f"kafka-{await _leader_of_most(settings)}"
            accepted: dict[int, list[str]] = {}
            while_down: list[int] = []
            down = asyncio.Event()

            async def terminal(lane: int) -> None:
                for i in range(lane, batches, 2):
                    ids = await _send(client, _batch(10_000 + i * BATCH), f"cluster-1-{i}", refusals)
                    accepted[i] = ids
                    if down.is_set():
                        while_down.append(i)

            async def fault() -> None:
                while len(accepted) < 4:  # mid-stream: batches went through, more are in flight
                    await asyncio.sleep(0.05)
                await asyncio.to_thread(cluster.kill, victim)  # kill -9
                down.set()
                while len(while_down) < 4 and len(accepted) < batches:  # the API keeps accepting, the leader gone
                    await asyncio.sleep(0.05)
                down.clear()
                await cluster.start(victim)

            await asyncio.gather(terminal(0), terminal(1), fault())
            assert len(while_down) >= 4 and cluster.running(victim)
            ids = [e for i in range(batches) for e in accepted[i]]
            await _exact(pool, ids, batches * BATCH)
            await _all_in_sync(settings)  # the killed node caught up with what it missed
            assert await _registered(client, batches * BATCH) == batches * BATCH  # and the statistics
        # Nothing counted twice: the ledger's rows and receipts are exactly what was sent (checked in _exact).
        assert await pool.fetchval("SELECT count(DISTINCT worker_id) FROM workers") == batches * BATCH
    finally:
        await pool.close()
        await _settle(cluster)
    print(f"\nleader {victim} killed: {len(refusals)} answer(s) 503 (slowest {max(refusals, default=0):.1f}s)")


async def test_two_of_three_down_writes_refused_then_nothing_lost_or_doubled(
        cluster: InfraHandle, world: Settings, tmp_path: Path) -> None:
    settings = world
    refusals: list[float] = []
    assert settings.database_url
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        async with running_ledger(settings), _statistics(settings, tmp_path), serving(settings) as url, \
                httpx.AsyncClient(base_url=url, timeout=60, headers=bearer("admin", "ops", settings=settings)) as client:
            before = [await _send(client, _batch(20_000 + i * BATCH), f"cluster-2-{i}", refusals) for i in range(3)]
            leader = await _leader_of_most(settings)
            gone = [f"kafka-{leader}", f"kafka-{leader % NODES + 1}"]  # the leader and one more: no majority left
            for name in gone:
                await asyncio.to_thread(cluster.kill, name)
            # Writes are refused — a 503 saying so, within the publisher's bound, not a hang and not a 500: a large
            # batch (the publisher's own record batches) and, at the same time, a small one (send() per event).
            async def refused(body: dict[str, Any], key: str) -> None:
                started = time.monotonic()
                r = await client.post("/v1/events:batch", json=body, headers={"Idempotency-Key": key})
                took = time.monotonic() - started
                assert r.status_code == 503, (r.status_code, r.text)
                assert "event log unavailable" in r.json()["detail"] and r.headers["Retry-After"] == "2"
                assert took < REFUSAL_WITHIN_S, f"refused only after {took:.1f}s"

            small = {"events": _batch(20_000 + 4 * BATCH)["events"][:5]}
            await asyncio.gather(refused(_batch(20_000 + 3 * BATCH), "cluster-2-3"), refused(small, "cluster-2-4"))
            # A refused batch is not remembered under its key: nothing was accepted.
            assert await pool.fetchval("SELECT count(*) FROM event_receipts") == 3 * BATCH
            assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 3
            await asyncio.gather(*(cluster.start(name) for name in gone))
            # The terminals retry the refused batches with their keys, and go on.
            after = [await _send(client, body, f"cluster-2-{i}", refusals)
                     for i, body in ((3, _batch(20_000 + 3 * BATCH)), (4, small), (5, _batch(20_000 + 5 * BATCH)))]
            # Retrying an answered batch returns the first answer and publishes nothing.
            again = await _send(client, _batch(20_000), "cluster-2-0", refusals)
            assert again == before[0]
            ids = [e for ids in (*before, *after) for e in ids]
            sent = 5 * BATCH + len(small["events"])
            await _exact(pool, ids, sent)
            await _all_in_sync(settings)
            assert await _registered(client, sent) == sent
        # The refused attempts may have reached the log after all (the producer keeps what it holds, a leader
        # appends before its followers acknowledge): they carry the event ids their key's retry derives again,
        # so each event is applied once.
        assert await pool.fetchval("SELECT count(*) FROM worker_events") == sent
    finally:
        await pool.close()
        await _settle(cluster)
    print(f"\ntwo nodes down: {len(refusals)} retried 503(s), slowest {max(refusals, default=0):.1f}s")
