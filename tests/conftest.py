"""Test harness: the real Kafka broker and PostgreSQL server, started once per session.

Every test that needs them gets its own topic prefix and its own database (cloned from a migrated
template), so tests never see each other's data and a second clone's ``make run`` is never touched:
ports are free ones picked at start and data lives in pytest's temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from laowu.settings import Settings
from laowu.stack.kafka import KafkaNode, TopicSpec, create_topics, ensure_kafka_jars
from laowu.stack.ports import free_port
from laowu.stack.postgres import PostgresNode
from laowu.store.migrate import migrate
from schemas.topics import CATALOGUE

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_DB = "laowu_template"


@dataclass
class Infra:
    kafka: KafkaNode
    postgres: PostgresNode
    kafka_proc: subprocess.Popen[bytes]
    postgres_proc: subprocess.Popen[bytes]
    home: Path

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    def kill(self, name: str, hard: bool = True) -> None:
        """For fault tests: ``kill -9`` the broker or the database server, or restart-stop it (hard=False).

        PostgreSQL's restart-stop is SIGINT ("fast" shutdown: sessions are cut mid-transaction); SIGTERM would
        wait politely for every client to leave.
        """
        proc = self.kafka_proc if name == "kafka" else self.postgres_proc
        if name == "postgres" and not hard:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)
        else:
            _stop(proc, kill=hard)

    async def start(self, name: str) -> None:
        """Start it again on the same ports and data, and wait until it answers."""
        if name == "kafka":
            self.kafka_proc = _spawn(self.kafka.command(), self.home / "kafka.log")
            await self.kafka.wait_ready(90, pid=self.kafka_proc.pid)
        else:
            await asyncio.to_thread(self.postgres.clear_stale_pidfile)
            self.postgres_proc = _spawn(self.postgres.command(), self.home / "postgres.log", **self.postgres.popen_kwargs())
            await self.postgres.wait_ready(60, pid=self.postgres_proc.pid)


def _die_with_parent() -> None:
    """If pytest itself is killed (a CI timeout), its broker and database must not outlive it."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _spawn(argv: list[str], log: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,  # type: ignore[call-overload]
                                preexec_fn=_die_with_parent, **kwargs)


def _stop(proc: subprocess.Popen[bytes], kill: bool = False) -> None:
    if proc.poll() is None:
        proc.kill() if kill else proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    home = tmp_path_factory.mktemp("stack")
    settings = Settings()
    lib = ensure_kafka_jars(settings.kafka_cache, REPO / "deploy" / "local" / "pom.xml")
    kafka = KafkaNode(home / "kafka", free_port(), free_port(), lib, heap="768m")
    kafka.write_config()
    kafka.format_storage()
    postgres = PostgresNode(home / "postgres", free_port())
    postgres.init()
    kafka_proc = _spawn(kafka.command(), home / "kafka.log")
    postgres_proc = _spawn(postgres.command(), home / "postgres.log", **postgres.popen_kwargs())
    infra = Infra(kafka, postgres, kafka_proc, postgres_proc, home)
    try:

        async def ready() -> None:
            await asyncio.gather(kafka.wait_ready(90, pid=kafka_proc.pid), postgres.wait_ready(60, pid=postgres_proc.pid))
            conn = await asyncpg.connect(postgres.url("postgres"))
            await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
            await conn.close()
            await migrate(postgres.url(TEMPLATE_DB))

        asyncio.run(ready())
        yield infra
    finally:
        _stop(infra.kafka_proc)
        _stop(infra.postgres_proc)


METRICS_TOKEN = "test-scrape-token-0123456789abcdef"


@pytest.fixture
async def settings(infra: Infra) -> Settings:
    """A private world for one test: its own database (from the migrated template) and topic prefix."""
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        env="test",
        database_url=await new_database(infra),
        kafka_bootstrap=infra.bootstrap,
        topic_prefix=f"t{tag}.",
        consumer_poll_ms=50,
        metrics_token=METRICS_TOKEN,
    )
    await create_topics(infra.bootstrap, [TopicSpec(settings.topic(t.name), t.partitions, t.kafka_config()) for t in CATALOGUE])
    return settings


async def new_database(infra: Infra) -> str:
    """Another empty, migrated database in the same server (e.g. for a reference run)."""
    from helpers import create_database

    return await create_database(infra, TEMPLATE_DB)


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """Environment for a subprocess of ours pointed at this test's world."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAOWU_")}
    env.update(
        DATABASE_URL=settings.database_url or "",
        KAFKA_BOOTSTRAP=settings.kafka_bootstrap or "",
        LAOWU_TOPIC_PREFIX=settings.topic_prefix,
        LAOWU_ENV="test",
        LAOWU_CONSUMER_POLL_MS=str(settings.consumer_poll_ms),
        **extra,
    )
    return env


def spawn_ours(args: list[str], settings: Settings, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen([sys.executable, "-m", "laowu.cli", *args], cwd=REPO, env=child_env(settings, **extra),
                                stdout=fh, stderr=subprocess.STDOUT)


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    from laowu.store.pool import create_pool

    assert settings.database_url
    p = await create_pool(settings.database_url, min_size=1, max_size=4)
    yield p
    await p.close()


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """The real API on a free port in this event loop; yields its base URL."""
    from api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on",
                                           proxy_headers=False))  # as api.server: api.proxies decides
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done():
            task.result()
        assert time.monotonic() < deadline, "API did not start"
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The real API driven over HTTP; admin credential by default, role tests pass their own header."""
    from helpers import bearer

    async with serving(settings) as url, httpx.AsyncClient(
        base_url=url, timeout=30, headers=bearer("admin", "laowu-ops", settings=settings)
    ) as client:
        yield client


@contextlib.asynccontextmanager
async def running_ledger(settings: Settings, group: str | None = None) -> AsyncIterator[Any]:
    """The ledger consumer in this process, stopped when the block ends."""
    from consumers.relay import run_relay
    from consumers.runner import build

    consumer, producer = await build("ledger", settings, group)
    await consumer.start()
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run())
    relay = asyncio.create_task(run_relay(consumer.pool, producer, stop))
    try:
        yield consumer
    finally:
        stop.set()
        await consumer.stop()
        task.cancel()
        await asyncio.gather(task, relay, return_exceptions=True)
        await producer.stop()
        await consumer.pool.close()


@pytest.fixture
async def ledger(settings: Settings) -> AsyncIterator[Any]:
    async with running_ledger(settings) as consumer:
        yield consumer
