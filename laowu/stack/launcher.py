"""The local Laowu system: ``laowu up / down / status`` and the test fixtures' infra.

Everything lives under ``settings.home`` (default ``.laowu/``)::

    kafka/             broker data, server.properties, server.log
                       (a cluster, ``LAOWU_KAFKA_BROKERS=3``: kafka/node-1 .. node-3, one per node)
    postgres/data      PostgreSQL cluster
    logs/*.log         stdout+stderr of every process, supervisor.log
    run/state.json     what runs where (written by the supervisor)
    run/ports.json     ports chosen once, reused so DATABASE_URL stays stable
    run/supervisor.lock

``up`` starts Kafka and PostgreSQL (unless ``KAFKA_BOOTSTRAP`` / ``DATABASE_URL``
point elsewhere), applies migrations, creates the catalogue's topics, then our
services from :data:`SERVICES`, and supervises them all until told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg
import httpx

from laowu import kafka_security
from laowu.kafka_security import KafkaSecurity
from laowu.settings import Settings
from laowu.stack.kafka import KafkaNode, TopicSpec, create_topics, ensure_kafka_jars, is_kafka_process, new_cluster_id
from laowu.stack.ports import free_port, port_open
from laowu.stack.postgres import PostgresNode
from laowu.stack.processes import child_env, laowu_argv, spawn, stop_process
from laowu.stack.supervisor import (
    ProcessSpec,
    ReadyCheck,
    Supervisor,
    pid_alive,
    pid_cmdline,
    spawn_spec,
    write_json_atomic,
)
from laowu.store.migrate import afterwards as migration_afterwards
from laowu.store.migrate import migrate as apply_migrations
from schemas.topics import CATALOGUE

__all__ = [
    "SERVICES",
    "InfraHandle",
    "Layout",
    "Stack",
    "provision",
    "select_services",
    "start_infra",
]

log = logging.getLogger("laowu.launcher")

POM = Path(__file__).resolve().parents[2] / "deploy" / "local" / "pom.xml"

#: Our supervised services: process name -> ``laowu`` subcommand.  One line per
#: service; each runs as ``python -m laowu.cli <args>`` with the stack's env.
SERVICES: dict[str, tuple[str, ...]] = {
    "api": ("api",),
    # The outbox relay and sweeper run beside the consumer, not in it: on two cores that is +18 % (mixed
    # stream) to +55 % (registrations) ledger throughput in back-to-back `make bench` runs.
    "ledger-consumer": ("consume", "ledger", "--no-relay"),
    "relay": ("consume", "relay"),
    "streams": ("streams", "worker"),
}

KAFKA_READY_S = 90.0
#: A quorum's nodes wait for each other (no node answers before a majority of voters runs), three JVMs starting
#: at once on a small machine: more time, still bounded.
KAFKA_CLUSTER_READY_S = 240.0
POSTGRES_READY_S = 60.0
SERVICE_READY_S = 60.0
DETACH_TIMEOUT_S = 120.0
DOWN_TIMEOUT_S = 90.0


# --------------------------------------------------------------------------
# layout, ports, service selection
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Paths under the stack's home directory."""

    home: Path

    @classmethod
    def of(cls, home: Path) -> Layout:
        return cls(Path(home).expanduser().resolve())

    @property
    def kafka_dir(self) -> Path:
        return self.home / "kafka"

    def kafka_node_dir(self, node_id: int, nodes: int) -> Path:
        """One node's data: ``kafka/`` itself for the single node (as before clusters), ``kafka/node-N`` in one."""
        return self.kafka_dir if nodes == 1 else self.kafka_dir / f"node-{node_id}"

    @property
    def pg_data(self) -> Path:
        return self.home / "postgres" / "data"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def run(self) -> Path:
        return self.home / "run"

    @property
    def state_file(self) -> Path:
        return self.run / "state.json"

    @property
    def ports_file(self) -> Path:
        return self.run / "ports.json"

    @property
    def lock_file(self) -> Path:
        return self.run / "supervisor.lock"

    @property
    def supervisor_log(self) -> Path:
        return self.logs / "supervisor.log"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def make_dirs(self) -> None:
        for path in (self.logs, self.run):
            path.mkdir(parents=True, exist_ok=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def resolve_ports(path: Path, wanted: Mapping[str, int]) -> dict[str, int]:
    """Ports for ``wanted`` (name -> configured port, 0 = choose one).

    A configured port wins; otherwise the port stored in ``path`` by an earlier
    start is reused (so DATABASE_URL does not change between runs); otherwise a
    free one is picked.  The result is stored back.
    """
    stored = _read_json(path) or {}
    chosen: dict[str, int] = {}
    for name, configured in wanted.items():
        port = configured or int(stored.get(name) or 0)
        while not port or port in chosen.values():
            port = free_port()
        chosen[name] = port
    merged = {**stored, **chosen}
    if merged != stored:
        write_json_atomic(path, merged)
    return chosen


def select_services(names: Iterable[str] | None = None) -> list[str]:
    """Which of :data:`SERVICES` to run.

    ``names`` wins; else env ``LAOWU_SERVICES`` (comma list, ``none`` for
    infrastructure only, unset/``all`` for every service).
    """
    if names is None:
        raw = os.environ.get("LAOWU_SERVICES", "").strip()
        if raw.lower() in ("", "all"):
            return list(SERVICES)
        if raw.lower() == "none":
            return []
        names = [n.strip() for n in raw.split(",") if n.strip()]
    selected = list(names)
    unknown = [n for n in selected if n not in SERVICES]
    if unknown:
        raise ValueError(f"unknown service(s) {unknown}; known: {', '.join(SERVICES)}")
    return selected


# --------------------------------------------------------------------------
# process specs
# --------------------------------------------------------------------------


def kafka_process_name(node_id: int, nodes: int) -> str:
    """``kafka`` for the single node (as before clusters), ``kafka-1`` .. ``kafka-N`` in a cluster."""
    return "kafka" if nodes == 1 else f"kafka-{node_id}"


def _kafka_port_names(node_id: int) -> tuple[str, str]:
    # Node 1 keeps the single node's names, so LAOWU_KAFKA_PORT and a stored port still apply to it.
    return ("kafka", "kafka_controller") if node_id == 1 else (f"kafka_{node_id}", f"kafka_controller_{node_id}")


def kafka_specs(layout: Layout, settings: Settings, ports: Mapping[str, int]) -> list[tuple[ProcessSpec, KafkaNode]]:
    """Jars, config and formatted storage for our ``settings.kafka_brokers`` nodes (blocking: may run mvn once).

    More than one node: a static quorum of combined broker+controller nodes, each with its own data directory and
    ports, formatted with one shared cluster id; the brokers' internal topics get the replication of ours."""
    lib = ensure_kafka_jars(settings.kafka_cache, POM)
    count = settings.kafka_brokers
    voters = {n: ports[_kafka_port_names(n)[1]] for n in range(1, count + 1)} if count > 1 else {}
    cluster_id = _quorum_cluster_id(layout) if count > 1 else ""
    out = []
    for node_id in range(1, count + 1):
        port_name, controller_name = _kafka_port_names(node_id)
        node = KafkaNode(layout.kafka_node_dir(node_id, count), port=ports[port_name],
                         controller_port=ports[controller_name], lib_dir=lib, heap=settings.kafka_heap,
                         node_id=node_id, voters=voters, replication=settings.kafka_replication,
                         min_insync=settings.kafka_min_insync, preset_cluster_id=cluster_id,
                         **local_kafka_auth(settings))
        node.write_config()
        node.format_storage()
        timeout = KAFKA_READY_S if count == 1 else KAFKA_CLUSTER_READY_S

        async def ready(pid: int, node: KafkaNode = node, timeout: float = timeout) -> None:
            await node.wait_ready(timeout=timeout, pid=pid)

        name = kafka_process_name(node_id, count)
        out.append((ProcessSpec(name, node.command(), layout.log(name), ready=ready, prepare=node.write_config), node))
    return out


def _quorum_cluster_id(layout: Layout) -> str:
    """The id a cluster's nodes are all formatted with: kept in ``kafka/quorum.id`` (a node already formatted
    keeps the id in its own meta.properties, which wins)."""
    path = layout.kafka_dir / "quorum.id"
    with contextlib.suppress(OSError):
        if cid := path.read_text().strip():
            return cid
    cid = new_cluster_id()
    layout.kafka_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(cid + "\n")
    return cid


def catalogue_specs(settings: Settings) -> list[TopicSpec]:
    """The catalogue's topics as ``settings`` wants them: its prefix, and one replica per broker (up to 3) with
    ``min.insync.replicas`` of 2 from three replicas (``Settings.kafka_replication`` / ``kafka_min_insync``)."""
    insync = {"min.insync.replicas": str(settings.kafka_min_insync)}
    return [TopicSpec(settings.topic(t.name), t.partitions, {**t.kafka_config(), **insync}, settings.kafka_replication)
            for t in CATALOGUE]


def local_kafka_auth(settings: Settings) -> dict[str, Any]:
    """The local broker speaks what our clients are configured to speak: with ``KAFKA_SECURITY_PROTOCOL=
    SASL_PLAINTEXT`` it gets a SCRAM listener holding the configured user, so the whole stack (and a test)
    runs authenticated. TLS needs certificates the local stack does not make: point KAFKA_BOOTSTRAP at a
    broker that has them instead."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    if protocol != "SASL_PLAINTEXT":
        raise RuntimeError(f"the local Kafka speaks PLAINTEXT or SASL_PLAINTEXT, not KAFKA_SECURITY_PROTOCOL={protocol} "
                           "(set KAFKA_BOOTSTRAP to a broker with TLS)")
    security = KafkaSecurity.from_settings(settings)
    assert security.username and security.password  # Settings refuses SASL without them
    return {"scram_users": {security.username: security.password}, "scram_mechanism": security.mechanism}


def postgres_spec(layout: Layout, port: int) -> tuple[ProcessSpec, PostgresNode]:
    """An initialised cluster (blocking: initdb on first use)."""
    node = PostgresNode(layout.pg_data, port=port)
    node.init()

    def prepare() -> None:
        node.init()
        node.clear_stale_pidfile()

    async def ready(pid: int) -> None:
        await node.wait_ready(timeout=POSTGRES_READY_S, pid=pid)

    spec = ProcessSpec(
        "postgres", node.command(), layout.log("postgres"), popen_kwargs=node.popen_kwargs(),
        ready=ready, prepare=prepare, stop_signal=signal.SIGINT,  # fast shutdown
    )
    return spec, node


def http_ready(url: str, timeout: float = SERVICE_READY_S) -> ReadyCheck:
    """Readiness = ``GET url`` answers 200 while the process lives."""

    async def ready(pid: int) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not pid_alive(pid):
                    raise RuntimeError(f"pid {pid} exited before {url} answered 200 (last: {last!r})")
                try:
                    resp = await client.get(url)
                    if resp.status_code == 200:
                        return
                    last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                except httpx.HTTPError as exc:
                    last = exc
                await asyncio.sleep(0.25)
        raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f}s (last: {last!r})")

    return ready


def service_spec(name: str, layout: Layout, env: dict[str, str], api_url: str | None,
                 metrics_port: int = 0) -> ProcessSpec:
    argv = laowu_argv(*SERVICES[name])
    if metrics_port:  # the API serves its metrics at /metrics; the others on a port of their own
        env = {**env, "LAOWU_METRICS_PORT": str(metrics_port)}
    ready = http_ready(f"{api_url}/readyz") if name == "api" and api_url else None
    return ProcessSpec(name, argv, layout.log(name), env=env, ready=ready)


def _needed_ports(settings: Settings) -> dict[str, int]:
    wanted: dict[str, int] = {}
    if not settings.kafka_bootstrap:
        wanted |= {"kafka": settings.kafka_port, "kafka_controller": 0}
        for node_id in range(2, settings.kafka_brokers + 1):
            wanted |= dict.fromkeys(_kafka_port_names(node_id), 0)
    if not settings.database_url:
        wanted["postgres"] = settings.pg_port
    return wanted


def _check_ports_free(ports: Mapping[str, int], settings: Settings, services: list[str]) -> None:
    """Fail early and clearly instead of letting a child crash-loop on a bind error."""
    busy = {name: port for name, port in ports.items() if port_open("127.0.0.1", port)}
    if "api" in services and port_open(settings.api_host, settings.api_port):
        busy["api"] = settings.api_port
    if busy:
        what = ", ".join(f"{n} port {p}" for n, p in busy.items())
        raise RuntimeError(
            f"already in use by another process: {what} (set LAOWU_API_PORT / LAOWU_KAFKA_PORT / "
            "LAOWU_PG_PORT, or free the port)"
        )


# --------------------------------------------------------------------------
# probes (used by `up --detach` to confirm the stack answers)
# --------------------------------------------------------------------------


async def kafka_answers(bootstrap: str, security: KafkaSecurity) -> bool:
    admin = kafka_security.admin(security, bootstrap=bootstrap, request_timeout_ms=5000)
    try:
        await asyncio.wait_for(admin.start(), 10)
        info = await asyncio.wait_for(admin.describe_cluster(), 10)
        return bool(info.get("brokers"))
    except Exception:  # a probe answers yes or no
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def postgres_answers(dsn: str) -> bool:
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except Exception:
        return False
    try:
        return bool(await conn.fetchval("SELECT 1") == 1)
    except Exception:
        return False
    finally:
        await conn.close()


async def http_answers(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


async def stack_answers(state: Mapping[str, Any], security: KafkaSecurity) -> dict[str, bool]:
    """Kafka metadata, ``SELECT 1`` and ``/readyz`` (each only when configured)."""
    checks: dict[str, Any] = {}
    if state.get("kafka_bootstrap"):
        checks["kafka"] = kafka_answers(state["kafka_bootstrap"], security)
    if state.get("database_url"):
        checks["postgres"] = postgres_answers(state["database_url"])
    if state.get("api_url"):
        checks["api"] = http_answers(f"{state['api_url']}/readyz")
    results = await asyncio.gather(*checks.values())
    return dict(zip(checks, results, strict=True))


# --------------------------------------------------------------------------
# infra for test fixtures
# --------------------------------------------------------------------------


@dataclass
class InfraHandle:
    """Kafka and PostgreSQL started by :func:`start_infra`; ``stop()`` ends them.

    ``kafka`` / ``postgres`` are None when an external server was used instead. ``kafka`` is the first node;
    ``kafka_nodes`` all of them by process name (``kafka``, or ``kafka-1`` .. ``kafka-N`` in a cluster).
    """

    bootstrap: str
    dsn: str
    home: Path
    kafka: KafkaNode | None = None
    postgres: PostgresNode | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    specs: dict[str, ProcessSpec] = field(default_factory=dict)
    kafka_nodes: dict[str, KafkaNode] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop our processes in reverse start order (blocking, idempotent)."""
        for name in reversed(list(self.processes)):
            spec = self.specs[name]
            stop_process(self.processes[name], spec.stop_signal, spec.stop_timeout)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    def running(self, name: str) -> bool:
        return self.processes[name].poll() is None

    def kill(self, name: str, hard: bool = True) -> None:
        """For fault tests: ``kill -9`` the ``kafka`` or ``postgres`` server, or (``hard=False``) stop it as a
        restart would (PostgreSQL's fast shutdown cuts sessions mid-transaction). Blocking."""
        spec = self.specs[name]
        stop_process(self.processes[name], signal.SIGKILL if hard else spec.stop_signal, spec.stop_timeout)

    async def start(self, name: str) -> None:
        """Start it again on the same ports and data, and return once it answers. Call it from the thread that
        started the infrastructure (``die_with_parent`` binds a child to that thread)."""
        spec = self.specs[name]
        if spec.prepare is not None:
            await asyncio.to_thread(spec.prepare)
        self.processes[name] = proc = spawn_spec(spec)
        if spec.ready is not None:
            await spec.ready(proc.pid)

    async def restart(self, name: str, *, kill: bool = True) -> None:
        """:meth:`kill` (``kill -9`` by default) then :meth:`start`."""
        await asyncio.to_thread(self.kill, name, kill)
        await self.start(name)


async def start_infra(
    home: Path, settings: Settings, *, migrate: bool = True, topics: bool = False, die_with_parent: bool = False
) -> InfraHandle:
    """Start only Kafka and PostgreSQL under ``home`` (no supervisor loop), wait until ready: the test
    fixtures' and the benches' infrastructure, the same nodes ``laowu up`` runs.

    ``settings.kafka_bootstrap`` / ``settings.database_url``, when set, are used
    instead of starting that server.  ``migrate`` applies the SQL migrations;
    ``topics`` creates the catalogue's topics (with ``settings.topic_prefix``).
    ``die_with_parent``: the servers get SIGTERM when the calling thread dies (a
    killed pytest leaves nothing running).
    """
    layout = Layout.of(home)
    layout.make_dirs()
    ports = resolve_ports(layout.ports_file, _needed_ports(settings))
    _check_ports_free(ports, settings, [])
    bootstrap, dsn = settings.kafka_bootstrap, settings.database_url
    specs: list[ProcessSpec] = []
    knodes: dict[str, KafkaNode] = {}
    pnode: PostgresNode | None = None
    if not bootstrap:
        for spec, kafka in await asyncio.to_thread(kafka_specs, layout, settings, ports):
            spec.die_with_parent = die_with_parent
            specs.append(spec)
            knodes[spec.name] = kafka
        bootstrap = ",".join(k.bootstrap for k in knodes.values())
    if not dsn:
        spec, postgres = await asyncio.to_thread(postgres_spec, layout, ports["postgres"])
        spec.die_with_parent = die_with_parent
        specs.append(spec)
        dsn, pnode = postgres.url(), postgres
    handle = InfraHandle(
        bootstrap=bootstrap, dsn=dsn, home=layout.home, kafka=next(iter(knodes.values()), None), postgres=pnode,
        specs={s.name: s for s in specs}, kafka_nodes=knodes,
    )
    try:
        for spec in specs:
            if spec.prepare is not None:
                await asyncio.to_thread(spec.prepare)
            handle.processes[spec.name] = spawn_spec(spec)
        await asyncio.gather(
            *(s.ready(handle.processes[s.name].pid) for s in specs if s.ready is not None)
        )
        await provision(settings, bootstrap, dsn, migrate=migrate, topics=topics)
    except BaseException:
        await handle.astop()
        raise
    return handle


async def provision(settings: Settings, bootstrap: str, dsn: str | None, *, migrate: bool, topics: bool) -> None:
    """Apply the migrations to ``dsn`` and/or create the catalogue's topics (``settings.topic_prefix``)."""
    if migrate:
        assert dsn, "migrations need a database"
        applied = await apply_migrations(dsn)
        if applied:
            log.info("applied migrations: %s", ", ".join(applied))
        for todo in await migration_afterwards(dsn, applied):
            log.warning("after the migrations: %s", todo)
    if topics:
        await create_topics(bootstrap, catalogue_specs(settings), KafkaSecurity.from_settings(settings))


# --------------------------------------------------------------------------
# the stack
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _exclusive(lock_file: Path) -> Iterator[IO[str] | None]:
    """Hold the supervisor lock for the block; None when another process holds it."""
    fh = lock_file.open("a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield fh
    finally:
        fh.close()


def _tail(path: Path, offset: int = 0, lines: int = 40) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:])


