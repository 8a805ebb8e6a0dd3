"""A small process supervisor for ``laowu up`` (a compose-style restart policy).

Why not systemd/compose: the local stack must run on a bare machine (no Docker,
maybe no systemd user session) and be started from a terminal or a test.

* Every child runs in its own session (``start_new_session=True``), so a
  Ctrl-C on the terminal reaches only the supervisor, which then stops the
  children itself, in reverse start order, gracefully.
* A child that exits unexpectedly is restarted after an exponential backoff
  (0.5 s doubling up to 30 s; the count resets after 60 s of healthy running).
* The supervisor's view is written atomically to a JSON state file on every
  change, so ``laowu status`` / ``laowu down`` (other processes) can read it.

The pure parts (:class:`Backoff`, :func:`build_state`, :func:`process_entry`)
are separate from the process handling so they can be unit-tested.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from laowu.stack.processes import pid_alive, spawn, stop_process

__all__ = [
    "RESTARTING",
    "RUNNING",
    "STOPPED",
    "Backoff",
    "Child",
    "ProcessSpec",
    "ReadyCheck",
    "Supervisor",
    "backoff_delay",
    "build_state",
    "log_tail",
    "pid_alive",
    "pid_cmdline",
    "process_entry",
    "spawn_spec",
    "write_json_atomic",
]

log = logging.getLogger("laowu.supervisor")

Status = Literal["running", "restarting", "stopped"]
RUNNING: Status = "running"
RESTARTING: Status = "restarting"
STOPPED: Status = "stopped"

#: Awaited with the child's pid after every start; raises when the child is not ready.
ReadyCheck = Callable[[int], Awaitable[None]]


@dataclass
class ProcessSpec:
    """How to run one supervised child."""

    name: str
    argv: list[str]
    log_file: Path
    #: The child's whole environment, from :func:`laowu.stack.processes.child_env` (None: inherit ours unchanged).
    env: dict[str, str] | None = None
    #: Extra ``subprocess.Popen`` arguments (cwd, user, group, ...).
    popen_kwargs: dict[str, Any] = field(default_factory=dict)
    ready: ReadyCheck | None = None
    #: Blocking preparation run (in a thread) before every start, e.g. removing
    #: a stale postmaster.pid after a crash.
    prepare: Callable[[], object] | None = None
    #: postgres wants SIGINT ("fast shutdown"); SIGTERM would wait for clients.
    stop_signal: int = signal.SIGTERM
    stop_timeout: float = 15.0
    #: SIGTERM when the thread that started it dies (``PR_SET_PDEATHSIG``): the test fixtures' infrastructure.
    die_with_parent: bool = False


# --------------------------------------------------------------------------
# pure logic
# --------------------------------------------------------------------------


def backoff_delay(failures: int, base: float = 0.5, cap: float = 30.0) -> float:
    """Delay before the restart that follows ``failures`` earlier consecutive ones."""
    return float(min(cap, base * 2 ** min(max(failures, 0), 62)))


@dataclass
class Backoff:
    """Consecutive-failure counter: a child that ran ``reset_after`` s was healthy."""

    base: float = 0.5
    cap: float = 30.0
    reset_after: float = 60.0
    failures: int = 0

    def next_delay(self, ran_for: float) -> float:
        """Delay before restarting a child that just exited after ``ran_for`` seconds."""
        if ran_for >= self.reset_after:
            self.failures = 0
        delay = backoff_delay(self.failures, self.base, self.cap)
        self.failures += 1
        return delay


def process_entry(
    name: str, pid: int | None, restarts: int, status: str, log_file: Path | str
) -> dict[str, Any]:
    """One element of the state file's ``processes`` list."""
    return {
        "name": name,
        "pid": pid,
        "restarts": restarts,
        "status": status,
        "log": str(log_file),
    }


