"""One home for starting, stopping and configuring child processes: ``laowu/stack/processes.py``.

The launcher, the benches and the tests once had three builders of a child's environment and four ways to stop a
process, each a little different (which variables of the shell leak in, whether the process group is cleaned up,
how long to wait). This walks the code of ``laowu/``, ``consumers/``, ``streams/``, ``benchmarks/`` and ``tests/``
and fails on a second copy of any of the three jobs, naming the line.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOME = REPO / "laowu" / "stack" / "processes.py"
ROOTS = ("laowu", "consumers", "streams", "benchmarks", "tests")

# Where a child is stopped for another reason than being a process of ours, and why it stays.
ELSEWHERE = {
    # The API's spreadsheet sandbox (解析隔离): an asyncio child of a request, killed when its time is up.
    ("laowu/imports/guard.py", "kill"),
}

STOP_SIGNALS = {"SIGTERM", "SIGKILL", "SIGINT", "SIGQUIT", "SIGHUP"}
CONFIG_VARIABLES = {"DATABASE_URL", "KAFKA_BOOTSTRAP", "PYTHONUNBUFFERED"}


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name) \
        and node.value.id == "os"


def _signal_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def findings(source: str, path: str = "<snippet>") -> list[str]:
    """Every place in ``source`` that starts, stops or builds the environment of a process by itself."""
    out: list[str] = []

    def say(node: ast.AST, what: str, job: str) -> None:
        if (path, job) not in ELSEWHERE:
            out.append(f"{path}:{getattr(node, 'lineno', '?')}: {what}")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name == "Popen":
                say(node, "subprocess.Popen: start it with laowu.stack.processes.spawn", "spawn")
            elif name in ("terminate", "kill") and isinstance(func, ast.Attribute) and not node.args:
                say(node, f".{name}(): stop it with laowu.stack.processes.stop_process", "kill")
            elif name in ("send_signal", "kill", "killpg") and node.args \
                    and _signal_name(node.args[-1]) in STOP_SIGNALS:
                say(node, f"{name}(…{_signal_name(node.args[-1])}): stop it with stop_process(proc, sig)", "kill")
            elif name in ("copy", "items") and isinstance(func, ast.Attribute) and _is_environ(func.value):
                say(node, f"os.environ.{name}(): build a child's environment with child_env", "env")
            elif name == "dict" and node.args and _is_environ(node.args[0]):
                say(node, "dict(os.environ): build a child's environment with child_env", "env")
            elif name == "update" and {k.arg for k in node.keywords} & CONFIG_VARIABLES:
                say(node, "env.update(DATABASE_URL=…): build a child's environment with child_env", "env")
        elif isinstance(node, ast.Dict):
            if any(k is None and _is_environ(v) for k, v in zip(node.keys, node.values, strict=True)):
                say(node, "{**os.environ, …}: build a child's environment with child_env", "env")
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if keys & CONFIG_VARIABLES:
                say(node, f"a dict of {sorted(keys & CONFIG_VARIABLES)}: build a child's environment with child_env",
                    "env")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and (
                _is_environ(node.left) or _is_environ(node.right)):
            say(node, "os.environ | …: build a child's environment with child_env", "env")
    return out


def test_processes_are_started_stopped_and_configured_in_one_place() -> None:
    found: list[str] = []
    for root in ROOTS:
        for path in sorted((REPO / root).rglob("*.py")):
            if path != HOME:
                found += findings(path.read_text(), str(path.relative_to(REPO)))
    assert not found, "a second home for child processes:\n" + "\n".join(found)


def test_the_one_home_does_all_three_jobs() -> None:
    """The scan is not vacuous: the home itself holds a Popen, a stop signal and the environment copy."""
    jobs = " ".join(findings(HOME.read_text()))
    assert "Popen" in jobs and "stop_process(proc, sig)" in jobs and "os.environ.items()" in jobs


def test_the_scan_catches_each_kind_of_copy() -> None:
    copies = {
        "import subprocess\nsubprocess.Popen(['x'])": "Popen",
        "proc.terminate()": ".terminate()",
        "proc.kill()": ".kill()",
        "proc.send_signal(signal.SIGTERM)": "send_signal",
        "os.kill(pid, signal.SIGKILL)": "kill(",
        "os.killpg(pid, SIGKILL)": "killpg",
        "env = os.environ.copy()": "os.environ.copy",
        "env = {k: v for k, v in os.environ.items() if k}": "os.environ.items",
        "env = dict(os.environ)": "dict(os.environ)",
        "env = {**os.environ, 'A': 'b'}": "{**os.environ",
        "env = os.environ | {'A': 'b'}": "os.environ |",
        "env.update(DATABASE_URL=dsn)": "env.update",
        "env = {'KAFKA_BOOTSTRAP': b}": "a dict of",
    }
    for source, what in copies.items():
        got = findings(source)
        assert len(got) == 1 and what in got[0], (source, got)
    # Pausing is not stopping, and reading a variable is not building an environment.
    assert findings("os.kill(pid, signal.SIGSTOP)\nos.environ.get('X')\nos.environ['Y']\n'A' in os.environ") == []