def format_summary(state: Mapping[str, Any], *, foreground: bool) -> str:
    api = state.get("api_url")
    rows = [
        ("Kafka bootstrap", state.get("kafka_bootstrap")),
        ("DATABASE_URL", state.get("database_url")),
        ("API", api),
        ("API docs", f"{api}/docs" if api else None),
        ("Console", f"{api}/console/" if api else None),
        ("Dashboard", f"{api}/dashboard" if api else None),
        ("Logs", state.get("log_dir")),
    ]
    lines = [f"Laowu is up (supervisor pid {state.get('supervisor_pid')})"]
    lines += [f"  {label:<16} {value}" for label, value in rows if value]
    accounts = state.get("demo_accounts") or []
    if accounts:
        lines.append(f"  {'Demo accounts':<16} password {state.get('demo_password')} for each:")
        lines += [f"  {'':<16}   {a['username']:<15} {a['role']:<12} {a['org']}" + (f" ({a['region']})" if a["region"] else "")
                  for a in accounts]
    for name, url in (state.get("metrics_urls") or {}).items():
        lines.append(f"  {'Metrics ' + name:<16} {url}")
    names = ", ".join(f"{p['name']} (pid {p['pid']})" for p in state.get("processes", []))
    lines.append(f"  {'Processes':<16} {names or '-'}")
    lines.append("Press Ctrl-C to stop." if foreground else "Stop it with `laowu down`; see `laowu status`.")
    return "\n".join(lines)


