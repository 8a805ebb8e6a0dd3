"""The supervisor's restart policy and state file; one test runs a real (tiny) child."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

from laowu.stack.launcher import SERVICES, resolve_ports, select_services
from laowu.stack.supervisor import (
    Backoff,
    ProcessSpec,
    Supervisor,
    backoff_delay,
    build_state,
    process_entry,
    write_json_atomic,
)


def test_backoff_doubles_from_half_a_second_up_to_thirty() -> None:
    assert [backoff_delay(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert backoff_delay(10_000) == 30  # no overflow after a very long crash loop


def test_backoff_resets_after_a_minute_of_healthy_running() -> None:
    b = Backoff()
    assert [b.next_delay(ran_for=1) for _ in range(4)] == [0.5, 1, 2, 4]
    assert b.next_delay(ran_for=59.9) == 8
    assert b.next_delay(ran_for=60) == 0.5
    assert b.next_delay(ran_for=0.1) == 1


def test_state_document_shape() -> None:
    state = build_state(
        supervisor_pid=42,
        started_at="2024-01-01T00:00:00+00:00",
        phase="running",
        info={"kafka_bootstrap": "127.0.0.1:1", "database_url": "postgresql://x", "log_dir": "/l"},
        processes=[process_entry("kafka", 7, 2, "running", Path("/l/kafka.log"))],
    )
    assert state == {
        "supervisor_pid": 42,
        "started_at": "2024-01-01T00:00:00+00:00",
        "phase": "running",
        "kafka_bootstrap": "127.0.0.1:1",
        "database_url": "postgresql://x",
        "api_url": None,
        "log_dir": "/l",
        "processes": [{"name": "kafka", "pid": 7, "restarts": 2, "status": "running", "log": "/l/kafka.log"}],
    }


def test_state_file_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "run" / "state.json"
    write_json_atomic(path, {"a": 1})
    write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_ports_are_chosen_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "ports.json"
    first = resolve_ports(path, {"kafka": 0, "kafka_controller": 0, "postgres": 0})
    assert len(set(first.values())) == 3
    assert resolve_ports(path, {"kafka": 0, "kafka_controller": 0, "postgres": 0}) == first
    assert resolve_ports(path, {"postgres": 5999})["postgres"] == 5999  # configured wins


def test_service_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAOWU_SERVICES", raising=False)
    assert select_services() == list(SERVICES)
    monkeypatch.setenv("LAOWU_SERVICES", "none")
    assert select_services() == []
    monkeypatch.setenv("LAOWU_SERVICES", "api")
    assert select_services() == ["api"]
    assert select_services([]) == []
    with pytest.raises(ValueError, match="unknown service"):
        select_services(["nope"])


@pytest.mark.asyncio
@pytest.mark.timeout(10)
async def test_a_child_that_exits_is_restarted_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state_path = tmp_path / "state.json"
    sup = Supervisor(state_path, backoff=lambda: Backoff(base=0.1, cap=0.2))
    spec = ProcessSpec(
        "flaky", [sys.executable, "-c", "import sys; print('bye'); sys.exit(1)"], tmp_path / "flaky.log"
    )
    sup.add(spec)
    caplog.set_level("INFO", logger="laowu.supervisor")
    started = time.monotonic()
    try:
        await sup.start(["flaky"])
        while sup.children["flaky"].restarts < 2:
            assert time.monotonic() - started < 5, "child was not restarted"
            await asyncio.sleep(0.05)
        state = json.loads(state_path.read_text())
        [entry] = state["processes"]
        assert entry["name"] == "flaky" and entry["restarts"] >= 2
        assert entry["status"] in ("running", "restarting")
    finally:
        await sup.stop()
    assert json.loads(state_path.read_text())["processes"][0]["status"] == "stopped"
    assert spec.log_file.read_text().count("bye") >= 3  # every run appended to the same log
    assert "flaky (pid" in caplog.text and "exited with code 1" in caplog.text
