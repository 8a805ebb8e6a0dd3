"""Apache Kafka (KRaft, combined broker+controller) for local runs: one node, or a quorum of several.

This module does not supervise anything.  It

* fetches the official broker jars from Maven Central once
  (:func:`ensure_kafka_jars`, driven by ``deploy/local/pom.xml``),
* writes ``server.properties`` / ``log4j2.properties`` and formats the storage
  directory once (:class:`KafkaNode`),
* produces the ``java`` argv that runs the broker in the foreground
  (:meth:`KafkaNode.command`), which the supervisor runs, restarts and kills,
* checks health (:meth:`KafkaNode.wait_ready`) and creates topics
  (:func:`create_topics`).

Typical use::

    lib = ensure_kafka_jars(Path("~/.cache/laowu/kafka").expanduser(), pom)
    node = KafkaNode(data_dir, port=9092, controller_port=9093, lib_dir=lib)
    node.write_config()
    node.format_storage()
    proc = spawn(node.command(), log_file)          # laowu.stack.processes
    await node.wait_ready(pid=proc.pid)

With ``scram_users`` the client listener is ``SASL_PLAINTEXT`` with SCRAM (the
production shape's authentication, without certificates); see
:meth:`KafkaNode.server_properties`.

A cluster (``laowu up --brokers 3``) is several nodes on 127.0.0.1 with their own
data directories and ports, each given the same ``voters`` (node id -> controller
port: a static ``controller.quorum.voters``) and the same ``preset_cluster_id``;
they are formatted without ``--standalone`` and must be started together (none
answers before a majority of the voters runs).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import NewTopic  # type: ignore[import-untyped]
from aiokafka.errors import TopicAlreadyExistsError, for_code  # type: ignore[import-untyped]

from laowu import kafka_security
from laowu.kafka_security import PLAINTEXT, KafkaSecurity
from laowu.stack.processes import pid_alive

KAFKA_VERSION = "4.1.2"

_MVN_TIMEOUT_S = 900
_TOOL_TIMEOUT_S = 120

__all__ = [
    "KAFKA_VERSION",
    "KafkaNode",
    "TopicSpec",
    "create_topics",
    "ensure_kafka_jars",
    "ensure_maven_jars",
    "is_kafka_process",
    "java_properties",
    "new_cluster_id",
]


# --------------------------------------------------------------------------
# jars
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive advisory lock, so two clones sharing the cache don't race."""
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(_ANSI.sub("", text).strip().splitlines()[-lines:])


def ensure_kafka_jars(cache_dir: Path, pom: Path) -> Path:
    """Return the directory holding the Kafka broker's runtime jars: ``<cache_dir>/kafka-<KAFKA_VERSION>/lib``."""
    return ensure_maven_jars(cache_dir, pom, f"kafka-{KAFKA_VERSION}", f"kafka_2.13-{KAFKA_VERSION}.jar") / "lib"