class Stack:
    """The local system under ``settings.home``."""

    def __init__(self, settings: Settings, services: Iterable[str] | None = None, demo: bool = False) -> None:
        self.demo = demo
        self.settings = settings
        self.layout = Layout.of(settings.home)
        self._requested = None if services is None else list(services)

    @functools.cached_property
    def services(self) -> list[str]:
        """Selected lazily: a bad LAOWU_SERVICES must not break `down` or `status`."""
        return select_services(self._requested)

    # ---- reading the state ---------------------------------------------

    def read_state(self) -> dict[str, Any] | None:
        return _read_json(self.layout.state_file)

    def live_supervisor_pid(self, state: Mapping[str, Any] | None = None) -> int | None:
        """The supervisor pid from state.json when it is alive and one of ours."""
        state = self.read_state() if state is None else state
        pid = (state or {}).get("supervisor_pid")
        if isinstance(pid, int) and pid_alive(pid) and any("laowu" in a for a in pid_cmdline(pid)):
            return pid
        return None

    def _postgres_node(self) -> PostgresNode:
        port = int((_read_json(self.layout.ports_file) or {}).get("postgres") or 0)
        return PostgresNode(self.layout.pg_data, port=port)

    def _looks_ours(self, name: str, pid: int) -> bool:
        """Guard against pid reuse before signalling a pid from a (stale) state file."""
        if not pid_alive(pid):
            return False
        if name == "kafka":
            return is_kafka_process(pid, self.layout.kafka_dir / "server.properties")
        if name.startswith("kafka-"):  # a cluster's node
            return is_kafka_process(pid, self.layout.kafka_dir / f"node-{name.removeprefix('kafka-')}" / "server.properties")
        if name == "postgres":
            node = self._postgres_node()
            return node.postmaster_pid() == pid and node.is_running()
        return any("laowu.cli" in a for a in pid_cmdline(pid))

    def _live_children(self, state: Mapping[str, Any] | None) -> list[tuple[str, int]]:
        found = [
            (p["name"], p["pid"])
            for p in (state or {}).get("processes", [])
            if isinstance(p.get("pid"), int) and self._looks_ours(p["name"], p["pid"])
        ]
        node = self._postgres_node()
        pg = node.postmaster_pid()
        if pg is not None and node.is_running() and ("postgres", pg) not in found:
            found.append(("postgres", pg))  # state file lost, server still up
        return found

    @staticmethod
    def _stop_signal(name: str) -> int:
        return signal.SIGINT if name == "postgres" else signal.SIGTERM

    def _stop_orphans(self, children: list[tuple[str, int]]) -> None:
        """Children of a supervisor that was killed -9: stop them, last started first."""
        for name, pid in reversed(children):
            log.warning("stopping leftover %s (pid %d) of a previous run", name, pid)
            stop_process(pid, self._stop_signal(name))

    # ---- up --------------------------------------------------------------

    def _services_ok(self) -> bool:
        try:
            self.services  # noqa: B018 - validate LAOWU_SERVICES before starting anything
        except ValueError as exc:
            print(f"laowu up: {exc}", file=sys.stderr)
            return False
        return True

    def _already_running(self, pid: int | None) -> int:
        print(f"Laowu is already running (supervisor pid {pid}); see `laowu status`")
        return 0

    def up(self) -> int:
        """Run the stack in the foreground until SIGINT/SIGTERM; 0 on a clean stop."""
        if not self._services_ok():
            return 2
        self.layout.make_dirs()
        pid = self.live_supervisor_pid()
        if pid:
            return self._already_running(pid)
        with _exclusive(self.layout.lock_file) as lock:
            if lock is None:
                return self._already_running(self._lock_holder())
            self._log_to_file()
            self._stop_orphans(self._live_children(self.read_state()))
            return asyncio.run(self._supervise())

    def _lock_holder(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int(self.layout.lock_file.read_text().split()[0])
        return None

    def _log_to_file(self) -> None:
        """Also log to supervisor.log, unless stderr already is that file (detached)."""
        path = self.layout.supervisor_log
        with contextlib.suppress(OSError):
            st, err = path.stat(), os.fstat(2)
            if (st.st_dev, st.st_ino) == (err.st_dev, err.st_ino):
                return
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname).1s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)

    async def _supervise(self) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        sup = Supervisor(self.layout.state_file, info={"log_dir": str(self.layout.logs), "home": str(self.layout.home)})
        sup.write_state()
        startup = asyncio.create_task(self._start(sup))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({startup, stopped}, return_when=asyncio.FIRST_COMPLETED)
        code = 0
        if startup.done() and startup.exception() is None:
            sup.set_phase("running")
            print(format_summary(sup.state(), foreground=True), flush=True)
            await stopped
            log.info("stop requested")
        elif startup.done():
            exc = startup.exception()
            expected = isinstance(exc, RuntimeError | TimeoutError | OSError)  # message says it all
            log.error("start failed: %s", exc, exc_info=None if expected else exc)
            code = 1
        else:
            log.info("stop requested during start")
            startup.cancel()
            with contextlib.suppress(BaseException):
                await startup
        stopped.cancel()
        sup.set_phase("stopping")
        await sup.stop()
        sup.remove_state()
        log.info("Laowu stopped")
        return code

    async def _start(self, sup: Supervisor) -> None:
        """Infra first (concurrently), then migrations and topics, then our services."""
        s = self.settings
        ports = resolve_ports(self.layout.ports_file, _needed_ports(s))
        _check_ports_free(ports, s, self.services)
        # chosen afresh at every start: nothing points at them but the summary (and a scraper set up from it)
        metrics_ports: dict[str, int] = {}
        for name in (n for n in self.services if n != "api"):
            while (port := free_port()) in (*ports.values(), *metrics_ports.values()):
                pass
            metrics_ports[name] = port
        bootstrap, dsn = s.kafka_bootstrap, s.database_url
        infra: list[str] = []
        if not bootstrap:
            nodes = await asyncio.to_thread(kafka_specs, self.layout, s, ports)
            for spec, _ in nodes:
                sup.add(spec)
                infra.append(spec.name)
            bootstrap = ",".join(node.bootstrap for _, node in nodes)
        if not dsn:
            spec, pnode = await asyncio.to_thread(postgres_spec, self.layout, ports["postgres"])
            sup.add(spec)
            infra.append(spec.name)
            dsn = pnode.url()
        api_url = f"http://{s.api_host}:{s.api_port}" if "api" in self.services else None
        metrics_urls = {name: f"http://127.0.0.1:{port}/metrics" for name, port in metrics_ports.items()}
        sup.info.update(kafka_bootstrap=bootstrap, database_url=dsn, api_url=api_url, metrics_urls=metrics_urls)
        env = self._service_env(bootstrap, dsn)
        for name in self.services:
            sup.add(service_spec(name, self.layout, env, api_url, metrics_ports.get(name, 0)))
        await sup.start(infra)
        await provision(s, bootstrap, dsn, migrate=True, topics=True)
        await sup.start(self.services)
        if self.demo and api_url:
            await self._load_demo(api_url, sup)

    async def _load_demo(self, api_url: str, sup: Supervisor) -> None:
        from laowu.demo import ACCOUNTS, DEMO_PASSWORD, load_demo

        try:
            await load_demo(api_url, self.settings)
        except Exception as exc:  # the stack is fine without demo data; say why it is missing
            log.warning("demo data not loaded: %s", exc)
        # printed with the URLs (format_summary), by `up` and `up --detach` alike
        sup.info.update(demo_password=DEMO_PASSWORD, demo_accounts=[
            {"username": u, "role": role, "org": org, "region": region} for u, _, role, org, region in ACCOUNTS])

    def _service_env(self, bootstrap: str, dsn: str) -> dict[str, str]:
        """Our services run with the stack's own settings (whether they came from the environment or from
        arguments), pointed at its broker and database and its home."""
        world = self.settings.model_copy(update={"kafka_bootstrap": bootstrap, "database_url": dsn,
                                                 "home": self.layout.home})
        return child_env(world, inherit=True)

    def up_detached(self, timeout: float = DETACH_TIMEOUT_S) -> int:
        """Start ``laowu up`` in the background; return once everything answers."""
        if not self._services_ok():
            return 2
        self.layout.make_dirs()
        pid = self.live_supervisor_pid()
        if pid:
            return self._already_running(pid)
        log_path = self.layout.supervisor_log
        offset = log_path.stat().st_size if log_path.exists() else 0
        extra = {"LAOWU_HOME": str(self.layout.home), "LAOWU_KAFKA_BROKERS": str(self.settings.kafka_brokers)}
        if self._requested is not None:
            extra["LAOWU_SERVICES"] = ",".join(self.services) or "none"
        proc = spawn(laowu_argv("up", *(["--demo"] if self.demo else [])), log_path, name="supervisor",
                     env=child_env(None, extra, inherit=True))
        try:
            return self._await_detached(proc, offset, timeout)
        except KeyboardInterrupt:
            print(f"Still starting in the background (supervisor pid {proc.pid}); `laowu down` stops it.")
            return 130

    def _await_detached(self, proc: subprocess.Popen[bytes], offset: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        answers: dict[str, bool] = {}
        while time.monotonic() < deadline:
            code = proc.poll()
            if code is not None:
                other = self.live_supervisor_pid()
                if code == 0 and other:
                    return self._already_running(other)
                print(f"laowu up failed (exit code {code}); {self.layout.supervisor_log}:", file=sys.stderr)
                print(_tail(self.layout.supervisor_log, offset), file=sys.stderr)
                return 1
            state = self.read_state()
            if state and state.get("supervisor_pid") == proc.pid and state.get("phase") == "running":
                answers = asyncio.run(stack_answers(state, KafkaSecurity.from_settings(self.settings)))
                if all(answers.values()):
                    print(format_summary(state, foreground=False))
                    return 0
            time.sleep(0.25)
        print(
            f"laowu up did not become ready within {timeout:.0f}s (answers: {answers}); stopping it. "
            f"{self.layout.supervisor_log}:",
            file=sys.stderr,
        )
        print(_tail(self.layout.supervisor_log, offset), file=sys.stderr)
        stop_process(proc, signal.SIGTERM, DOWN_TIMEOUT_S)
        return 1

    # ---- down ------------------------------------------------------------

    def down(self, timeout: float = DOWN_TIMEOUT_S) -> int:
        """Stop the supervisor and every child; SIGKILL what outlives ``timeout``."""
        state = self.read_state()
        sup = self.live_supervisor_pid(state)
        children = self._live_children(state)
        if not sup and not children:
            print("Laowu is not running")
            self._remove_stale_state()
            return 0
        if sup:  # it stops its children, last started first, then exits; killed if it takes longer than timeout
            stop_process(sup, signal.SIGTERM, timeout)
        self._stop_orphans([(n, p) for n, p in children if self._looks_ours(n, p)])
        self._remove_stale_state()
        stopped = ([f"supervisor (pid {sup})"] if sup else []) + [f"{n} (pid {p})" for n, p in children]
        print("Stopped " + ", ".join(stopped))
        return 0

    def _remove_stale_state(self) -> None:
        if self.live_supervisor_pid() is None:
            with contextlib.suppress(FileNotFoundError):
                self.layout.state_file.unlink()

    # ---- status ----------------------------------------------------------

    def status_document(self) -> dict[str, Any] | None:
        """``laowu status --json``'s document; None when not running."""
        state = self.read_state()
        if not self.live_supervisor_pid(state):
            return None
        assert state is not None
        processes = [{**p, "alive": pid_alive(p.get("pid"))} for p in state.get("processes", [])]
        return {
            "kafka_bootstrap": state.get("kafka_bootstrap"),
            "database_url": state.get("database_url"),
            "api_url": state.get("api_url"),
            "processes": processes,
        }

    def status(self, as_json: bool = False) -> int:
        """Print what runs; exit code 0 when running, 3 when not."""
        doc = self.status_document()
        if as_json:
            empty: dict[str, Any] = {"kafka_bootstrap": None, "database_url": None, "api_url": None, "processes": []}
            print(json.dumps(doc or empty, indent=2))
            return 0 if doc else 3
        if doc is None:
            leftovers = self._live_children(self.read_state())
            extra = ", ".join(f"{n} pid {p}" for n, p in leftovers)
            print(f"Laowu is not running (leftover processes: {extra}; `laowu down` stops them)" if extra
                  else "Laowu is not running")
            return 3
        state = self.read_state() or {}
        print(f"Laowu is {state.get('phase', 'running')} (supervisor pid {state.get('supervisor_pid')}, "
              f"since {state.get('started_at')})")
        print(f"{'NAME':<18}{'PID':>8}  {'ALIVE':<6}{'RESTARTS':>8}  {'STATUS':<11}LOG")
        for p in doc["processes"]:
            alive = "yes" if p["alive"] else "no"
            print(f"{p['name']:<18}{p['pid'] or '-':>8}  {alive:<6}{p['restarts']:>8}  {p['status']:<11}{p['log']}")
        api = doc["api_url"]
        for label, value in (
            ("Kafka bootstrap", doc["kafka_bootstrap"]),
            ("DATABASE_URL", doc["database_url"]),
            ("API", api),
            ("API docs", f"{api}/docs" if api else None),
            ("Dashboard", f"{api}/dashboard" if api else None),
        ):
            if value:
                print(f"{label:<18}{value}")
        return 0
