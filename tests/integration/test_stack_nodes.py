"""Kafka and PostgreSQL nodes: prepare, start, survive kill -9, restart.

Real processes, no mocks.  The Kafka jars are fetched once into the shared
cache (~/.cache/laowu/kafka, override with LAOWU_KAFKA_CACHE); later runs
download nothing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from laowu.stack.kafka import (
    KafkaNode,
    TopicSpec,
    create_topics,
    ensure_kafka_jars,
    is_kafka_process,
)
from laowu.stack.ports import free_port, port_open
from laowu.stack.postgres import SYSTEM_USER, PostgresNode
from laowu.stack.processes import spawn, stop_process

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[2]
POM = REPO / "deploy" / "local" / "pom.xml"
KAFKA_CACHE = Path(
    os.environ.get("LAOWU_KAFKA_CACHE", "~/.cache/laowu/kafka")
).expanduser()


def _cmdline(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return [a.decode() for a in raw.split(b"\0") if a]


class _Procs:
    """Every process a test starts, stopped in ``finally`` no matter what."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], log: Path, **kw: Any) -> subprocess.Popen[bytes]:
        proc = spawn(argv, log, die_with_parent=True, **kw)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            stop_process(proc, timeout=20)


@pytest.fixture
def procs() -> Iterator[_Procs]:
    p = _Procs()
    try:
        yield p
    finally:
        p.stop_all()


def _kill9(proc: subprocess.Popen[bytes]) -> None:
    stop_process(proc, signal.SIGKILL, timeout=10)


# --------------------------------------------------------------------------
# Kafka
# --------------------------------------------------------------------------


async def _consume_all(
    bootstrap: str, topic: str, expected: int, timeout: float = 20
) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    got: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while len(got) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                got.extend(records)
    finally:
        await consumer.stop()
    return got


