"""The peer a data engineer would deploy instead of writing a consumer (issue 22): Kafka Connect standalone with the
Debezium JDBC sink, upserting ledger-shaped rows from a topic into an indexed table of the same shape as ``workers``.

``benchmarks.run`` calls :func:`measure` after the naive sink. The rows are ``benchmarks.run.worker_rows`` (real
ciphertexts, masked numbers, brands, regions), sent as JSON with schemas (``JsonConverter``, schemas enabled) keyed
by ``worker_id``, all produced before Connect starts (as the naive sink's backlog is). The sink runs in upsert mode
keyed by the record key, 2 tasks, batches of 2,000 (as tried by hand on 2026-12-03). It does far less than the
ledger — one upsert a message: no decryption check, merge, history, receipts or outbox — so the ledger's ratio to
it says what those guarantees cost against the off-the-shelf tool.

The jars: ``benchmarks/connect/pom.xml`` (``org.apache.kafka:connect-runtime`` 4.1.2 from Maven Central, as the
broker is; ``io.debezium:debezium-connector-jdbc:3.3.1.Final``'s plugin archive, unpacked into Connect's
``plugin.path``), fetched once into the Kafka jar cache (``laowu.stack.kafka.ensure_maven_jars``).
"""

from __future__ import annotations

import asyncio
import hashlib
import tarfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import orjson

from benchmarks.harness import Producer, RssSampler, spawn
from laowu.kafka_security import PLAINTEXT
from laowu.stack.kafka import TopicSpec, create_topics, ensure_maven_jars, java_properties
from laowu.stack.ports import free_port

POM = Path(__file__).parent / "connect" / "pom.xml"
CONNECT_VERSION = "4.1.2"
DEBEZIUM_VERSION = "3.3.1.Final"
TOPIC = "connect.workers"
TABLE = "connect_workers"
PARTITIONS = 6  # as laowu.workers.v1
TASKS = 2
BATCH = 2_000
CONNECTOR = "laowu-bench-jdbc-sink"
# A record is ~2 kB (its schema travels with it): at the consumer's default 1 MB a partition, a task's poll of its 3
# partitions held ~1,580 records, and the sink wrote a transaction per poll (batch.size=2,000 was never reached).
FETCH_BYTES = 8 << 20  # a batch of ~2 kB records from one partition alone, with room
PRODUCE_CHUNK = 20_000  # the producer holds every batch until acked: 200,000 records at once held ~400 MB
# Connect logs nothing without a configuration; a failed task (the JVM stays up) must say why in connect.log.
LOG4J2 = """status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = out
"""

# The ledger-shaped columns (``benchmarks.run.WORKER_COPY_COLUMNS``) as Connect schema fields.
_STRING = {"type": "string", "optional": False}
_OPTIONAL_STRING = {"type": "string", "optional": True}
_ARRAY = {"type": "array", "items": {"type": "string", "optional": False}, "optional": False}
FIELDS: list[tuple[str, dict[str, Any]]] = [
    ("worker_id", _STRING), ("id_number_enc", _STRING), ("id_number_masked", _STRING), ("name", _STRING),
    ("sex", _STRING),
    ("birth_date", {"type": "int32", "optional": False, "name": "org.apache.kafka.connect.data.Date", "version": 1}),
    ("household_region", _STRING),
    ("registered_at", {"type": "int64", "optional": False, "name": "org.apache.kafka.connect.data.Timestamp",
                       "version": 1}),
    ("phone_enc", _OPTIONAL_STRING), ("phone_masked", _OPTIONAL_STRING), ("occupation_code", _OPTIONAL_STRING),
    ("brand_ids", _ARRAY), ("priority_groups", _ARRAY), ("workstation_ids", _ARRAY), ("state", _STRING),
    ("version", {"type": "int32", "optional": False}),
]
VALUE_SCHEMA = {"type": "struct", "name": "laowu.bench.worker", "optional": False,
                "fields": [{**spec, "field": name} for name, spec in FIELDS]}
KEY_SCHEMA = {"type": "struct", "name": "laowu.bench.worker_key", "optional": False,
              "fields": [{**_STRING, "field": "worker_id"}]}
