"""``make bench``: the platform's throughput and latency against this machine's own limits.

Starts a private Kafka + PostgreSQL in a temporary home (never the developer's ``.laowu/``), then in one run:

1. generates the event streams with ``laowu.simulate`` (encoded by ``Intake``, exactly as the API publishes);
2. ``kafka_raw_consume_per_s``: plain aiokafka reading the mixed stream, doing nothing (broker/client limit);
3. ``ledger_events_per_s``: ``laowu consume ledger`` (two consumers in one group + outbox relay + sweeper, as
   deployed) applying the mixed stream end to end — from process start until every partition's offset,
   committed in PostgreSQL with the rows, reaches the end of the topic; then a registrations-only prelude; then
   ``dispatch_events_per_s`` on a dispatch/placement/follow-up stream;
4. ``pg_copy_rows_per_s``: COPY of as many ledger-shaped rows into a scratch twin of ``workers`` (database limit);
   ``ledger_write_floor_events_per_s``: right after the mixed segment, the rows it left COPYed into indexed twins
   of the ledger tables plus as many index-moving updates as it made (``benchmarks.write_floor``): the fastest
   any ledger writing these rows could go with one database core and nothing else running;
5. ``naive_sink_per_s``: one faust agent, one INSERT … ON CONFLICT per event (the obvious peer);
6. ``api_ingest_per_s`` (single POSTs, 64 concurrent clients) and ``api_batch_events_per_s`` (1,000-event
   batches) against one ``laowu api`` process (one uvicorn worker);
7. ``worker_lookup_p50_ms`` / ``p99_ms`` (and ``stats_query_p99_ms`` when the route exists, after writing the
   figures from a recount, as no statistics worker runs here) with 1,000,000 workers in the ledger, loaded with
   COPY; ``worker_list_p99_ms``, the first page of ``GET /v1/workers`` for a county workstation seeing a few of
   them and for a province's bureau seeing most (the worse of the two).

Prints a table, then one JSON object on the last line. Knobs (env): LAOWU_BENCH_EVENTS (500000),
LAOWU_BENCH_DISPATCH_EVENTS (100000), LAOWU_BENCH_NAIVE_EVENTS (20000), LAOWU_BENCH_LOOKUP_WORKERS (1000000),
LAOWU_BENCH_LOOKUPS (10000), LAOWU_BENCH_API_SECONDS (15), LAOWU_BENCH_API_BATCH_EVENTS (100000),
LAOWU_BENCH_LEDGER_PROCS (2, ledger consumer processes in one group: the replicas docker-compose.yml and
deploy/k8s run by default),
LAOWU_BENCH_CONNECT_ROWS (200000, upserts through Kafka Connect + the Debezium JDBC sink),
LAOWU_BENCH_SCALING_EVENTS (100000, each of the fresh mixed streams the replica counts of
LAOWU_BENCH_SCALING_PROCS (1,2,3) apply: ``ledger_scaling_per_s``; 0 skips them),
LAOWU_BENCH_ONLY=ledger|api|matching|freshness runs a part (freshness alone takes the registration capacity from
LAOWU_BENCH_REGISTRATION_CAPACITY) (matching: ``matching_shortlist_p99_ms``,
benchmarks/matching.py); LAOWU_BENCH_WHATIF_SQL runs SQL after the migrations (to try a
database-level fix); LAOWU_BENCH_KEEP=1 keeps the temporary home (logs); LAOWU_BENCH_PYSPY=1 samples the
consumer and API processes with py-spy into the logs.

Issue 22 added: the ledger with 1, 2 and 3 replicas (``ledger_scaling_per_s``), batch ingest through two API
processes (``api_batch_2_procs_events_per_s``, the clients dealt between them as a balancer would), freshness under
half the registration capacity this run measured (and under 2,000/s, ``freshness_2000_p99_ms``), the indexes each
phase read (``detail.index_use``), and ``targets``: each target of issue 22 with its value, ratio and verdict. A
phase that fails is named in ``failed_phases`` and the notes; the table and the JSON are printed all the same.

Each ledger segment also reports the database's top statements (pg_stat_statements, which the local PostgreSQL
preloads): µs of execution and bytes of WAL per event. The whole run takes 9-11 minutes on 2 cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks import api_load, stats_queries, write_floor
from benchmarks.harness import (
    Producer,
    RssSampler,
    bench_settings,
    cpu_per_event,
    knob,
    load,
    ours,
    produce,
    raw_consume,
    release_home,
    spawn,
    stop_on_sigterm,
    world,
)
from benchmarks.streams import Encoder, Stream, dispatch_streams, json_with_event_id, mixed, scaling
from laowu.store import receipts

log = logging.getLogger("bench")

# Issue 22's targets: ratios to this machine's limits measured in the same run, and a few absolute bounds.
# (metric, ">=" or "<=", bound); a ratio metric is computed in ``Bench.ratios``.
TARGETS: list[tuple[str, str, float]] = [
    ("ledger_vs_write_floor", ">=", 0.5),
    ("ledger_vs_naive", ">=", 3.0),
    ("ledger_vs_connect_jdbc_sink", ">=", 0.25),
    ("api_batch_events_per_s", ">=", 20_000),
    ("api_batch_2_procs_vs_1", ">=", 1.6),
    ("worker_lookup_p99_ms", "<=", 10.0),
    ("matching_shortlist_p99_ms", "<=", 200.0),
    ("freshness_p99_ms", "<=", 1000.0),
]


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def batch_cpu(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], batch: dict[str, Any]
              ) -> dict[str, float]:
    """CPU µs per event of each process in a batch-ingest phase. The load generator's own figure is the CPU it
    used on the client's clock (``client_cpu_share``): its process's total also holds the bodies it encoded
    before the clock started."""
    events = max(1, batch["events"])
    out = {k: v for k, v in cpu_per_event(before, after, events).items() if k != "bench-runner"}
    out["load_generator"] = round(batch["client_cpu_share"] * batch["seconds"] / events * 1e6, 1)
    return out


class Bench:
    def __init__(self) -> None:
        self.events = knob("LAOWU_BENCH_EVENTS", 500_000)
        self.dispatch_events = knob("LAOWU_BENCH_DISPATCH_EVENTS", 100_000)
        self.naive_events = knob("LAOWU_BENCH_NAIVE_EVENTS", 20_000)
        self.lookup_workers = knob("LAOWU_BENCH_LOOKUP_WORKERS", 1_000_000)
        self.lookup_count = knob("LAOWU_BENCH_LOOKUPS", 10_000)
        self.api_seconds = knob("LAOWU_BENCH_API_SECONDS", 15)
        self.api_batch_events = knob("LAOWU_BENCH_API_BATCH_EVENTS", 100_000)
        # As deployed: docker-compose.yml (LAOWU_LEDGER_REPLICAS) and deploy/k8s both run two replicas.
        self.ledger_procs = knob("LAOWU_BENCH_LEDGER_PROCS", 2)
        # Replica counts for the scaling segments, each on a fresh mixed stream of this many events (0: none).
        self.scaling_events = knob("LAOWU_BENCH_SCALING_EVENTS", 100_000)
        self.scaling_procs = [int(p) for p in os.environ.get("LAOWU_BENCH_SCALING_PROCS", "1,2,3").split(",") if p.strip()]
        self.relay_apart = knob("LAOWU_BENCH_RELAY_APART", 1) == 1  # outbox relay in a process of its own
        self.only = os.environ.get("LAOWU_BENCH_ONLY", "").strip()  # "ledger" or "api" for a partial run
        if self.only == "api":
            self.events, self.dispatch_events = min(self.events, 2_000), 1_000
        self.home = Path(tempfile.mkdtemp(prefix="laowu-bench-"))
        self.logs = self.home / "logs"
        self.sampler = RssSampler()
        self.scaling: list[Stream] = []
        self.queries: set[str] = set()  # every statement the run executed (pg_stat_statements, kept across resets)
        self.result: dict[str, Any] = {}
        self.notes: list[str] = []
        self.failed: list[str] = []  # phases that raised: named in the JSON, the run goes on
        self.detail: dict[str, Any] = {}
        self.infra: Any = None
        self.pool: asyncpg.Pool | None = None
        self.admin: dict[str, str] = {}
        self.children: list[Any] = []
        self.statements = False

    # ---- infrastructure ------------------------------------------------------------------------
    async def start(self) -> None:
        from laowu.stack.launcher import start_infra
        from laowu.stack.processes import child_env

        self.settings = bench_settings(self.home)
        say(f"starting Kafka and PostgreSQL in {self.home}")
        self.infra = await start_infra(self.home, self.settings, migrate=True, topics=True)
        self.sampler.add("kafka", self.infra.processes["kafka"].pid)
        self.sampler.add("postgres", self.infra.processes["postgres"].pid, tree=True)
        self.sampler.add("bench-runner", os.getpid())
        self.sampler.start()
        from laowu.store.pool import create_pool

        self.pool = await create_pool(self.infra.dsn, min_size=1, max_size=4)
        try:  # the launcher preloads it; per-statement times explain where the database's share goes
            await self.pool.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            self.statements = True
        except asyncpg.PostgresError as exc:
            self.statements = False
            self.notes.append(f"no per-statement times: {exc}")
        whatif = os.environ.get("LAOWU_BENCH_WHATIF_SQL", "").strip()
        if whatif:  # try a database-level fix (e.g. an index) without a migration; reported in the notes
            await self.pool.execute(whatif)
            self.notes.append(f"what-if SQL applied before the run: {whatif}")
        self.env = child_env(world(self.settings, self.infra))

    async def stop(self) -> None:
        for child in self.children:  # whatever a failed step left running
            child.stop()
        self.sampler.stop()
        if self.pool is not None:
            await self.pool.close()
        if self.infra is not None:
            await self.infra.astop()
        if release_home(self.home):
            say(f"kept {self.home}")

    @property
    def topics(self) -> list[str]:
        from schemas.topics import BRANDS, DISPATCHES, WORKERS

        return [self.settings.topic(t.name) for t in (BRANDS, DISPATCHES, WORKERS)]

    # ---- streams ---------------------------------------------------------------------------------
    def generate(self) -> None:
        say(f"generating {self.events:,} mixed + {self.dispatch_events:,} dispatch events (Intake-encoded)")
        t = time.monotonic()
        enc = Encoder()
        try:
            self.mixed = mixed(enc, self.events)
            self.prelude, self.dispatch = dispatch_streams(enc, self.dispatch_events)
            if self.only in ("", "ledger") and self.scaling_events:
                self.scaling = [scaling(enc, self.scaling_events, seed=100 + i) for i in range(len(self.scaling_procs))]
        finally:
            enc.close()
        total = sum(len(s.messages) for s in (self.mixed, self.prelude, self.dispatch, *self.scaling))
        self.detail["generate"] = {"events": total, "seconds": round(time.monotonic() - t, 1),
                                   "mixed": self.mixed.summary, "dispatch": self.dispatch.summary}
        say(f"generated {total:,} events in {time.monotonic() - t:.1f}s")

    async def generate_async(self) -> None:
        self.generate()

    # ---- ledger ----------------------------------------------------------------------------------
    async def offsets_total(self, group: str = "ledger") -> int:
        assert self.pool is not None
        return int(await self.pool.fetchval(
            "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE group_id = $1 AND next_offset > 0", group))

    async def ledger_segment(self, name: str, stream: Stream, procs: int | None = None) -> dict[str, Any]:
        """Start ``laowu consume ledger`` and time it until every event is committed in PostgreSQL.

        The stream is fed closed-loop: at most ``window`` events ahead of what the consumer has committed (the
        first ``window`` before it starts). Kafka orders events per partition only; a backlog of the whole stream
        would let the consumer read one topic far ahead of another (a confirmation before its dispatch), which a
        live system never sees. The generator's lag (2 × window) keeps dependent events further apart than that.
        """
        assert self.pool is not None
        procs = procs or self.ledger_procs
        messages = stream.kafka()
        n = len(messages)
        window = max(500, stream.lag // 2)
        base = await self.offsets_total()
        before = await self.decided_counts()
        load_before = load()
        async with Producer(self.infra.bootstrap) as producer:
            sent = await producer.send(messages[:window])
            say(f"ledger/{name}: {n:,} events, fed {window:,} ahead of the consumer")
            await self.reset_statements()
            cpu0 = self.sampler.cpu()
            wall0 = time.time()
            split = ("--no-relay",) if self.relay_apart else ()
            consumers = [spawn(f"ledger-consumer{'-' + str(i) if i else ''}", ours("consume", "ledger", *split),
                               self.env, self.logs, self.sampler) for i in range(procs)]
            if self.relay_apart:
                consumers.append(spawn("relay", ours("consume", "relay"), self.env, self.logs, self.sampler))
            self.children += consumers
            child = consumers[0]
            for c in consumers:
                self.profile(c, name)
            t0 = time.monotonic()
            first_progress: float | None = None
            deadline = t0 + max(600, n / 200)
            while True:
                done = await self.offsets_total() - base
                if first_progress is None and done > 0:
                    first_progress = time.monotonic()
                if done >= n:
                    break
                if sent < n and done >= sent - window // 2:
                    top = min(n, done + window)
                    sent += await producer.send(messages[sent:top])
                    continue
                for c in consumers:
                    if not c.alive():
                        raise RuntimeError(f"ledger consumer exited ({c.proc.returncode}):\n{c.tail()}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"ledger/{name}: {done} of {n} events committed after {deadline - t0:.0f}s")
                await asyncio.sleep(0.02)
            elapsed = time.monotonic() - t0
            cpu = cpu_per_event(cpu0, self.sampler.cpu(), n)
        statements = await self.top_statements(n)
        after = await self.decided_counts()
        decided = {k: after.get(k, 0) - before.get(k, 0) for k in ("applied", "rejected")}
        window_row = await self.pool.fetchrow(
            "SELECT extract(epoch FROM min(decided_at)) AS lo, extract(epoch FROM max(decided_at)) AS hi "
            f"FROM ({receipts.OUTCOMES}) o WHERE decided_at >= to_timestamp($1)", wall0)
        steady = None
        if window_row["lo"] is not None and window_row["hi"] > window_row["lo"]:
            span = float(window_row["hi"]) - float(window_row["lo"])
            steady = round((decided["applied"] + decided["rejected"]) / span, 1)
        reasons = await self.pool.fetch(
            "SELECT left(reason, 80) AS reason, count(*) AS n FROM event_receipts WHERE status = 'rejected' "
            "AND decided_at >= to_timestamp($1) GROUP BY 1 ORDER BY 2 DESC LIMIT 6", wall0)
        drained = await self.drain_outbox(child)
        for c in consumers:
            c.stop()
        total_decided = decided["applied"] + decided["rejected"]
        if total_decided != stream.receipts:
            self.notes.append(f"ledger/{name}: {total_decided} receipts decided, {stream.receipts} expected")
        say(f"ledger/{name}: {n:,} events in {elapsed:.1f}s = {n / elapsed:,.0f}/s "
            f"(steady {steady}/s); applied {decided['applied']:,}, rejected {decided['rejected']:,} "
            f"{[(r['reason'], r['n']) for r in reasons[:3]]}; CPU µs/event {cpu}")
        return {"events": n, "consumers": procs, "relay_apart": self.relay_apart,
                "seconds": round(elapsed, 2), "per_s": round(n / elapsed, 1),
                "startup_s": round((first_progress or t0) - t0, 2), "steady_per_s": steady, "window": window,
                "cpu_us_per_event": cpu, "top_statements": statements,
                "receipts_expected": stream.receipts, **decided,
                "rejected_reasons": {r["reason"]: r["n"] for r in reasons}, "outbox_drain_s": drained,
                "load_before": load_before, "load_after": load()}

    async def ledger_scaling(self) -> None:
        """The same kind of stream with 1, 2 and 3 replicas in one group, one fresh stream each (issue 22)."""
        runs = {}
        for procs, stream in zip(self.scaling_procs, self.scaling, strict=True):
            got = await self.ledger_segment(f"scaling-{procs}", stream, procs)
            runs[str(procs)] = {k: got[k] for k in ("events", "per_s", "steady_per_s", "startup_s", "cpu_us_per_event",
                                                    "load_before", "load_after")}
        self.detail["ledger_scaling"] = runs
        self.result["ledger_scaling_per_s"] = {k: v["per_s"] for k, v in runs.items()}
        say(f"ledger scaling (replicas → events/s): {self.result['ledger_scaling_per_s']}")

    async def reset_statements(self) -> None:
        if self.statements:
            assert self.pool is not None
            await self.keep_statements()
            await self.pool.execute("SELECT pg_stat_statements_reset()")

    async def keep_statements(self) -> None:
        """The statements run so far (before a reset forgets them): ``index_use`` asks each for its plan."""
        if self.statements:
            assert self.pool is not None
            self.queries.update(r["query"] for r in await self.pool.fetch("SELECT query FROM pg_stat_statements"))

    async def top_statements(self, events: int, top: int = 8) -> list[dict[str, Any]]:
        """The statements that took the database's time since the last reset: µs and WAL bytes per event."""
        if not self.statements:
            return []
        assert self.pool is not None
        rows = await self.pool.fetch(
            "SELECT calls, total_exec_time, wal_bytes, query FROM pg_stat_statements "
            "ORDER BY total_exec_time DESC LIMIT $1", top)
        return [{"us_per_event": round(r["total_exec_time"] * 1000 / events, 1), "calls": r["calls"],
                 "wal_bytes_per_event": round(float(r["wal_bytes"]) / events),
                 "query": " ".join(r["query"].split())[:90]} for r in rows]

    async def decided_counts(self) -> dict[str, int]:
        assert self.pool is not None
        rows = await self.pool.fetch(f"SELECT status, count(*) AS n FROM ({receipts.OUTCOMES}) o GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    async def drain_outbox(self, child: Any, limit: float = 180) -> float | None:
        """The relay publishes derived events after the commit; let it finish before the next segment."""
        assert self.pool is not None
        t = time.monotonic()
        while await self.pool.fetchval("SELECT EXISTS (SELECT 1 FROM outbox)"):
            if time.monotonic() - t > limit or not child.alive():
                self.notes.append(f"outbox not drained after {limit:.0f}s")
                return None
            await asyncio.sleep(0.25)
        return round(time.monotonic() - t, 2)

    def profile(self, child: Any, tag: str = "") -> None:
        """LAOWU_BENCH_PYSPY=1: sample the child with py-spy (pip install py-spy) into logs/<name>.pyspy (collapsed)."""
        if not os.environ.get("LAOWU_BENCH_PYSPY"):
            return
        out = self.logs / f"{child.name}{'-' + tag if tag else ''}.pyspy"
        from laowu.stack.processes import spawn as start

        # It ends on its own when the process it samples does.
        start([str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(child.proc.pid), "-r", "100",
               "--nonblocking", "-f", "raw", "-o", str(out)], out.with_suffix(".pyspy.log"), name="py-spy")

    async def connect_sink(self) -> None:
        """``connect_jdbc_sink_per_s``: Kafka Connect + the Debezium JDBC sink upserting ledger-shaped rows
        (``benchmarks.connect_sink``), steady state as the naive sink's."""
        from benchmarks import connect_sink

        n = knob("LAOWU_BENCH_CONNECT_ROWS", 200_000)
        say(f"Kafka Connect + Debezium JDBC sink: {n:,} ledger-shaped upserts")
        got = await connect_sink.measure(self.infra.bootstrap, self.infra.dsn, self.settings.kafka_cache,
                                         self.home / "connect", self.logs, self.env, worker_rows(n, seed=77),
                                         self.sampler)
        self.detail["connect_sink"] = got
        self.result["connect_jdbc_sink_per_s"] = got["per_s_steady"] or got["per_s_from_start"]
        say(f"Kafka Connect: {n:,} rows, first after {got['startup_s']}s, steady {got['per_s_steady']}/s")

    # ---- limits of the machine -------------------------------------------------------------------
    async def kafka_raw(self) -> None:
        n = len(self.mixed.messages)
        say(f"kafka raw consume of {n:,} events")
        seen, seconds = await raw_consume(self.infra.bootstrap, self.topics, n)
        self.result["kafka_raw_consume_per_s"] = round(seen / seconds, 1)

    async def pg_copy(self) -> None:
        assert self.pool is not None
        n = len(self.mixed.messages)
        say(f"COPY of {n:,} ledger-shaped rows")
        async with self.pool.acquire() as conn:
            await conn.execute("DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (LIKE workers INCLUDING ALL)")
            rows = worker_rows(n, seed=11)
            t = time.monotonic()
            await conn.copy_records_to_table("bench_copy", records=rows, columns=WORKER_COPY_COLUMNS)
            seconds = time.monotonic() - t
            await conn.execute("DROP TABLE bench_copy")
        self.result["pg_copy_rows_per_s"] = round(n / seconds, 1)

    async def table_writes(self) -> dict[str, dict[str, int]]:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            return await write_floor.settled_writes(conn)

    async def write_floor(self, before: dict[str, dict[str, int]], events: int) -> None:
        """The mixed segment's own rows written again the cheapest way (``benchmarks.write_floor``)."""
        assert self.pool is not None
        say(f"write floor: the rows of {events:,} mixed events, COPY + set updates into indexed twins")
        async with self.pool.acquire() as conn:
            done = write_floor.writes_between(before, await write_floor.settled_writes(conn))
            floor = await write_floor.floor(conn, events, write_floor.moved(done), self.postgres_cpu)
        floor["segment_writes"] = done
        self.detail["write_floor"] = floor
        self.result["ledger_write_floor_events_per_s"] = floor["events_per_s"]
        self.result["write_floor_postgres_cpu_us_per_event"] = floor["postgres_cpu_us_per_event"]
        say(f"write floor: {floor['rows_copied']:,} rows copied + {floor['rows_updated']:,} updated in "
            f"{floor['seconds']}s = {floor['events_per_s']:,.0f} events/s; "
            f"PostgreSQL CPU {floor['postgres_cpu_us_per_event']} µs/event")

    def postgres_cpu(self) -> float:
        return sum(self.sampler.cpu().get("postgres", {}).values())

    async def naive(self) -> None:
        assert self.pool is not None
        k = min(self.naive_events, len(self.mixed.messages))
        prefix = "naive."
        from laowu.kafka_security import PLAINTEXT
        from laowu.stack.kafka import TopicSpec, create_topics
        from schemas.topics import BRANDS, DISPATCHES, WORKERS

        await create_topics(self.infra.bootstrap, [TopicSpec(prefix + t.name, t.partitions, t.kafka_config())
                                                   for t in (BRANDS, DISPATCHES, WORKERS)], PLAINTEXT)  # its own broker
        messages = [(prefix + t, key, v) for t, key, v, _ in self.mixed.messages[:k]]
        expected = sum(1 for _, _, v in messages if json_with_event_id(v))
        await produce(self.infra.bootstrap, messages)
        from benchmarks.naive_sink import TABLE

        await self.pool.execute(TABLE)
        say(f"naive faust sink over {k:,} events")
        wall0 = time.time()
        child = spawn("naive-sink", [sys.executable, "-m", "benchmarks.naive_sink", self.infra.bootstrap, self.infra.dsn,
                                     *(prefix + t.name for t in (BRANDS, DISPATCHES, WORKERS))], self.env, self.logs,
                      self.sampler)
        self.children.append(child)
        t0 = time.monotonic()
        try:
            while (got := await self.pool.fetchval("SELECT count(*) FROM naive_events")) < expected:
                if not child.alive():
                    raise RuntimeError(f"naive sink exited:\n{child.tail()}")
                if time.monotonic() - t0 > 600:
                    raise TimeoutError(f"naive sink: {got} of {expected} rows after 600s")
                await asyncio.sleep(0.25)
            elapsed = time.monotonic() - t0
        finally:
            child.stop()
        lo, hi = await self.pool.fetchrow("SELECT extract(epoch FROM min(inserted_at)), extract(epoch FROM max(inserted_at)) "
                                          "FROM naive_events")
        steady = expected / (float(hi) - float(lo)) if hi and lo and hi > lo else None
        self.result["naive_sink_per_s"] = round(steady or expected / elapsed, 1)
        self.detail["naive_sink"] = {"events": expected, "seconds_from_start": round(elapsed, 2),
                                     "per_s_from_start": round(expected / elapsed, 1),
                                     "startup_s": round(float(lo) - wall0, 2) if lo else None,
                                     "per_s_steady": round(steady, 1) if steady else None}

    # ---- API -------------------------------------------------------------------------------------
    async def api(self) -> None:
        from laowu.auth import issue

        url = f"http://127.0.0.1:{self.settings.api_port}"
        tokens: dict[tuple[str, str, str | None], dict[str, str]] = {}

        def auth(role: str, org: str, region: str | None) -> dict[str, str]:
            key = (role, org, region)
            if key not in tokens:
                token = issue(self.settings, role=role, org=org, region=region, ttl_s=3600)
                tokens[key] = {"Authorization": f"Bearer {token}"}
            return tokens[key]

        # The per-credential rate limit (a policy: 200/s) is lifted so that capacity is what is measured.
        from laowu.stack.processes import child_env

        unlimited = world(self.settings, self.infra).model_copy(update={"rate_limit_per_s": 1_000_000.0,
                                                                         "rate_limit_burst": 1_000_000})
        child = spawn("api", ours("api"), child_env(unlimited), self.logs, self.sampler)
        self.children.append(child)
        self.profile(child)
        self.admin = auth("admin", "bench", None)
        try:
            await api_load.wait_ready(url)
            bodies = registration_bodies(seed=31, count=max(20_000, self.api_seconds * 4_000))
            say(f"API: single POST /v1/workers, 64 clients (one credential per workstation), {self.api_seconds}s")
            single = await api_load.single_posts(
                url, bodies, lambda b: auth("workstation", b["workstation_id"], b["workstation_id"].split("-")[1]),
                concurrency=64, seconds=self.api_seconds)
            self.result["api_ingest_per_s"] = single["per_s"]
            if os.environ.get("LAOWU_BENCH_API_PROBE"):  # same load from 8 clients: is the server or the client the limit?
                self.detail["api_single_8_clients"] = await api_load.single_posts(
                    url, bodies[len(bodies) // 2:],
                    lambda b: auth("workstation", b["workstation_id"], b["workstation_id"].split("-")[1]),
                    concurrency=8, seconds=self.api_seconds)
            chunks = [(auth("workstation", f"ws-{p}0000-01", f"{p}0000"), items[i:i + 1_000])
                      for p, items in self.provincial_batches(seed=32).items() for i in range(0, len(items), 1_000)]
            chunks = chunks[: max(1, self.api_batch_events // 1_000)]
            say(f"API: /v1/events:batch, {sum(len(c) for _, c in chunks):,} events in 1,000-event batches, 4 in flight")
            cpu0 = self.sampler.cpu()
            batch = await api_load.batch_posts(url, chunks, concurrency=4)
            batch["cpu_us_per_event"] = batch_cpu(cpu0, self.sampler.cpu(), batch)
            self.result["api_batch_events_per_s"] = batch["per_s"]
            note = ("the load generator (aiohttp, bodies encoded before the clock starts, this process) shares "
                    "the 2 cores with the API")
            self.detail["api"] = {"single": single, "batch": batch, "client_note": note}
            await self.step("api_two_processes", self.api_two_processes(url, unlimited, auth))
            await self.lookups(url, auth)
        finally:
            child.stop()

    async def api_two_processes(self, url: str, unlimited: Any, auth: Callable[[str, str, str | None], dict[str, str]]
                                ) -> None:
        """Batch ingest through two ``laowu api`` processes, as two replicas behind a balancer: the clients are
        dealt between them, 4 batches in flight each (one process gets 4). Fresh people, the same batches."""
        from laowu.stack.ports import free_port
        from laowu.stack.processes import child_env

        second = unlimited.model_copy(update={"api_port": free_port(), "metrics_port": 0})
        child = spawn("api-2", ours("api"), child_env(second), self.logs, self.sampler)
        self.children.append(child)
        try:
            url2 = f"http://127.0.0.1:{second.api_port}"
            await api_load.wait_ready(url2)
            chunks = [(auth("workstation", f"ws-{p}0000-01", f"{p}0000"), items[i:i + 1_000])
                      for p, items in self.provincial_batches(seed=33).items() for i in range(0, len(items), 1_000)]
            chunks = chunks[: max(1, self.api_batch_events // 1_000)]
            say(f"API: /v1/events:batch through two API processes, {sum(len(c) for _, c in chunks):,} events, 8 in flight")
            cpu0 = self.sampler.cpu()
            batch = await api_load.batch_posts([url, url2], chunks, concurrency=8)
            # Where the 2 cores go with two processes (issue 22's ≥ 1.6×): the API's share against Kafka's,
            # PostgreSQL's (the accepted receipts) and the load generator's (on the client's clock, batch_cpu).
            batch["cpu_us_per_event"] = batch_cpu(cpu0, self.sampler.cpu(), batch)
        finally:
            child.stop()
        self.detail["api"]["batch_two_processes"] = batch
        self.result["api_batch_2_procs_events_per_s"] = batch["per_s"]

    def provincial_batches(self, seed: int) -> dict[str, list[dict[str, Any]]]:
        """Offline sync: a provincial station sends registrations of its province, 1,000 per batch."""
        by_province: dict[str, list[dict[str, Any]]] = {}
        for body in registration_bodies(seed=seed, count=int(self.api_batch_events * 1.15)):
            province = body["household_region"][:2]
            if province in ("46", "50"):
                body["workstation_id"] = f"ws-{province}0000-01"
                by_province.setdefault(province, []).append({"type": "worker.registered", "payload": body})
        return by_province

    async def lookups(self, url: str, auth: Callable[[str, str, str | None], dict[str, str]]) -> None:
        assert self.pool is not None
        n = self.lookup_workers
        existing = int(await self.pool.fetchval("SELECT count(*) FROM workers"))
        say(f"loading {n - existing if n > existing else 0:,} ledger-shaped workers with COPY ({existing:,} already)")
        t = time.monotonic()
        ids: list[str] = []
        if n > existing:
            chunk = 200_000
            async with self.pool.acquire() as conn:
                for start in range(0, n - existing, chunk):
                    rows = worker_rows(min(chunk, n - existing - start), seed=1000 + start)
                    ids.extend(r[0] for r in rows[:: max(1, len(rows) // 2_000)])
                    await conn.copy_records_to_table("workers", records=rows, columns=WORKER_COPY_COLUMNS)
                await conn.execute("ANALYZE workers")
                # Lookups are measured in steady state, not during the checkpoint that writes out the bulk load
                # (13 s of disk writes that otherwise overlap the measurement).
                await conn.execute("CHECKPOINT")
        self.detail["lookup_load"] = {"rows": n - existing, "seconds": round(time.monotonic() - t, 1),
                                      "workers_in_ledger": int(await self.pool.fetchval("SELECT count(*) FROM workers"))}
        real = [r["worker_id"] for r in await self.pool.fetch(
            "SELECT worker_id FROM workers TABLESAMPLE SYSTEM (1) LIMIT 5000")]
        pool_ids = ids + real
        rng = random.Random(5)
        paths = [f"/v1/workers/{rng.choice(pool_ids)}" for _ in range(self.lookup_count)]
        in_ledger = self.detail["lookup_load"]["workers_in_ledger"]
        say(f"API: {len(paths):,} GET /v1/workers/{{id}}, 8 in flight, {in_ledger:,} workers")
        got = await api_load.gets(url, paths, concurrency=8, headers=self.admin)
        self.result["worker_lookup_p50_ms"] = got["p50_ms"]
        self.result["worker_lookup_p99_ms"] = got["p99_ms"]
        one = await api_load.gets(url, paths[:2_000], concurrency=1, headers=self.admin)
        self.detail["lookup"] = {"concurrency_8": got, "concurrency_1": one}
        if await api_load.has_route(url, "/v1/stats/overview"):
            # No statistics worker runs in this bench: without figures the overview would read an empty table.
            async with self.pool.acquire() as conn:
                self.detail["stats_fill"] = await stats_queries.fill_figures(conn)
            say(f"stats figures written from a recount: {self.detail['stats_fill']}")
            stats = await api_load.gets(url, ["/v1/stats/overview", "/v1/stats/overview?region=460000",
                                              "/v1/stats/overview?region=469005"] * 100, concurrency=4,
                                             headers=self.admin, warmup=15)
            self.result["stats_query_p99_ms"] = stats["p99_ms"]
            self.detail["stats"] = stats
        else:
            self.result["stats_query_p99_ms"] = None
            self.notes.append("stats_query_p99_ms: GET /v1/stats/overview does not exist yet in this build")
        # A clerk's main page: the first page of workers of a county holding a few of the 1,000,000 (a page walked
        # the whole ledger before 5b6d392: 320-650 ms), and of a province holding most of them.
        lists = {}
        for name, viewer in (("county_workstation", ("workstation", "ws-469006-01", "469006")),
                             ("province_bureau", ("bureau", "hainan", "460000"))):
            lists[name] = await api_load.gets(url, ["/v1/workers?limit=50"] * 300, concurrency=4,
                                              headers=auth(*viewer), warmup=20)
        self.result["worker_list_p99_ms"] = max(got["p99_ms"] for got in lists.values())
        self.detail["worker_list"] = lists

    # ---- matching (issue 19) --------------------------------------------------------------------------
    async def matching(self) -> None:
        """``matching_shortlist_p99_ms``: a shortlist of 50 with ``lookup_workers`` workers in the ledger."""
        from benchmarks import matching
        from laowu.auth import issue
        from laowu.stack.processes import child_env

        assert self.pool is not None
        existing = int(await self.pool.fetchval("SELECT count(*) FROM workers"))  # the full run's lookups loaded some
        n = max(0, self.lookup_workers - existing)
        say(f"matching: loading {n:,} ledger-shaped workers (30 % with an intention) with COPY ({existing:,} already)")
        t = time.monotonic()
        async with self.pool.acquire() as conn:
            for start in range(0, n, 200_000):
                rows = matching.intentions(worker_rows(min(200_000, n - start), seed=2000 + start), seed=start)
                await conn.copy_records_to_table("workers", records=rows,
                                                 columns=[*WORKER_COPY_COLUMNS, "intention"])
            if existing:  # the full run's lookups loaded rows without intentions: 30 % of them state one
                await conn.execute(
                    "UPDATE workers SET intention = jsonb_build_object('occupations', jsonb_build_array(occupation_code), "
                    "'destinations', jsonb_build_array('440300'), 'min_monthly_wage', '5500') "
                    "WHERE intention IS NULL AND occupation_code IS NOT NULL AND abs(hashtext(worker_id)) % 10 < 3")
            # As a ledger that has lived a while is: autovacuum has set the rows' hint bits and visibility map
            # (freshly COPYed rows make the first reads of every page write it back, which is not matching's cost).
            await conn.execute("VACUUM (ANALYZE) workers")
            await conn.execute("CHECKPOINT")
        from laowu.simulate import BRANDS

        await matching.add_demand(self.pool, BRANDS[0].occupation_code or "")
        self.detail["matching_load"] = {"rows": n, "seconds": round(time.monotonic() - t, 1)}
        unlimited = world(self.settings, self.infra).model_copy(update={"rate_limit_per_s": 1_000_000.0,
                                                                         "rate_limit_burst": 1_000_000})
        child = spawn("api", ours("api"), child_env(unlimited), self.logs, self.sampler)
        self.children.append(child)
        url = f"http://127.0.0.1:{self.settings.api_port}"

        def auth(role: str, org: str, region: str | None) -> dict[str, str]:
            token = issue(self.settings, role=role, org=org, region=region, ttl_s=3600)
            return {"Authorization": f"Bearer {token}"}

        try:
            await api_load.wait_ready(url)
            say("API: GET /v1/demands/{id}/shortlist, 4 in flight, three requesters")
            detail = await matching.measure(url, auth, knob("LAOWU_BENCH_MATCHING_REQUESTS", 300))
        finally:
            child.stop()
        self.detail["matching"] = detail
        say(f"matching: {matching.describe(detail)}")
        self.result["matching_shortlist_p99_ms"] = max(v["p99_ms"] for v in detail.values())

    # ---- the whole run ---------------------------------------------------------------------------
    async def step(self, name: str, coro: Any, result: bool = False) -> Any:
        """One measurement; a failure becomes a note and the run goes on with the others. ``result``: answer
        True once it went through (for a step that returns nothing but others need)."""
        try:
            got = await coro
            return True if result else got
        except Exception as exc:
            import traceback

            traceback.print_exc()
            self.notes.append(f"{name} failed: {type(exc).__name__}: {str(exc)[:300]}")
            self.failed.append(name)
            return None

    async def run(self) -> dict[str, Any]:
        stop_on_sigterm()
        started = time.monotonic()
        self.result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                                  "load_at_start": load()}
        self.result["notes"], self.result["detail"] = self.notes, self.detail
        try:
            if await self.step("start", self.start(), result=True):
                await self.phases()
        finally:
            self.sampler.sample()
            await self.step("stop", self.stop())
        self.result["peak_rss_mb"] = dict(self.sampler.peak_mb)
        self.result["machine"]["load_at_end"] = load()
        self.result["seconds_total"] = round(time.monotonic() - started, 1)
        self.ratios()
        return self.result

    async def phases(self) -> None:
        if self.only == "freshness":  # its own stack, after this one (main)
            return
        if self.only == "matching":  # issue 19's phase alone: no streams, no ledger segments
            await self.step("matching", self.matching())
            return
        if not await self.step("generate", self.generate_async(), result=True):
            return
        writes = await self.step("write_floor", self.table_writes())
        ledger = await self.step("ledger", self.ledger_segment("mixed", self.mixed)) or {}
        self.result["ledger_events_per_s"] = ledger.get("per_s")
        if self.only in ("", "ledger") and ledger and writes is not None:
            await self.step("write_floor", self.write_floor(writes, ledger["events"]))
        if self.only in ("", "ledger"):
            await self.step("kafka_raw", self.kafka_raw())
            registrations = await self.step("ledger", self.ledger_segment("registrations", self.prelude)) or {}
            dispatch = await self.step("ledger", self.ledger_segment("dispatch", self.dispatch)) or {}
            self.result["dispatch_events_per_s"] = dispatch.get("per_s")
            self.result["ledger_registrations_per_s"] = registrations.get("per_s")
            self.detail["ledger"] = {"mixed": ledger, "registrations": registrations, "dispatch": dispatch}
            if self.scaling:
                await self.step("ledger_scaling", self.ledger_scaling())
        del self.prelude, self.dispatch, self.scaling
        if self.only in ("", "ledger"):
            await self.step("pg_copy", self.pg_copy())
            await self.step("naive_sink", self.naive())
            await self.step("connect_sink", self.connect_sink())
        del self.mixed
        if self.only in ("", "api"):
            await self.step("api", self.api())
        if self.only == "":
            await self.step("matching", self.matching())
        await self.step("index_use", self.index_use())

    async def index_use(self) -> None:
        """Which indexes this run's ledger, API and matching phases read (``idx_scan``), their size, and the
        statements whose generic plan uses each (``EXPLAIN (GENERIC_PLAN)`` of every statement the run executed):
        an index no phase scanned and no plan names is a candidate to drop (issue 22) once no other query needs it."""
        assert self.pool is not None
        await self.keep_statements()
        used_by: dict[str, list[str]] = {}
        async with self.pool.acquire() as conn:
            # A statement's text holds $1…: EXPLAIN (GENERIC_PLAN) takes them, asyncpg's extended protocol would
            # want values, so the text goes through EXECUTE.
            await conn.execute(
                "CREATE OR REPLACE FUNCTION pg_temp.explain_generic(q text) RETURNS SETOF json LANGUAGE plpgsql AS "
                "$$ BEGIN RETURN QUERY EXECUTE 'EXPLAIN (GENERIC_PLAN, FORMAT JSON) ' || q; END $$")
            for query in sorted(self.queries):
                head = query.lstrip().split(None, 1)[0].upper() if query.strip() else ""
                if head not in ("SELECT", "WITH", "UPDATE", "DELETE", "INSERT"):
                    continue
                try:
                    plan = await conn.fetchval("SELECT pg_temp.explain_generic($1)", query)
                except asyncpg.PostgresError:  # a session's temp table, a statement of a dropped scratch table
                    continue
                for name in set(_index_names(json.loads(plan) if isinstance(plan, str) else plan)):
                    used_by.setdefault(name, []).append(" ".join(query.split())[:160])
        rows = await self.pool.fetch(
            "SELECT relname, indexrelname, idx_scan, pg_relation_size(indexrelid) AS bytes FROM pg_stat_user_indexes "
            "WHERE relname NOT LIKE 'bench_%' AND relname NOT LIKE 'naive_%' AND relname NOT LIKE 'connect_%' "
            "ORDER BY idx_scan, bytes DESC")
        self.detail["index_use"] = {
            r["indexrelname"]: {"table": r["relname"], "scans": r["idx_scan"], "mb": round(r["bytes"] / 2**20, 1),
                                "plans": len(used_by.get(r["indexrelname"], [])),
                                "example": (used_by.get(r["indexrelname"]) or [None])[0]} for r in rows}
        self.detail["index_use_statements_explained"] = len(self.queries)

    def ratios(self) -> None:
        r = self.result

        def ratio(a: str, b: str) -> float | None:
            return round(r[a] / r[b], 3) if r.get(a) and r.get(b) else None

        r["ledger_vs_kafka_raw"] = ratio("ledger_events_per_s", "kafka_raw_consume_per_s")
        r["ledger_vs_pg_copy"] = ratio("ledger_events_per_s", "pg_copy_rows_per_s")
        r["ledger_vs_write_floor"] = ratio("ledger_events_per_s", "ledger_write_floor_events_per_s")
        r["ledger_vs_naive"] = ratio("ledger_events_per_s", "naive_sink_per_s")
        r["ledger_vs_connect_jdbc_sink"] = ratio("ledger_events_per_s", "connect_jdbc_sink_per_s")
        r["api_batch_2_procs_vs_1"] = ratio("api_batch_2_procs_events_per_s", "api_batch_events_per_s")
        r["targets"] = targets(r)


def targets(r: dict[str, Any]) -> dict[str, Any]:
    """Each target: its bound, the measured value, how far (value/bound, or bound/value for a ceiling), met or not;
    a figure this run could not measure is reported as such, never as met."""
    out: dict[str, Any] = {}
    for key, op, bound in TARGETS:
        value = r.get(key)
        if value is None:
            out[key] = {"target": f"{op} {bound:g}", "value": None, "met": None}
            continue
        share = value / bound if op == ">=" else bound / max(value, 1e-9)
        out[key] = {"target": f"{op} {bound:g}", "value": value, "ratio": round(share, 3), "met": share >= 1}
    return out

def _index_names(node: Any) -> list[str]:
    """Every "Index Name" in an EXPLAIN (FORMAT JSON) tree."""
    if isinstance(node, dict):
        found = [node["Index Name"]] if "Index Name" in node else []
        return found + [n for v in node.values() for n in _index_names(v)]
    if isinstance(node, list):
        return [n for v in node for n in _index_names(v)]
    return []


def ratio_to(value: float | None, target: float | None) -> float | None:
    return round(value / target, 3) if value and target else None


# ---- ledger-shaped rows ----------------------------------------------------------------------------

WORKER_COPY_COLUMNS = ["worker_id", "id_number_enc", "id_number_masked", "name", "sex", "birth_date", "household_region",
                       "registered_at", "phone_enc", "phone_masked", "occupation_code", "brand_ids", "priority_groups",
                       "workstation_ids", "state", "version"]


def worker_rows(n: int, seed: int) -> list[tuple[Any, ...]]:
    """Rows shaped like the ledger's: real ciphertexts (a few thousand, reused: AES-GCM per row would dominate),
    distinct worker ids, masked numbers, brands, regions, states."""
    from laowu.domain.identity import id_number_for, mask_id_number
    from laowu.privacy import Privacy
    from laowu.settings import Settings
    from laowu.simulate import BRANDS

    cipher = Privacy(Settings()).cipher
    rng = random.Random(seed)
    regions = ["469005", "460106", "460107", "460202", "469001", "500101", "500229", "500242"]
    ids, phones = [], []
    for i in range(2_000):
        number = id_number_for(regions[i % len(regions)], date(1970 + i % 30, 1 + i % 9, 10 + i % 10), i % 1000)
        ids.append((cipher.encrypt(number, "id_number"), mask_id_number(number)))
        phones.append((cipher.encrypt(f"138{i:08d}", "phone"), f"138****{i % 10000:04d}"))
    states = ["registered"] * 6 + ["dispatched", "placed", "placed", "separated"]
    now = datetime.now(UTC)
    rows = []
    prefix = hashlib.sha256(str(seed).encode()).hexdigest()[:8]
    empty: list[Any] = []
    for i in range(n):
        enc, masked = ids[i % len(ids)]
        penc, pmasked = phones[(i * 7) % len(phones)]
        brand = BRANDS[i % len(BRANDS)]
        rows.append((f"w{prefix}{i:016x}", enc, masked, "测试人员", "M" if i % 2 else "F",
                     date(1970 + i % 35, 1 + i % 12, 1 + i % 28), regions[i % len(regions)],
                     now - timedelta(days=i % 365), penc, pmasked, brand.occupation_code, [brand.brand_id],
                     ["rural_low_income"] if i % 4 == 0 else empty, [f"ws-{regions[i % 8]}-01"],
                     states[rng.randrange(len(states))], 1))
    return rows


def registration_bodies(seed: int, count: int) -> list[dict[str, Any]]:
    """Valid registration bodies of new people (brands of the mixed stream, already applied)."""
    from benchmarks.streams import worker_id_fn
    from laowu.simulate import Generator, SimConfig

    gen = Generator(SimConfig(workers=count, seed=seed, total=count, lag=0, registration_share=1.0, malformed_rate=0),
                    worker_id_fn())
    gen.fillers = False
    out = [e.payload for e in gen.take(count + 14) if e.type == "worker.registered"]
    for body in out:
        body.pop("occurred_at", None)
    return out


# ---- output ----------------------------------------------------------------------------------------


def table(result: dict[str, Any]) -> str:
    rows = [
        ("kafka_raw_consume_per_s", "plain aiokafka, no work (broker/client limit)", None),
        ("pg_copy_rows_per_s", "COPY of ledger-shaped rows (database limit)", None),
        ("ledger_write_floor_events_per_s", "the mixed segment's rows, COPY + set updates (database only)", None),
        ("write_floor_postgres_cpu_us_per_event", "PostgreSQL CPU per event at that floor", None),
        ("naive_sink_per_s", "faust agent, one INSERT per event (steady state)", None),
        ("connect_jdbc_sink_per_s", "Kafka Connect + Debezium JDBC sink, upserts (steady state)", None),
        ("ledger_events_per_s", "ledger consumer, mixed stream, start → committed", None),
        ("dispatch_events_per_s", "ledger consumer, dispatch/placement/follow-up stream", None),
        ("ledger_registrations_per_s", "ledger consumer, registrations only", None),
        ("ledger_vs_naive", "ratio", ">= 3"),
        ("ledger_vs_connect_jdbc_sink", "ratio", ">= 0.25"),
        ("ledger_vs_kafka_raw", "ratio", None),
        ("ledger_vs_pg_copy", "ratio", None),
        ("ledger_vs_write_floor", "ratio", ">= 0.5"),
        ("api_ingest_per_s", "single POST /v1/workers, 64 clients, 1 uvicorn worker", None),
        ("api_batch_events_per_s", "/v1/events:batch, 1,000-event batches", ">= 20000"),
        ("api_batch_2_procs_events_per_s", "the same through two API processes", None),
        ("api_batch_2_procs_vs_1", "ratio", ">= 1.6"),
        ("worker_lookup_p50_ms", "GET /v1/workers/{id}, 8 in flight", None),
        ("worker_lookup_p99_ms", "", "<= 10"),
        ("stats_query_p99_ms", "GET /v1/stats/overview", None),
        ("worker_list_p99_ms", "GET /v1/workers, a sparse county's workstation and a province", None),
        ("matching_shortlist_p99_ms", "GET /v1/demands/{id}/shortlist, 50 of 1,000,000 workers", "<= 200"),
        ("stats_events_per_s", "faust statistics worker draining a backlog of ledger changes", None),
        ("freshness_p50_ms", "POST /v1/workers → figure changed on /v1/stats, under half the registration capacity",
         None),
        ("freshness_p99_ms", "", "<= 1000"),
        ("freshness_load_per_s", "the background load of that phase (registrations/s)", None),
        ("freshness_2000_p99_ms", "the same under 2,000 registrations/s", None),
    ]
    lines = [f"{'metric':<38}{'value':>14}  {'target':<10}{'what'}", "-" * 110]
    for key, what, target in rows:
        value = result.get(key)
        shown = "n/a" if value is None else f"{value:,.3f}" if isinstance(value, float) and value < 100 else f"{value:,.0f}"
        lines.append(f"{key:<38}{shown:>14}  {target or '':<10}{what}")
    lines.append("-" * 110)
    for name, mb in sorted(result.get("peak_rss_mb", {}).items()):
        lines.append(f"peak RSS {name:<29}{mb:>11,.0f} MB")
    for name, scaled in (("ledger replicas", result.get("ledger_scaling_per_s")),):
        if scaled:
            lines.append(f"{name} → events/s: " + ", ".join(f"{k}: {v:,.0f}" for k, v in scaled.items()))
    verdict = {True: "met", False: "MISSED", None: "not measured"}
    lines.append("targets: " + ", ".join(f"{k} {t['target']}: {verdict[t['met']]}"
                                         for k, t in result.get("targets", {}).items()))
    if result.get("failed_phases"):
        lines.append(f"FAILED PHASES: {', '.join(result['failed_phases'])} (see the notes)")
    lines.append(f"load average start {result['machine']['load_at_start']} end {result['machine'].get('load_at_end')}; "
                 f"total {result.get('seconds_total')}s")
    for note in result.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines)


def main() -> int:
    """Always prints the table and the JSON: a phase that fails is named in ``failed_phases`` and the notes, and
    the figures measured before and after it are kept (a busy machine once ended the run with no JSON at all)."""
    logging.basicConfig(level=logging.WARNING)
    bench = Bench()
    result = asyncio.run(bench.run())
    if bench.only in ("", "freshness"):
        asyncio.run(bench.step("freshness", freshness_phases(result)))
        bench.ratios()
    result["failed_phases"] = bench.failed
    print(table(result))
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0


async def freshness_phases(result: dict[str, Any]) -> None:
    """Freshness needs the whole pipeline (API → ledger → faust → stats API) under steady load: its own stack.
    Loaded twice: 2,000 registrations/s, then half the registration capacity this run's ledger measured (the
    headline, issue 22)."""
    from benchmarks import freshness

    # LAOWU_BENCH_REGISTRATION_CAPACITY: a capacity measured by an earlier run, for LAOWU_BENCH_ONLY=freshness
    capacity = result.get("ledger_registrations_per_s") or knob("LAOWU_BENCH_REGISTRATION_CAPACITY", 0)
    rates = [2000] + ([round(capacity / 2)] if capacity else [])
    if not capacity:
        result["notes"].append("freshness: no registration capacity measured; only the 2,000/s phase ran")
    fresh = await freshness.main_async(rates)
    result["detail"]["freshness"] = fresh
    for key in ("stats_events_per_s",):
        result[key] = fresh.get(key)
    phases = fresh.get("loaded_phases", [])
    for phase in phases:
        if phase.get("saturated"):
            result["notes"].append(f"freshness under {phase['background_target_per_s']}/s: saturated "
                                   f"({phase['saturated']}); its p99 is a lower bound")
    if capacity and len(phases) == 2:
        result["freshness_2000_p99_ms"] = phases[0]["p99_ms"]
        result["freshness_p50_ms"], result["freshness_p99_ms"] = phases[1]["p50_ms"], phases[1]["p99_ms"]
        result["freshness_load_per_s"] = phases[1]["background_events_per_s"]
    elif phases:
        result["freshness_2000_p99_ms"] = phases[0]["p99_ms"]


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
