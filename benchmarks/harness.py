"""Plumbing for the benchmarks: child processes with peak-RSS sampling, fast producing.

The private stack is ``laowu.stack.launcher.start_infra`` (the nodes ``make run`` runs); children start, get their
environment and stop through ``laowu.stack.processes``, as the launcher's and the tests' do."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from laowu.settings import Settings
from laowu.stack.launcher import InfraHandle
from laowu.stack.ports import free_port
from laowu.stack.processes import laowu_argv, stop_process
from laowu.stack.processes import spawn as start

ours = laowu_argv  # `python -m laowu.cli ARGS`, as the launcher starts every service

REPO = Path(__file__).resolve().parents[1]


def knob(name: str, default: int) -> int:
    raw = os.environ.get(name, "").replace("_", "").strip()
    return int(raw) if raw else default


def stop_on_sigterm() -> None:
    """SIGTERM (``timeout``, ``kill``) cancels the calling task, so its ``finally`` stops the children and the
    private stack. Without it they outlived the bench: a run stopped by ``timeout`` left Kafka, PostgreSQL and five
    services busy on the cores the next run measured with."""
    task = asyncio.current_task()
    assert task is not None, "call it from the task that owns the children"
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class RssSampler:
    """Peak resident memory per named process (a process tree for postgres), sampled twice a second."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.watch: dict[str, tuple[int, bool]] = {}
        self.peak_mb: dict[str, float] = defaultdict(float)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def add(self, name: str, pid: int, tree: bool = False) -> None:
        self.watch[name] = (pid, tree)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def sample(self) -> None:
        for name, (pid, tree) in list(self.watch.items()):
            try:
                proc = psutil.Process(pid)
                procs = [proc, *proc.children(recursive=True)] if tree else [proc]
                rss = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        rss += p.memory_info().rss
            except psutil.Error:
                continue
            self.peak_mb[name] = max(self.peak_mb[name], round(rss / 2**20, 1))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def cpu(self) -> dict[str, dict[int, float]]:
        """CPU seconds (user + system) used so far by each watched process (each member of a tree), by pid."""
        out: dict[str, dict[int, float]] = {}
        for name, (pid, tree) in list(self.watch.items()):
            try:
                proc = psutil.Process(pid)
                procs = [proc, *proc.children(recursive=True)] if tree else [proc]
            except psutil.Error:
                continue
            out[name] = {}
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    t = p.cpu_times()
                    out[name][p.pid] = t.user + t.system
        return out


def cpu_per_event(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], events: int) -> dict[str, float]:
    """Microseconds of CPU per event spent by each process between two :meth:`RssSampler.cpu` snapshots.

    Where the machine's two cores go while one stream is applied: the budget a target must fit in."""
    return {name: round(used / events * 1e6, 1) for name, used in cpu_used(before, after).items()}


def cpu_used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each process spent between two :meth:`RssSampler.cpu` snapshots (a pid new since ``before``:
    all of its time)."""
    return {name: sum(t - before.get(name, {}).get(pid, 0.0) for pid, t in pids.items()) for name, pids in after.items()}


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.time)

    def stop(self, timeout: float = 20) -> None:
        stop_process(self.proc, timeout=timeout)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def bench_settings(home: Path) -> Settings:
    """The bench's private world: its own home, free ports, PLAINTEXT (Kafka security settings of the shell would
    not fit its broker), whatever the shell says."""
    return Settings(home=home, database_url=None, kafka_bootstrap=None, topic_prefix="", kafka_port=0, pg_port=0,
                    api_host="127.0.0.1", api_port=free_port(), env="test", kafka_security_protocol="PLAINTEXT",
                    kafka_sasl_username=None, kafka_sasl_password=None)


def world(settings: Settings, infra: InfraHandle) -> Settings:
    """``settings`` pointed at the broker and database ``start_infra`` started: what the children are given."""
    return settings.model_copy(update={"kafka_bootstrap": infra.bootstrap, "database_url": infra.dsn})


def spawn(name: str, argv: Sequence[str], env: dict[str, str], logs: Path, sampler: RssSampler | None = None) -> Child:
    """A child (``env`` from ``laowu.stack.processes.child_env``) logging to ``logs/<name>.log``, its memory sampled."""
    log = logs / f"{name}.log"
    proc = start(argv, log, env=env, cwd=REPO, name=name)
    if sampler is not None:
        sampler.add(name, proc.pid)
    return Child(name, proc, log)


def release_home(home: Path) -> bool:
    """Delete a bench's temporary home, unless LAOWU_BENCH_KEEP asks to keep it (logs); True when kept."""
    if os.environ.get("LAOWU_BENCH_KEEP"):
        return True
    shutil.rmtree(home, ignore_errors=True)
    return False


# ---- Kafka -------------------------------------------------------------------------------------------


class Producer:
    """Sends (topic, key, value) as fast as the client can: ``laowu.publish.publish_many`` (one record batch per
    partition, the producers' own partitioner, as the API and the relay publish); ``send`` returns once all are
    acked."""

    def __init__(self, bootstrap: str) -> None:
        from laowu import kafka_security
        from laowu.publish import PARTITIONER

        self.producer = kafka_security.producer(kafka_security.PLAINTEXT, bootstrap=bootstrap, enable_idempotence=True,
                                                acks="all", max_batch_size=1 << 20, max_request_size=4 << 20,
                                                linger_ms=5, partitioner=PARTITIONER)

    async def __aenter__(self) -> Producer:
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()

    async def send(self, messages: Iterable[tuple[str, bytes, bytes]]) -> int:
        from laowu.publish import publish_many

        return await publish_many(self.producer, messages)


async def produce(bootstrap: str, messages: Iterable[tuple[str, bytes, bytes]]) -> tuple[int, float]:
    """Send all messages; (count, seconds)."""
    started = time.monotonic()
    async with Producer(bootstrap) as producer:
        count = await producer.send(messages)
    return count, time.monotonic() - started


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    from aiokafka import TopicPartition

    from laowu import kafka_security

    consumer = kafka_security.consumer(kafka_security.PLAINTEXT, bootstrap=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or
                                                             await _partitions(consumer, t))]
        ends = await consumer.end_offsets(tps)
        return {(tp.topic, tp.partition): off for tp, off in ends.items()}
    finally:
        await consumer.stop()


async def _partitions(consumer: Any, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return set(consumer.partitions_for_topic(topic) or ())


async def raw_consume(bootstrap: str, topics: Sequence[str], expected: int, timeout: float = 600) -> tuple[int, float]:
    """Plain aiokafka, no group, from the beginning, doing nothing with the messages."""
    from aiokafka import TopicPartition

    from laowu import kafka_security

    consumer = kafka_security.consumer(kafka_security.PLAINTEXT, bootstrap=bootstrap, enable_auto_commit=False,
                                       auto_offset_reset="earliest", isolation_level="read_committed",
                                       max_partition_fetch_bytes=4 << 20)
    started = time.monotonic()
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in await _partitions(consumer, t)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen = 0
        while seen < expected:
            batch = await consumer.getmany(timeout_ms=200, max_records=10_000)
            seen += sum(len(v) for v in batch.values())
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"raw consumer saw {seen} of {expected}")
        return seen, time.monotonic() - started
    finally:
        await consumer.stop()