def ensure_maven_jars(cache_dir: Path, pom: Path, name: str, required: str,
                      finish: Callable[[Path], None] | None = None) -> Path:
    """Return ``<cache_dir>/<name>``, whose ``lib`` holds the runtime dependencies ``pom`` pins.

    Maven only runs when ``<cache_dir>/<name>/.complete`` is missing; the download goes to a temporary sibling
    directory that is renamed into place (marker included) only after mvn succeeded, ``required`` (a jar's file
    name) is among what it fetched and ``finish`` (given the temporary directory) is done, so an interrupted
    download is never mistaken for a complete one.
    """
    cache_dir = Path(cache_dir).expanduser().resolve()
    pom = Path(pom).expanduser().resolve()
    root = cache_dir / name
    marker = root / ".complete"
    if marker.is_file():
        return root

    if not pom.is_file():
        raise RuntimeError(f"pom not found: {pom}")
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(f"Maven ('mvn') is not on PATH; it is needed once to download {name} into {cache_dir}")

    cache_dir.mkdir(parents=True, exist_ok=True)
    with _file_lock(cache_dir / f".{name}.lock"):
        if marker.is_file():  # another process finished while we waited
            return root
        # We hold the lock, so leftovers of interrupted downloads are dead.
        for stale in cache_dir.glob(f".{name}-tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)

        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-tmp-", dir=cache_dir))
        try:
            cmd = [mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(pom), "dependency:copy-dependencies",
                   f"-DoutputDirectory={tmp / 'lib'}", "-DincludeScope=runtime"]
            try:
                res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     timeout=_MVN_TIMEOUT_S, check=False)
            except subprocess.TimeoutExpired as exc:
                out = exc.output if isinstance(exc.output, str) else ""
                raise RuntimeError(f"mvn timed out after {_MVN_TIMEOUT_S}s fetching {name}:\n"
                                   f"$ {' '.join(cmd)}\n{_tail(out)}") from exc
            if res.returncode != 0:
                raise RuntimeError(f"mvn failed (exit {res.returncode}) fetching {name}:\n$ {' '.join(cmd)}\n"
                                   f"{_tail(res.stdout)}")
            if not (tmp / "lib" / required).is_file():
                raise RuntimeError(f"mvn succeeded but {required} is missing; does {pom} pin it?\n{_tail(res.stdout)}")
            if finish is not None:
                finish(tmp)
            jars = sorted(p.name for p in (tmp / "lib").glob("*.jar"))
            (tmp / ".complete").write_text("\n".join(jars) + "\n")
            tmp.chmod(0o755)  # mkdtemp makes it 0700; the cache is shared
            if root.exists():  # incomplete leftover from an older layout
                shutil.rmtree(root)
            os.rename(tmp, root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return root


# --------------------------------------------------------------------------
# broker node
# --------------------------------------------------------------------------


def new_cluster_id() -> str:
    """A random Kafka cluster id (``Uuid.randomUuid().toString()`` format).

    Kafka's Uuid string is the 16 bytes in URL-safe base64 without padding
    (22 chars).  Like Kafka, avoid the reserved all-zero / metadata-topic ids
    and ids starting with ``-`` (they look like command-line flags).
    """
    while True:
        raw = uuid.uuid4().bytes
        text = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        if raw in (bytes(16), bytes(15) + b"\x01") or text.startswith("-"):
            continue
        return text


def is_kafka_process(pid: int, config: Path | None = None) -> bool:
    """True when ``pid`` is a live broker (``kafka.Kafka`` in its cmdline).

    With ``config``, additionally require that the broker was started with that
    ``server.properties`` (to tell our broker from another clone's).  Zombies
    have an empty cmdline and therefore count as not running.
    """
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    if "kafka.Kafka" not in argv:
        return False
    if config is not None:
        want = str(Path(config).resolve())
        return any(a == want or a == str(config) for a in argv)
    return True


_LOG4J2_TEMPLATE = """\
# Generated by laowu.stack.kafka -- rewritten on every start.
status = warn
name = laowu-kafka

appender.server.type = RollingFile
appender.server.name = server
appender.server.fileName = {log_file}
appender.server.filePattern = {log_file}.%i
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.server.policies.type = Policies
appender.server.policies.size.type = SizeBasedTriggeringPolicy
appender.server.policies.size.size = 20MB
appender.server.strategy.type = DefaultRolloverStrategy
appender.server.strategy.max = 3

rootLogger.level = INFO
rootLogger.appenderRef.server.ref = server

# Quieter than Kafka's stock config: per-request, state-change, raft and
# controller chatter only at WARN.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.requestchannel.name = kafka.network.RequestChannel$
logger.requestchannel.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = WARN
logger.kcontroller.name = kafka.controller
logger.kcontroller.level = WARN
logger.raft.name = org.apache.kafka.raft
logger.raft.level = WARN
logger.kraft.name = kafka.raft
logger.kraft.level = WARN
logger.metadata.name = org.apache.kafka.image
logger.metadata.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
logger.logcleaner.name = kafka.log.LogCleaner
logger.logcleaner.level = WARN
# The ~350-line "KafkaConfig values:" dump, printed 5x per start.
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
"""


# Names and passwords of the local broker's SCRAM users end up inside a JAAS string and a
# `--add-scram 'SCRAM-SHA-512=[name=...,password=...]'` argument; quoting rules differ between
# the two, so only characters neither needs to quote are taken.
_SCRAM_SAFE = re.compile(r"[A-Za-z0-9._~@+-]+")
BROKER_USER = "laowu-broker"
SCRAM_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")


def _prop_escape(value: str) -> str:
    # java.util.Properties: backslash is the only char that matters in values.
    return value.replace("\\", "\\\\")


def java_properties(props: Mapping[str, str]) -> str:
    """``key=value`` lines a JVM reads with java.util.Properties (the broker's, Kafka Connect's)."""
    return "".join(f"{k}={_prop_escape(v)}\n" for k, v in props.items())


@dataclass
class KafkaNode:
    """One KRaft Kafka node (broker+controller in one JVM): alone, or one voter of a static quorum."""

    data_dir: Path
    port: int
    controller_port: int
    lib_dir: Path
    heap: str = "512m"
    java: str = field(default="", repr=False)
    #: Client users (name -> password) of a SASL_PLAINTEXT/SCRAM listener; empty: a PLAINTEXT one.
    scram_users: dict[str, str] = field(default_factory=dict, repr=False)
    scram_mechanism: str = "SCRAM-SHA-512"
    node_id: int = 1
    #: The quorum's voters, node id -> controller port on 127.0.0.1 (this node's included). Empty: a single node,
    #: the sole voter of a dynamic quorum (``format --standalone``), as before clusters existed.
    voters: dict[int, int] = field(default_factory=dict)
    #: Replicas of the brokers' internal topics (offsets, transactions) and the default of new topics, and the
    #: ``min.insync.replicas`` they require.
    replication: int = 1
    min_insync: int = 1
    #: The cluster id every node of a quorum is formatted with (they must agree); empty: the node's own.
    preset_cluster_id: str = ""

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        self.lib_dir = Path(self.lib_dir).expanduser().resolve()
        if self.scram_mechanism not in SCRAM_MECHANISMS:
            raise ValueError(f"scram_mechanism must be one of {SCRAM_MECHANISMS}, not {self.scram_mechanism!r}")
        for name, password in self.scram_users.items():
            if name == BROKER_USER or not _SCRAM_SAFE.fullmatch(name) or not _SCRAM_SAFE.fullmatch(password):
                raise ValueError(
                    f"local Kafka SCRAM user {name!r}: name and password may hold only letters, digits and ._~@+- "
                    f"(and the name is not {BROKER_USER!r})"
                )
        if self.voters and self.voters.get(self.node_id) != self.controller_port:
            raise ValueError(f"node {self.node_id} with controller port {self.controller_port} is not among the "
                             f"voters {self.voters}")
        if self.replication > max(1, len(self.voters)) or not 1 <= self.min_insync <= self.replication:
            raise ValueError(f"replication {self.replication} / min.insync.replicas {self.min_insync} do not fit "
                             f"{max(1, len(self.voters))} node(s)")
        if not self.java:
            java_home = os.environ.get("JAVA_HOME")
            candidate = Path(java_home) / "bin" / "java" if java_home else None
            if candidate is not None and candidate.is_file():
                self.java = str(candidate)
            else:
                self.java = shutil.which("java") or "java"

    # ---- paths ----------------------------------------------------------

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl(self) -> bool:
        return bool(self.scram_users)

    @property
    def listener(self) -> str:
        return "SASL_PLAINTEXT" if self.sasl else "PLAINTEXT"

    @property
    def broker_secret_path(self) -> Path:
        """The broker's own SCRAM password (inter-broker listener), created with the storage."""
        return self.data_dir / "broker.secret"

    @property
    def scram_digest_path(self) -> Path:
        return self.data_dir / "scram.sha256"

    def broker_password(self) -> str:
        try:
            value = self.broker_secret_path.read_text().strip()
        except FileNotFoundError:
            value = ""
        if not value:
            value = secrets.token_urlsafe(24)
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.broker_secret_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(value + "\n")
        return value

    @property
    def security(self) -> KafkaSecurity:
        """How the broker's own probes connect: as the broker user on a SCRAM listener."""
        if not self.sasl:
            return PLAINTEXT
        return KafkaSecurity("SASL_PLAINTEXT", self.scram_mechanism, BROKER_USER, self.broker_password())

    def _all_scram_users(self) -> dict[str, str]:
        return {BROKER_USER: self.broker_password(), **self.scram_users} if self.sasl else {}

    def _scram_digest(self) -> str:
        users = sorted(self._all_scram_users().items())
        return hashlib.sha256(repr((self.scram_mechanism, users)).encode()).hexdigest()

    @property
    def config_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def log4j_path(self) -> Path:
        return self.data_dir / "log4j2.properties"

    @property
    def log_dirs(self) -> Path:
        """Kafka's ``log.dirs`` (the actual data)."""
        return self.data_dir / "logs"

    @property
    def server_log(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def cluster_id_path(self) -> Path:
        return self.data_dir / "cluster.id"

    @property
    def classpath(self) -> str:
        # A JVM classpath wildcard, expanded by java itself (not a shell glob).
        return f"{self.lib_dir}/*"

    # ---- setup ----------------------------------------------------------

    def server_properties(self) -> dict[str, str]:
        listener = self.listener
        quorum = (
            # A static quorum: every node knows every voter from the start (formatted without --standalone).
            {"controller.quorum.voters": ",".join(f"{n}@127.0.0.1:{p}" for n, p in sorted(self.voters.items()))}
            if self.voters else
            # Kafka 4 dynamic quorum; the node formats itself as the sole
            # voter with `format --standalone`.
            {"controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}"}
        )
        props = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            **quorum,
            "listeners": (
                f"{listener}://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"{listener}://127.0.0.1:{self.port}",
            # One listener for clients and the broker itself: with SCRAM the broker
            # authenticates too (as BROKER_USER), so no unauthenticated data port exists.
            # The controller listener stays PLAINTEXT on 127.0.0.1: KRaft keeps SCRAM
            # credentials in the metadata the controller serves, so it cannot use them.
            "inter.broker.listener.name": listener,
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": f"{listener}:{listener},CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.log_dirs),
            "offsets.topic.replication.factor": str(self.replication),
            "transaction.state.log.replication.factor": str(self.replication),
            "transaction.state.log.min.isr": str(self.min_insync),
            "share.coordinator.state.topic.replication.factor": str(self.replication),
            "share.coordinator.state.topic.min.isr": str(self.min_insync),
            "num.partitions": "3",
            "default.replication.factor": str(self.replication),
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            # After an unclean stop (kill -9) the restarted controller keeps
            # rejecting the new broker incarnation (DUPLICATE_BROKER_REGISTRATION)
            # until the old session expires: 9s by default.  A clean SIGTERM
            # shutdown re-registers immediately.
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "1000",
        }
        if self.replication > 1:
            props |= {
                # Topic default (ours set it too): an acks=all write waits for this many in-sync copies, and is
                # refused (NOT_ENOUGH_REPLICAS, the API's 503) rather than kept on a single broker.
                "min.insync.replicas": str(self.min_insync),
                # Never elect a replica that missed acknowledged writes: that would lose them.
                "unclean.leader.election.enable": "false",
            }
        if self.sasl:
            mech = self.scram_mechanism
            props |= {
                "sasl.enabled.mechanisms": mech,
                "sasl.mechanism.inter.broker.protocol": mech,
                f"listener.name.sasl_plaintext.{mech.lower()}.sasl.jaas.config": (
                    "org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f'username="{BROKER_USER}" password="{self.broker_password()}";'
                ),
            }
        return props

    def write_config(self) -> Path:
        """(Re)write ``server.properties`` and ``log4j2.properties``; return the former."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        header = "# Generated by laowu.stack.kafka -- rewritten on every start.\n"
        _atomic_write(self.config_path, header + java_properties(self.server_properties()))
        _atomic_write(
            self.log4j_path,
            _LOG4J2_TEMPLATE.format(log_file=_prop_escape(str(self.server_log))),
        )
        return self.config_path

    def cluster_id(self) -> str:
        """The cluster id persisted in the data dir (created on first call)."""
        meta = self.log_dirs / "meta.properties"
        if meta.is_file():
            for line in meta.read_text().splitlines():
                if line.startswith("cluster.id="):
                    return line.split("=", 1)[1].strip()
        if self.cluster_id_path.is_file():
            cid = self.cluster_id_path.read_text().strip()
            if cid:
                return cid
        cid = self.preset_cluster_id or new_cluster_id()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.cluster_id_path, cid + "\n")
        return cid

    def format_storage(self) -> None:
        """Format ``log.dirs`` once (``kafka-storage.sh format --standalone``; a quorum's node without it, its
        voters being in ``controller.quorum.voters``).

        SCRAM users are created here (``--add-scram``): KRaft keeps them in the
        metadata log, and the broker must be able to authenticate itself before
        anything could add them later.  Once formatted, the users are fixed; a
        start asking for other users fails instead of silently keeping the old ones.
        """
        if (self.log_dirs / "meta.properties").is_file():
            try:
                formatted = self.scram_digest_path.read_text().strip()
            except FileNotFoundError:
                formatted = hashlib.sha256(repr((self.scram_mechanism, [])).encode()).hexdigest()
            if formatted != self._scram_digest():
                raise RuntimeError(
                    f"{self.log_dirs} was formatted with other SCRAM users (or none): change them with "
                    "kafka-configs --alter --add-config 'SCRAM-SHA-512=[password=...]', or move the "
                    "directory away to start from scratch"
                )
            return
        if not self.config_path.is_file():
            self.write_config()
        if self.log_dirs.exists():
            # A format that died half-way; only format artefacts may be there.
            leftovers = {p.name for p in self.log_dirs.iterdir()}
            if leftovers - {"bootstrap.checkpoint", "__cluster_metadata-0", ".lock"}:
                raise RuntimeError(
                    f"{self.log_dirs} has data but no meta.properties; refusing to "
                    "format over it (move it away to start from scratch)"
                )
            shutil.rmtree(self.log_dirs)
        cmd = [
            self.java,
            "-Xmx256m",
            "-cp",
            self.classpath,
            "kafka.tools.StorageTool",
            "format",
            *([] if self.voters else ["--standalone"]),
            "-t",
            self.cluster_id(),
            "-c",
            str(self.config_path),
        ]
        for name, password in self._all_scram_users().items():
            cmd += ["--add-scram", f"{self.scram_mechanism}=[name={name},password={password}]"]
        res = subprocess.run(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=_TOOL_TIMEOUT_S,
            check=False,
        )
        if res.returncode != 0 or not (self.log_dirs / "meta.properties").is_file():
            shown = [re.sub(r"password=[^,\]]*", "password=***", a) for a in cmd]
            raise RuntimeError(
                f"kafka storage format failed (exit {res.returncode}):\n"
                f"$ {' '.join(shown)}\n{_tail(res.stdout)}"
            )
        _atomic_write(self.scram_digest_path, self._scram_digest() + "\n")

    def command(self) -> list[str]:
        """argv running the broker in the foreground (what kafka-server-start.sh runs)."""
        return [
            self.java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35",
            "-XX:+ExplicitGCInvokesConcurrent",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_path}",
            f"-Dkafka.logs.dir={self.data_dir}",
            "-cp",
            self.classpath,
            "kafka.Kafka",
            str(self.config_path),
        ]

    # ---- health ---------------------------------------------------------

    def server_log_tail(self, lines: int = 30) -> str:
        try:
            return _tail(self.server_log.read_text(errors="replace"), lines)
        except OSError:
            return "(no server.log)"

    async def wait_ready(self, timeout: float = 60, *, pid: int | None = None) -> None:
        """Poll until the broker answers a metadata request with itself in it.

        With ``pid``, fail fast (RuntimeError) when that process is gone.
        Raises TimeoutError with the last error and the tail of server.log.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error: BaseException | None = None
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"Kafka at {self.bootstrap} not ready after {timeout:.0f}s; last error: "
                    f"{last_error!r}\n--- {self.server_log} (tail) ---\n{self.server_log_tail()}"
                )
            # pid_alive, not is_kafka_process: before exec a child's cmdline is still the parent's.
            if pid is not None and not pid_alive(pid):
                raise RuntimeError(
                    f"Kafka process {pid} exited before becoming ready\n"
                    f"--- {self.server_log} (tail) ---\n{self.server_log_tail()}"
                )
            try:
                await asyncio.wait_for(self._probe(), timeout=min(remaining, 10.0))
                return
            except Exception as exc:
                last_error = exc
            await asyncio.sleep(min(0.5, max(0.0, deadline - loop.time())))

    async def _probe(self) -> None:
        # Cheap TCP check first: aiokafka's bootstrap retries are slow/noisy.
        _, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        admin = kafka_security.admin(
            self.security, bootstrap=self.bootstrap, request_timeout_ms=5000
        )
        try:
            await admin.start()
            info = await admin.describe_cluster()
            if not info.get("brokers"):
                raise RuntimeError(f"metadata has no brokers yet: {info!r}")
            # A quorum's node answers from its own listener; ready once the cluster lists it as a live broker.
            if self.voters and self.node_id not in {b.get("node_id") for b in info["brokers"]}:
                raise RuntimeError(f"node {self.node_id} not among the live brokers yet: {info['brokers']!r}")
        finally:
            with contextlib.suppress(Exception):
                await admin.close()



