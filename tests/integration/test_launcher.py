"""`laowu up --detach / status / down` end to end: real processes, a kill -9, a no-op second up.

Runs the real command in a private ``LAOWU_HOME`` with free ports, so it never touches a developer's
running stack.  With the API and the ledger consumer present it runs the whole system; otherwise
(``LAOWU_SERVICES=none``) only Kafka and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from laowu.stack.ports import free_port
from laowu.stack.processes import child_env, laowu_argv, stop_process

pytestmark = pytest.mark.timeout(90)

REPO = Path(__file__).resolve().parents[2]
FULL = (REPO / "api" / "server.py").is_file() and (REPO / "consumers" / "runner.py").is_file()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _cmdline(pid: int) -> list[str]:
    try:
        return [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return []


def _wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


async def _kafka_metadata(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await asyncio.wait_for(admin.start(), 5)
        return bool((await asyncio.wait_for(admin.describe_cluster(), 5)).get("brokers"))
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


class Laowu:
    """Runs ``python -m laowu.cli`` against one private home."""

    def __init__(self, home: Path) -> None:
        self.api_port = free_port()
        extra = {"LAOWU_HOME": str(home), "LAOWU_API_PORT": str(self.api_port)}
        if "LAOWU_KAFKA_CACHE" in os.environ:
            extra["LAOWU_KAFKA_CACHE"] = os.environ["LAOWU_KAFKA_CACHE"]
        if not FULL:
            extra["LAOWU_SERVICES"] = "none"
        self.env = child_env(None, extra)  # a private stack: nothing of the shell's Laowu, Kafka or database

    def __call__(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            laowu_argv(*args),
            cwd=REPO, env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )

    def status(self) -> dict[str, Any]:
        res = self("status", "--json")
        doc: dict[str, Any] = json.loads(res.stdout)
        doc["rc"] = res.returncode
        return doc


def _procs(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in doc["processes"]}


def test_up_detach_survives_kill9_and_down_leaves_nothing(tmp_path: Path) -> None:
    laowu = Laowu(tmp_path / "home")
    seen: set[int] = set()
    try:
        started = time.monotonic()
        up = laowu("up", "--detach", timeout=125)
        assert up.returncode == 0, up.stdout + up.stderr
        print(f"up --detach: {time.monotonic() - started:.1f}s")

        doc = laowu.status()
        procs = _procs(doc)
        expected = {"kafka", "postgres"} | ({"api", "ledger-consumer", "relay", "streams"} if FULL else set())
        assert doc["rc"] == 0 and set(procs) == expected
        seen |= {p["pid"] for p in procs.values()}
        assert "kafka.Kafka" in _cmdline(procs["kafka"]["pid"])
        assert all(_alive(p["pid"]) and p["restarts"] == 0 for p in procs.values()), procs
        assert doc["database_url"].startswith("postgresql://")
        if FULL:
            assert httpx.get(f"{doc['api_url']}/readyz", timeout=5).status_code == 200

        old_kafka = procs["kafka"]["pid"]
        stop_process(old_kafka, signal.SIGKILL)
        killed = time.monotonic()

        def kafka_back() -> dict[str, Any] | None:
            kafka = _procs(laowu.status())["kafka"]
            if kafka["restarts"] >= 1 and kafka["pid"] != old_kafka and _alive(kafka["pid"]):
                return kafka
            return None

        kafka = _wait_for("kafka to be restarted", kafka_back, 30)
        seen.add(kafka["pid"])
        assert "kafka.Kafka" in _cmdline(kafka["pid"])
        _wait_for("kafka metadata", lambda: asyncio.run(_kafka_metadata(doc["kafka_bootstrap"])), 30)
        print(f"kafka back after kill -9: {time.monotonic() - killed:.1f}s")

        again = laowu("up", "--detach")
        assert again.returncode == 0 and "already running" in again.stdout, again.stdout + again.stderr
        assert _procs(laowu.status())["postgres"]["pid"] == procs["postgres"]["pid"]

        stopping = time.monotonic()
        down = laowu("down", timeout=100)
        assert down.returncode == 0, down.stdout + down.stderr
        print(f"down: {time.monotonic() - stopping:.1f}s")
        assert not [pid for pid in seen if _alive(pid)]
        assert laowu.status()["rc"] == 3
    finally:
        if laowu.status()["rc"] == 0:
            laowu("down", timeout=100)
        for pid in seen:
            if _alive(pid):
                stop_process(pid, signal.SIGKILL)