async def _partitions(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = await admin.describe_topics()
    finally:
        await admin.close()
    return {
        t["topic"]: len(t["partitions"])
        for t in topics
        if not t["topic"].startswith("__")
    }


@pytest.mark.skipif(shutil.which("java") is None, reason="needs java")
async def test_kafka_node_survives_kill9(tmp_path: Path, procs: _Procs) -> None:
    if (
        not (KAFKA_CACHE / "kafka-4.1.2" / ".complete").exists()
        and shutil.which("mvn") is None
    ):
        pytest.skip("Kafka jars not cached and no mvn to fetch them")

    t0 = time.monotonic()
    lib = ensure_kafka_jars(KAFKA_CACHE, POM)
    t_jars = time.monotonic() - t0
    assert (lib / "kafka_2.13-4.1.2.jar").is_file()
    assert (lib.parent / ".complete").is_file()
    # Second call: marker present, nothing to do.
    t1 = time.monotonic()
    assert ensure_kafka_jars(KAFKA_CACHE, POM) == lib
    assert time.monotonic() - t1 < 0.5

    node = KafkaNode(
        data_dir=tmp_path / "kafka",
        port=free_port(),
        controller_port=free_port(),
        lib_dir=lib,
        heap="384m",
    )
    assert node.bootstrap == f"127.0.0.1:{node.port}"
    cfg = node.write_config()
    text = cfg.read_text()
    assert "process.roles=broker,controller" in text
    assert (
        f"controller.quorum.bootstrap.servers=127.0.0.1:{node.controller_port}" in text
    )
    assert "auto.create.topics.enable=false" in text

    t2 = time.monotonic()
    node.format_storage()
    t_format = time.monotonic() - t2
    meta = node.log_dirs / "meta.properties"
    assert meta.is_file()
    cluster_id = node.cluster_id()
    assert len(cluster_id) == 22 and f"cluster.id={cluster_id}" in meta.read_text()
    before = meta.stat().st_mtime_ns
    node.format_storage()  # once only
    assert meta.stat().st_mtime_ns == before

    out_log = tmp_path / "kafka.out"
    t3 = time.monotonic()
    proc = procs.start(node.command(), out_log)
    await node.wait_ready(timeout=60, pid=proc.pid)
    t_ready = time.monotonic() - t3
    assert (
        node.server_log.is_file()
        and "Kafka Server started" in node.server_log.read_text()
    )

    specs = [
        TopicSpec("laowu.test.events", 3, {"retention.ms": str(7 * 24 * 3600 * 1000)}),
        TopicSpec("laowu.test.state", 1, {"cleanup.policy": "compact"}),
    ]
    await create_topics(node.bootstrap, specs)
    await create_topics(node.bootstrap, specs)  # idempotent
    parts = await _partitions(node.bootstrap)
    assert parts == {"laowu.test.events": 3, "laowu.test.state": 1}

    producer = AIOKafkaProducer(bootstrap_servers=node.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait("laowu.test.events", b"hello", key=b"worker-1")
    finally:
        await producer.stop()
    got = await _consume_all(node.bootstrap, "laowu.test.events", 1)
    assert [(r.key, r.value) for r in got] == [(b"worker-1", b"hello")]

    assert "kafka.Kafka" in _cmdline(proc.pid)
    assert is_kafka_process(proc.pid)
    assert is_kafka_process(proc.pid, node.config_path)
    assert not is_kafka_process(os.getpid())

    # Crash: kill -9, then start again on the same data dir.
    _kill9(proc)
    assert not is_kafka_process(proc.pid)
    assert not port_open("127.0.0.1", node.port)
    node.write_config()
    node.format_storage()  # no-op: already formatted
    t4 = time.monotonic()
    proc2 = procs.start(node.command(), out_log)
    await node.wait_ready(timeout=60, pid=proc2.pid)
    t_restart = time.monotonic() - t4

    assert await _partitions(node.bootstrap) == parts
    await create_topics(node.bootstrap, specs)  # still idempotent
    got = await _consume_all(node.bootstrap, "laowu.test.events", 1)
    assert [(r.key, r.value) for r in got] == [(b"worker-1", b"hello")]
    assert node.cluster_id() == cluster_id

    # Clean stop (what the supervisor does): SIGTERM.
    t5 = time.monotonic()
    rc = stop_process(proc2, signal.SIGTERM, timeout=30)
    t_stop = time.monotonic() - t5
    assert rc in (0, 143), rc
    print(
        f"\n[kafka] jars {t_jars:.2f}s, format {t_format:.2f}s, start->ready {t_ready:.2f}s, "
        f"restart after kill -9 {t_restart:.2f}s, SIGTERM stop {t_stop:.2f}s"
    )


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


async def test_postgres_node_survives_kill9(tmp_path: Path, procs: _Procs) -> None:
    node = PostgresNode(data_dir=tmp_path / "pg" / "data", port=free_port())
    if os.geteuid() == 0:
        assert node.run_as_user == SYSTEM_USER
    else:
        assert node.run_as_user is None
    assert node.url() == f"postgresql://postgres@127.0.0.1:{node.port}/laowu"

    t0 = time.monotonic()
    node.init()
    t_init = time.monotonic() - t0
    assert (node.data_dir / "PG_VERSION").is_file()
    st = node.data_dir.stat()
    assert st.st_mode & 0o777 == 0o700
    if node.run_as_user is not None:
        assert st.st_uid == pwd.getpwnam(node.run_as_user).pw_uid
    node.init()  # idempotent, no second initdb

    log = tmp_path / "postgres.log"
    t1 = time.monotonic()
    proc = procs.start(node.command(), log, **node.popen_kwargs())
    await node.wait_ready(timeout=30, pid=proc.pid)
    t_ready = time.monotonic() - t1
    assert node.is_running()
    assert not node.clear_stale_pidfile()  # running: leave it alone
    assert node.pidfile.exists()
    cmd = _cmdline(proc.pid)
    assert Path(cmd[0]).name == "postgres" and str(node.data_dir) in cmd
    assert port_open("127.0.0.1", node.port)

    conn = await asyncpg.connect(node.url())
    try:
        assert await conn.fetchval("SELECT current_database()") == "laowu"
        assert await conn.fetchval("SHOW fsync") == "on"
        assert await conn.fetchval("SHOW max_connections") == "200"
        await conn.execute(
            "CREATE TABLE worker (id int PRIMARY KEY, name text NOT NULL)"
        )
        await conn.execute("INSERT INTO worker VALUES (1, '张三')")
    finally:
        await conn.close()

    # Crash: kill -9 the postmaster.  postmaster.pid stays behind.
    _kill9(proc)
    assert node.pidfile.exists()
    assert not node.is_running()
    assert node.clear_stale_pidfile()
    assert not node.pidfile.exists()

    # A pidfile whose pid was reused by some other (root-owned) process would
    # make postgres refuse to start; clear_stale_pidfile must see through it.
    decoy = procs.start(["sleep", "60"], tmp_path / "decoy.log")
    node.pidfile.write_text(
        f"{decoy.pid}\n{node.data_dir}\n0\n{node.port}\n\n\n\nready\n"
    )
    assert not node.is_running()
    assert node.clear_stale_pidfile()
    stop_process(decoy, signal.SIGKILL)

    node.init()
    t2 = time.monotonic()
    proc2 = procs.start(node.command(), log, **node.popen_kwargs())
    await node.wait_ready(timeout=30, pid=proc2.pid)
    t_restart = time.monotonic() - t2
    conn = await asyncpg.connect(node.url())
    try:
        assert await conn.fetch("SELECT id, name FROM worker") == [(1, "张三")]
    finally:
        await conn.close()

    # Fast shutdown (SIGINT) as the supervisor would; the pidfile goes away.
    assert stop_process(proc2, signal.SIGINT, timeout=30) == 0
    assert not node.pidfile.exists()
    print(
        f"\n[postgres] init {t_init:.2f}s, start->ready {t_ready:.2f}s, "
        f"restart after kill -9 {t_restart:.2f}s"
    )