def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------
# topics
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)
    replication: int = 1


async def create_topics(bootstrap: str, specs: list[TopicSpec], security: KafkaSecurity = PLAINTEXT) -> None:
    """Create the topics of ``specs`` that don't exist yet (each with its ``replication``).

    Idempotent: existing topics are left untouched (their partition count and
    config are *not* reconciled).
    """
    if not specs:
        return
    admin = kafka_security.admin(security, bootstrap=bootstrap, request_timeout_ms=30000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if not missing:
            return
        resp = await admin.create_topics(
            [
                NewTopic(
                    name=s.name,
                    num_partitions=s.partitions,
                    replication_factor=s.replication,
                    topic_configs={k: str(v) for k, v in s.config.items()},
                )
                for s in missing
            ],
            timeout_ms=30000,
        )
        failures = []
        for entry in resp.topic_errors:
            topic, code = entry[0], entry[1]
            message = entry[2] if len(entry) > 2 else None
            if code == 0:
                continue
            err = for_code(code)
            if err is TopicAlreadyExistsError:
                continue
            failures.append(f"{topic}: {err.__name__}({code}) {message or ''}".rstrip())
        if failures:
            raise RuntimeError("create_topics failed: " + "; ".join(failures))
    finally:
        with contextlib.suppress(Exception):
            await admin.close()