_EPOCH = date(1970, 1, 1)


def ensure_connect(cache_dir: Path) -> tuple[Path, Path]:
    """(Connect's classpath directory, its plugin.path), fetched once; the plugin archive is unpacked on the way."""

    def unpack(tmp: Path) -> None:
        archive = tmp / "lib" / f"debezium-connector-jdbc-{DEBEZIUM_VERSION}-plugin.tar.gz"
        with tarfile.open(archive) as tar:
            tar.extractall(tmp / "plugins", filter="data")
        archive.unlink()

    # The pom's digest in the name: a fetch made with another pom is never taken for this one's.
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:8]
    root = ensure_maven_jars(cache_dir, POM, f"connect-{CONNECT_VERSION}-debezium-jdbc-{DEBEZIUM_VERSION}-{digest}",
                             f"debezium-connector-jdbc-{DEBEZIUM_VERSION}-plugin.tar.gz", finish=unpack)
    return root / "lib", root / "plugins"


def record(row: tuple[Any, ...]) -> tuple[bytes, bytes]:
    """(key, value) of one ledger-shaped row, JSON with schemas as ``JsonConverter`` reads them."""
    payload: dict[str, Any] = {}
    for (name, _), value in zip(FIELDS, row, strict=True):
        if isinstance(value, datetime):
            value = int(value.astimezone(UTC).timestamp() * 1000)
        elif isinstance(value, date):
            value = (value - _EPOCH).days
        payload[name] = value
    key = orjson.dumps({"schema": KEY_SCHEMA, "payload": {"worker_id": payload["worker_id"]}})
    return key, orjson.dumps({"schema": VALUE_SCHEMA, "payload": payload})


