"""The one home for the processes the local stack, the benches and the tests start and stop.

Three functions, used by every caller (``tests/unit/test_one_process_home.py`` fails when a second copy appears):

* :func:`child_env` — the environment of a child: the parent's settings written back as the variables
  :class:`~laowu.settings.Settings` reads, so a child configured only through its environment (``laowu api``,
  ``laowu consume ledger``, the faust worker) sees exactly the world its parent set up. A private world (a
  test's, a bench's) drops whatever the shell says about Laowu, Kafka or the database first; ``laowu up``
  inherits it, as the shell's settings are the stack's.
* :func:`spawn` — start a child in its own session (a Ctrl-C on the terminal reaches only the parent, which
  stops its children itself, in order), stdin closed, output appended to a log file; optionally bound to the
  parent's life with ``PR_SET_PDEATHSIG``, so that nothing a killed pytest started outlives it.
* :func:`stop_process` — stop a child (or an orphan known only by its pid): a signal, a bounded wait, then
  SIGKILL; also the ``kill -9`` of the fault tests (``sig=SIGKILL``).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, SecretStr

if TYPE_CHECKING:
    from laowu.settings import Settings

__all__ = ["child_env", "laowu_argv", "pid_alive", "settings_variables", "spawn", "stop_process"]

log = logging.getLogger("laowu.processes")

_PR_SET_PDEATHSIG = 1


# ---- environment -----------------------------------------------------------------------------------------


def _variable(name: str, alias: object) -> str:
    """The variable a field is read from: its first alias (``DATABASE_URL``, ``KAFKA_BOOTSTRAP``), else ``LAOWU_*``."""
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]
    if isinstance(alias, str):
        return alias
    return f"LAOWU_{name.upper()}"


def _names_read() -> set[str]:
    """Every variable name Settings reads besides ``LAOWU_*`` (the aliases: ``DATABASE_URL``, ``KAFKA_*``)."""
    from laowu.settings import Settings

    names: set[str] = set()
    for field in Settings.model_fields.values():
        if isinstance(field.validation_alias, AliasChoices):
            names |= {c.upper() for c in field.validation_alias.choices if isinstance(c, str)}
    return names


def _render(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def settings_variables(settings: Settings) -> dict[str, str]:
    """``settings`` as the environment variables that give a child the same :class:`Settings` (unset ones left out)."""
    out: dict[str, str] = {}
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if value is not None:
            out[_variable(name, field.validation_alias)] = _render(value)
    return out


def child_env(settings: Settings | None = None, extra: Mapping[str, str] | None = None, *,
              inherit: bool = False) -> dict[str, str]:
    """The environment of a process we start: the parent's, ``settings`` written over it, then ``extra``.

    ``inherit=False`` (a test's or a bench's private world) first drops every variable Settings would read
    (``LAOWU_*``, ``DATABASE_URL``, ``KAFKA_*``): the shell's broker, database or credentials must not leak into a
    world that has its own. ``laowu up`` inherits them: there the shell's settings are the stack's.
    """
    ours = _names_read()
    env = {k: v for k, v in os.environ.items()
           if inherit or not (k.upper().startswith("LAOWU_") or k.upper() in ours)}
    if settings is not None:
        env |= settings_variables(settings)
    env["PYTHONUNBUFFERED"] = "1"  # logs reach their file line by line, also when the child is killed
    env |= extra or {}
    return env


def laowu_argv(*args: str) -> list[str]:
    """``python -m laowu.cli ARGS`` with this interpreter: how every Laowu service and tool is started."""
    return [sys.executable, "-m", "laowu.cli", *args]


# ---- starting --------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM when the parent (the thread that forked) dies, even by ``kill -9``."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(argv: Sequence[str], log_file: Path, *, env: dict[str, str] | None = None, die_with_parent: bool = False,
          name: str | None = None, **popen_kwargs: Any) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, stdout and stderr appended to ``log_file`` (after a line saying what starts).

    ``env`` None inherits ours (a broker, a database); a Laowu process gets :func:`child_env`. ``die_with_parent``
    binds the child to the calling *thread* (``PR_SET_PDEATHSIG`` fires when the thread that forked exits): call
    it from the thread that lives as long as the child should. ``popen_kwargs``: cwd, user, group, … .
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        out.write(f"--- {stamp} starting {name or Path(argv[0]).name}: {' '.join(argv)}\n".encode())
        out.flush()
        return subprocess.Popen(  # the one Popen of a stack process (tests/unit/test_one_process_home.py)
            list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, preexec_fn=_die_with_parent if die_with_parent else None, **popen_kwargs)


# ---- stopping --------------------------------------------------------------------------------------------


def pid_alive(pid: int | None) -> bool:
    """``pid`` exists and is not a zombie (a zombie has already exited)."""
    if not pid or pid <= 0:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[-1].split()[:1]
    return bool(state) and state[0] not in ("Z", "X")


def _signal(proc: subprocess.Popen[bytes] | int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        if isinstance(proc, int):
            os.kill(proc, sig)
        else:
            proc.send_signal(sig)


def _killpg(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _gone(proc: subprocess.Popen[bytes] | int, timeout: float) -> bool:
    """Wait up to ``timeout`` s for the process to exit (reaping it when it is our child)."""
    if isinstance(proc, int):
        deadline = time.monotonic() + timeout
        while pid_alive(proc) and time.monotonic() < deadline:
            time.sleep(0.05)
        return not pid_alive(proc)
    try:
        proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def stop_process(proc: subprocess.Popen[bytes] | int, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
    """Stop a process: ``sig``, wait ``timeout`` s, then SIGKILL. Blocking; returns the exit code of a child.

    ``proc`` is a child we started (then whatever is left in its session after it exited is killed too, so
    nothing of ours lingers) or the pid of an orphan of a killed supervisor (the caller has checked it is ours).
    ``sig=SIGKILL`` is the fault tests' ``kill -9``. PostgreSQL wants SIGINT ("fast" shutdown: sessions are cut);
    SIGTERM would wait politely for every client to leave.
    """
    child = not isinstance(proc, int)
    alive = proc.poll() is None if not isinstance(proc, int) else pid_alive(proc)
    if alive:
        _signal(proc, sig)
        if not _gone(proc, timeout):
            pid = proc if isinstance(proc, int) else proc.pid
            log.warning("pid %d ignored signal %d for %.0fs; killing it", pid, sig, timeout)
            if child:
                _killpg(pid)
            _signal(proc, signal.SIGKILL)
            _gone(proc, 10)
    if isinstance(proc, int):
        return None
    _killpg(proc.pid)
    return proc.returncode