def build_state(
    *,
    supervisor_pid: int,
    started_at: str,
    phase: str,
    info: Mapping[str, Any],
    processes: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The state-file document.

    ``info`` carries ``kafka_bootstrap``, ``database_url``, ``api_url`` (missing
    keys become null) plus any extra keys worth showing (e.g. ``log_dir``).
    """
    state: dict[str, Any] = {
        "supervisor_pid": supervisor_pid,
        "started_at": started_at,
        "phase": phase,
        "kafka_bootstrap": info.get("kafka_bootstrap"),
        "database_url": info.get("database_url"),
        "api_url": info.get("api_url"),
    }
    state.update({k: v for k, v in info.items() if k not in state})
    state["processes"] = [dict(p) for p in processes]
    return state


# --------------------------------------------------------------------------
# process helpers (starting and stopping live in laowu.stack.processes)
# --------------------------------------------------------------------------


def write_json_atomic(path: Path, data: Any) -> None:
    """tmp + rename, so readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def pid_cmdline(pid: int) -> list[str]:
    """argv of ``pid`` (empty when gone or a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_bytes()[-16384:].decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:])


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def spawn_spec(spec: ProcessSpec) -> subprocess.Popen[bytes]:
    """Start ``spec`` (through :func:`laowu.stack.processes.spawn`, the one way a stack process starts)."""
    return spawn(spec.argv, spec.log_file, env=spec.env, die_with_parent=spec.die_with_parent, name=spec.name,
                 **spec.popen_kwargs)


# --------------------------------------------------------------------------
# the supervisor
# --------------------------------------------------------------------------


@dataclass
class Child:
    """Runtime state of one supervised process."""

    spec: ProcessSpec
    backoff: Backoff
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    status: Status = STOPPED
    started_at: float = 0.0  # monotonic time of the last start

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid


class Supervisor:
    """Runs children, restarts the ones that die, stops them in reverse order.

    Usage::

        sup = Supervisor(state_path, info={...})
        sup.add(spec_a); sup.add(spec_b)          # listed as "stopped" in the state
        await sup.start(["a", "b"])               # concurrently; raises if not ready
        sup.set_phase("running")
        ...                                       # children are kept alive meanwhile
        await sup.stop()
    """

    def __init__(
        self,
        state_path: Path,
        *,
        info: Mapping[str, Any] | None = None,
        backoff: Callable[[], Backoff] = Backoff,
        poll_interval: float = 0.2,
    ) -> None:
        self.state_path = state_path
        self.info: dict[str, Any] = dict(info or {})
        self.children: dict[str, Child] = {}
        self.phase = "starting"
        self.started_at = _now_iso()
        self._backoff = backoff
        self._poll = poll_interval
        self._order: list[str] = []  # names in first-start order
        self._keepers: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    # ---- state ----------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return build_state(
            supervisor_pid=os.getpid(),
            started_at=self.started_at,
            phase=self.phase,
            info=self.info,
            processes=[
                process_entry(c.spec.name, c.pid, c.restarts, c.status, c.spec.log_file)
                for c in self.children.values()
            ],
        )

    def write_state(self) -> None:
        write_json_atomic(self.state_path, self.state())

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self.write_state()

    def remove_state(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()

    # ---- starting -------------------------------------------------------

    def add(self, spec: ProcessSpec) -> Child:
        if spec.name in self.children:
            raise ValueError(f"duplicate process name {spec.name!r}")
        child = Child(spec=spec, backoff=self._backoff())
        self.children[spec.name] = child
        self.write_state()
        return child

    async def start(self, names: Iterable[str]) -> None:
        """Start the named children concurrently and wait until all are ready.

        Raises (after logging) when one fails to start; the caller stops the
        supervisor.  Children that became ready are kept alive from then on.
        """
        tasks = [asyncio.create_task(self._start_one(self.children[n])) for n in names]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # one failed: don't leave the others waiting half-started
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    async def _start_one(self, child: Child) -> None:
        if not await self._launch(child):
            raise RuntimeError(f"not starting {child.spec.name}: the supervisor is stopping")
        if child.spec.ready is not None:
            assert child.proc is not None
            try:
                await child.spec.ready(child.proc.pid)
            except Exception as exc:
                raise RuntimeError(
                    f"{child.spec.name} did not start: {exc}\n"
                    f"--- {child.spec.log_file} (tail) ---\n{log_tail(child.spec.log_file)}"
                ) from exc
        if self._stopping:
            return
        child.status = RUNNING
        self.write_state()
        log.info("%s is up (pid %s)", child.spec.name, child.pid)
        self._keepers[child.spec.name] = asyncio.create_task(
            self._keep(child), name=f"keep-{child.spec.name}"
        )

    async def _launch(self, child: Child) -> bool:
        """Prepare and spawn ``child`` (not waiting for readiness); False when stopping."""
        if child.spec.prepare is not None:
            await asyncio.to_thread(child.spec.prepare)
        if self._stopping:
            return False
        child.proc = spawn_spec(child.spec)
        child.started_at = time.monotonic()
        if child.spec.name not in self._order:
            self._order.append(child.spec.name)
        self.write_state()
        return True

    # ---- restarting -----------------------------------------------------

    async def _keep(self, child: Child) -> None:
        """Wait for ``child`` to exit and restart it, with backoff, until stop()."""
        name = child.spec.name
        while not self._stopping:
            code: int | None = None
            if child.proc is not None:
                while (code := child.proc.poll()) is None:
                    await asyncio.sleep(self._poll)
            ran_for = time.monotonic() - child.started_at
            delay = child.backoff.next_delay(ran_for)
            child.restarts += 1
            child.status = RESTARTING
            self.write_state()
            log.warning(
                "%s (pid %s) exited with code %s after %.1fs; restart #%d in %.1fs",
                name, child.pid, code, ran_for, child.restarts, delay,
            )
            await asyncio.sleep(delay)
            try:
                if not await self._launch(child):
                    return
                if child.spec.ready is not None:
                    assert child.proc is not None
                    await child.spec.ready(child.proc.pid)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next loop handles the death
                log.warning("%s did not come back cleanly: %s", name, exc)
                if child.proc is None or child.proc.poll() is not None:
                    continue
            child.status = RUNNING
            self.write_state()
            log.info("%s restarted (pid %s)", name, child.pid)

    # ---- stopping -------------------------------------------------------

    async def stop(self) -> None:
        """Stop every child in reverse start order (graceful, then SIGKILL)."""
        self._stopping = True
        for task in self._keepers.values():
            task.cancel()
        for task in self._keepers.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._keepers.clear()
        for name in reversed(self._order):
            child = self.children[name]
            if child.proc is not None and child.proc.poll() is None:
                log.info("stopping %s (pid %d)", name, child.proc.pid)
                code = await asyncio.to_thread(
                    stop_process, child.proc, child.spec.stop_signal, child.spec.stop_timeout
                )
                log.info("%s stopped (exit code %s)", name, code)
            elif child.proc is not None:
                stop_process(child.proc)  # reap, and clear its process group
            child.status = STOPPED
            self.write_state()