def properties(bootstrap: str, dsn: str, work_dir: Path, plugins: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(worker, connector) properties of the standalone run."""
    url = urlsplit(dsn)
    worker = {
        "bootstrap.servers": bootstrap,
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "true",
        "value.converter.schemas.enable": "true",
        "offset.storage.file.filename": str(work_dir / "connect.offsets"),
        "offset.flush.interval.ms": "10000",
        "plugin.path": str(plugins),
        "plugin.discovery": "service_load",  # what Connect advises when every plugin has manifests (faster start)
        "listeners": f"http://127.0.0.1:{free_port()}",
        "consumer.max.poll.records": str(BATCH),  # a sink task's put() gets up to a batch at a time
        "consumer.max.partition.fetch.bytes": str(FETCH_BYTES),
        "consumer.auto.offset.reset": "earliest",
    }
    connector = {
        "name": CONNECTOR,
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "tasks.max": str(TASKS),
        "topics": TOPIC,
        "connection.url": f"jdbc:postgresql://{url.hostname}:{url.port}{url.path}",
        "connection.username": url.username or "postgres",
        "connection.password": url.password or "",
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "primary.key.fields": "worker_id",
        "schema.evolution": "none",
        "collection.name.format": TABLE,
        "batch.size": str(BATCH),
        "use.time.zone": "UTC",
        "delete.enabled": "false",
    }
    return worker, connector


def _write(path: Path, props: dict[str, str]) -> Path:
    path.write_text(java_properties(props))
    return path


async def failed_task(rest: str) -> str | None:
    """The trace of the connector or a task of it that failed (Connect keeps running without them), else None."""
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, \
                http.get(f"{rest}/connectors/{CONNECTOR}/status") as resp:
            if resp.status != 200:
                return None
            status = await resp.json()
    except (aiohttp.ClientError, TimeoutError):  # its REST server is not up yet
        return None
    for part in [status.get("connector", {}), *status.get("tasks", [])]:
        if part.get("state") == "FAILED":
            return causes(str(part.get("trace", "no trace")))
    return None


def causes(trace: str) -> str:
    """A Java trace's first line and its causes: the reason (a constraint, a type) is the last, past the frames."""
    lines = trace.splitlines()
    return "\n".join(lines[:1] + [line for line in lines[1:] if line.startswith("Caused by:")])[-4000:]


async def measure(bootstrap: str, dsn: str, cache_dir: Path, work_dir: Path, logs: Path, env: dict[str, str],
                  rows: list[tuple[Any, ...]], sampler: RssSampler | None = None) -> dict[str, Any]:
    """Upsert ``rows`` through Kafka Connect into ``connect_workers``; the rate from the first row to the last."""
    started = time.monotonic()
    lib, plugins = await asyncio.to_thread(ensure_connect, cache_dir)
    fetch_s = time.monotonic() - started
    conn = await asyncpg.connect(dsn)
    try:
        # Same columns, constraints, defaults and indexes as the ledger's workers: the sink pays the same upkeep.
        await conn.execute(f"DROP TABLE IF EXISTS {TABLE}; CREATE TABLE {TABLE} (LIKE workers INCLUDING ALL)")
        await create_topics(bootstrap, [TopicSpec(TOPIC, PARTITIONS, {})], PLAINTEXT)  # the bench's own broker
        async with Producer(bootstrap) as producer:
            for start in range(0, len(rows), PRODUCE_CHUNK):
                await producer.send((TOPIC, *record(r)) for r in rows[start:start + PRODUCE_CHUNK])
        work_dir.mkdir(parents=True, exist_ok=True)
        worker, connector = properties(bootstrap, dsn, work_dir, plugins)
        (work_dir / "log4j2.properties").write_text(LOG4J2)
        # The sink binds Connect timestamps as SQL timestamps, made timestamptz in the session's zone: the JVM's.
        argv = ["java", "-Xms256m", "-Xmx1g", "-Duser.timezone=UTC",
                f"-Dlog4j2.configurationFile={work_dir / 'log4j2.properties'}",
                "-cp", f"{lib}/*", "org.apache.kafka.connect.cli.ConnectStandalone",
                str(_write(work_dir / "worker.properties", worker)),
                str(_write(work_dir / "sink.properties", connector))]
        child = spawn("connect", argv, env, logs, sampler)
        t0 = time.monotonic()
        first: float | None = None
        checked = t0
        try:
            while (got := await conn.fetchval(f"SELECT count(*) FROM {TABLE}")) < len(rows):
                if got and first is None:
                    first = time.monotonic()
                if not child.alive():
                    raise RuntimeError(f"Kafka Connect exited ({child.proc.returncode}):\n{child.tail()}")
                if time.monotonic() - checked > 2:
                    checked = time.monotonic()
                    if trace := await failed_task(worker["listeners"]):
                        raise RuntimeError(f"Kafka Connect: {got} of {len(rows)} rows, a task failed:\n{trace}")
                if time.monotonic() - t0 > 600:
                    raise TimeoutError(f"Kafka Connect: {got} of {len(rows)} rows after 600s:\n{child.tail()}")
                await asyncio.sleep(0.1)
            elapsed = time.monotonic() - t0
        finally:
            child.stop()
        # created_at is now(): the start of the transaction that wrote the row, one per batch the sink commits.
        lo, hi, batches, last = await conn.fetchrow(
            f"SELECT extract(epoch FROM min(created_at)), extract(epoch FROM max(created_at)), "
            f"count(DISTINCT created_at), count(*) FILTER (WHERE created_at = (SELECT max(created_at) FROM {TABLE})) "
            f"FROM {TABLE}")
    finally:
        await conn.close()
    span = float(hi) - float(lo) if hi is not None and lo is not None else 0.0
    # The last transaction starts at hi and ends after it: its rows are not in the span.
    steady = (len(rows) - last) / span if span > 0 else None
    return {"rows": len(rows), "tasks": TASKS, "batch_size": BATCH, "mode": "upsert, primary key from the record key",
            "seconds_from_start": round(elapsed, 2), "per_s_from_start": round(len(rows) / elapsed, 1),
            "startup_s": round((first or t0) - t0, 2), "per_s_steady": round(steady, 1) if steady else None,
            "transactions": batches, "jar_fetch_s": round(fetch_s, 1),
            "steady_from": "rows of all but the last transaction over the first to the last transaction start "
                           "(created_at)"}
