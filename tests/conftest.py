"""Test harness: the real Kafka broker and PostgreSQL server, started once per session by ``laowu.stack``.

Every test that needs them gets its own topic prefix and its own database (cloned from a migrated
template), so tests never see each other's data and a second clone's ``make run`` is never touched:
ports are free ones picked at start and data lives in a private temporary directory (:func:`stack_home`).
Child processes start, get their environment and stop through ``laowu.stack.processes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn

from laowu.settings import Settings
from laowu.stack.launcher import InfraHandle, provision, start_infra
from laowu.stack.ports import free_port
from laowu.stack.processes import child_env, laowu_argv, spawn
from laowu.store.migrate import migrate

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_DB = "laowu_template"

#: The session's Kafka and PostgreSQL: ``laowu.stack.start_infra``'s handle. Fault tests use
#: ``infra.kill(name, hard=...)`` / ``await infra.start(name)`` / ``infra.running(name)``.
Infra = InfraHandle


@contextlib.contextmanager
def stack_home(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """A private home for a broker and a database of the tests, removed at the end, its logs kept in pytest's
    temporary directory (``<name>-logs``).

    Not under ``/tmp/pytest-of-<user>`` itself: every pytest run that starts resets that directory to 0700, which
    locks the database's own system user (``embedded_postgres``, when the tests run as root) out of its data
    while it runs — a concurrent run elsewhere on the machine made PostgreSQL PANIC at its next checkpoint.
    """
    home = Path(tempfile.mkdtemp(prefix=f"laowu-{name}-"))
    try:
        yield home
    finally:
        with contextlib.suppress(OSError):
            shutil.copytree(home / "logs", tmp_path_factory.mktemp(f"{name}-logs"), dirs_exist_ok=True)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfraHandle]:
    """The nodes ``laowu up`` runs, on free ports with private data (:func:`stack_home`), bound to this process
    (PR_SET_PDEATHSIG): a killed pytest leaves no broker or database behind."""
    with stack_home(tmp_path_factory, "stack") as home:
        yield from _session_infra(home)


def _session_infra(home: Path) -> Iterator[InfraHandle]:
    # Explicit, not from the shell: the session's world is its own, PLAINTEXT on free ports.
    settings = Settings(env="test", home=home, database_url=None, kafka_bootstrap=None, kafka_port=0, pg_port=0,
                        kafka_security_protocol="PLAINTEXT", kafka_sasl_username=None, kafka_sasl_password=None)

    async def up() -> InfraHandle:
        handle = await start_infra(home, settings, migrate=False, die_with_parent=True)
        try:
            assert handle.postgres is not None
            conn = await asyncpg.connect(handle.postgres.url("postgres"))
            await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
            await conn.close()
            await migrate(handle.postgres.url(TEMPLATE_DB))
        except BaseException:
            await handle.astop()
            raise
        return handle

    handle = asyncio.run(up())
    try:
        yield handle
    finally:
        handle.stop()


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
    await provision(settings, infra.bootstrap, None, migrate=False, topics=True)
    return settings


async def new_database(infra: Infra) -> str:
    """Another empty, migrated database in the same server (e.g. for a reference run)."""
    from helpers import create_database

    return await create_database(infra, TEMPLATE_DB)


def spawn_ours(args: list[str], settings: Settings, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """``laowu ARGS`` (``api``, ``consume ledger``, ``streams worker``) as a process pointed at this test's world,
    bound to pytest's life; stop it with ``laowu.stack.processes.stop_process``."""
    return spawn(laowu_argv(*args), log, env=child_env(settings, extra), cwd=REPO, die_with_parent=True)


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
    """The ledger consumer and its outbox relay in this process (``consumers.runner.running``, as ``laowu consume
    ledger`` runs them), stopped when the block ends. No background sweeper: it would raise alerts and subsidies
    for the months-old field times of the tests' workloads; tests sweep with ``sweep_once`` and a chosen day."""
    from consumers.runner import running

    async with running("ledger", settings, group, sweep=False) as (consumer, _):
        yield consumer


@pytest.fixture
async def ledger(settings: Settings) -> AsyncIterator[Any]:
    async with running_ledger(settings) as consumer:
        yield consumer
