"""laowu.stack.processes: a child's environment gives it its parent's settings; stopping leaves nothing behind."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from laowu.settings import Settings
from laowu.stack.processes import child_env, pid_alive, spawn, stop_process


def _dump(s: Settings) -> dict[str, object]:
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in dict(s).items()}


def test_a_child_reads_back_exactly_the_settings_of_its_parent(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    parent = Settings(env="test", home=tmp_path, database_url="postgresql://u@127.0.0.1:5/t_1",
                      kafka_bootstrap="127.0.0.1:9", topic_prefix="t1.", consumer_poll_ms=50,
                      metrics_token=SecretStr("m" * 40), rate_limit_per_s=1e6, kafka_allow_plaintext=True,
                      kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="app",
                      kafka_sasl_password=SecretStr("pw-0123456789"), trusted_proxies="")
    env = child_env(parent)
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _dump(Settings()) == _dump(parent)


def test_a_private_world_drops_the_shells_settings_and_the_stack_inherits_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://shell@db/x")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "shell-secret")
    monkeypatch.setenv("LAOWU_RATE_LIMIT_PER_S", "7")
    monkeypatch.setenv("PATH_FOR_TOOLS", "kept")
    private = child_env(None, {"LAOWU_API_PORT": "1234"})
    assert "DATABASE_URL" not in private and "KAFKA_SASL_PASSWORD" not in private
    assert "LAOWU_RATE_LIMIT_PER_S" not in private
    assert private["PATH_FOR_TOOLS"] == "kept" and private["LAOWU_API_PORT"] == "1234"
    stack = child_env(None, inherit=True)
    assert stack["DATABASE_URL"] == "postgresql://shell@db/x" and stack["LAOWU_RATE_LIMIT_PER_S"] == "7"


def test_stop_kills_what_ignores_the_signal_and_what_it_left_in_its_session(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild"
    script = ("import signal, subprocess, sys, time\n"
              "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              f"g = subprocess.Popen(['sleep', '60'])\nopen({str(pid_file)!r}, 'w').write(str(g.pid))\n"
              "print('up' + 'right', flush=True)\ntime.sleep(60)\n")
    log = tmp_path / "child.log"
    proc = spawn([sys.executable, "-c", script], log)
    deadline = time.monotonic() + 10
    while "upright" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.02)
    grandchild = int(pid_file.read_text())
    started = time.monotonic()
    code = stop_process(proc, signal.SIGTERM, timeout=0.5)
    assert code == -signal.SIGKILL and 0.5 <= time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while pid_alive(grandchild):
        assert time.monotonic() < deadline, "the grandchild outlived the stop"
        time.sleep(0.02)
    assert log.read_text().startswith("--- ")  # the log says what started


def test_stop_by_pid_waits_until_the_process_is_gone(tmp_path: Path) -> None:
    proc = spawn(["sleep", "60"], tmp_path / "sleep.log")
    assert stop_process(proc.pid, signal.SIGTERM, timeout=5) is None
    proc.wait(5)  # reap: the pid was gone (a zombie) when stop_process returned
    assert proc.returncode == -signal.SIGTERM
