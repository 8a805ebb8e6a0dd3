"""Bulk reads (issue 16): every export and error report is audited, reveals have a daily quota per credential,
and a big export is built off the event loop."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from laowu.domain import statistics as st
from laowu.settings import Settings

from conftest import running_ledger, serving
from helpers import bearer, person, wait_decided

pytestmark = pytest.mark.services

PURPOSE = {"purpose": "核实身份信息"}


def _seconds_to_local_midnight() -> float:
    now = datetime.now(st.BEIJING)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - now).total_seconds()


async def _register(c: httpx.AsyncClient, pool: asyncpg.Pool, bodies: list[dict[str, Any]]) -> list[str]:
    answers = [(await c.post("/v1/workers", json=b)).json() for b in bodies]
    await wait_decided(pool, [a["event_id"] for a in answers])
    return [a["worker_id"] for a in answers]


async def test_reveal_quota_per_credential_per_day_is_kept_in_postgres(
    infra: Any, settings: Settings, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAOWU_REVEAL_QUOTA_PER_DAY", "2")
    low = Settings(**{k: v for k, v in settings.model_dump().items() if k != "reveal_quota_per_day"})
    assert low.reveal_quota_per_day == 2, "the quota is read from the environment"
    clerk = bearer("workstation", "ws-460106-01", "460106", low)
    other = bearer("workstation", "ws-460106-02", "460106", low)  # another credential, same region
    admin = bearer("admin", "laowu-ops", settings=low)
    async with running_ledger(settings), serving(low) as url, \
            httpx.AsyncClient(base_url=url, timeout=30, headers=admin) as c:
        ids = await _register(c, pool, [person(710 + n, region="460106") for n in range(4)])
        assert [(await c.post(f"/v1/workers/{w}:reveal", json=PURPOSE, headers=clerk)).status_code
                for w in ids[:2]] == [200, 200]
        r = await c.post(f"/v1/workers/{ids[2]}:reveal", json=PURPOSE, headers=clerk)
        assert r.status_code == 429, r.text
        assert abs(int(r.headers["retry-after"]) - _seconds_to_local_midnight()) < 10, "until Beijing midnight"
        (item,) = r.json()["detail"]
        assert item["type"] == "reveal_quota_exceeded" and item["loc"] == ["header", "authorization"]
        assert "上限" in item["msg_zh"] and item["ctx"]["quota"] == 2 and "id_number" not in r.text
        assert (await c.post(f"/v1/workers/{ids[2]}:reveal", json=PURPOSE, headers=other)).status_code == 200

    # Another instance (a restart, or the replica next door) counts the same day from PostgreSQL.
    async with serving(low) as url, httpx.AsyncClient(base_url=url, timeout=30, headers=admin) as c:
        r = await c.post(f"/v1/workers/{ids[3]}:reveal", json=PURPOSE, headers=clerk)
        assert r.status_code == 429, r.text
        assert (await c.post(f"/v1/workers/{ids[3]}:reveal", json=PURPOSE, headers=other)).status_code == 200
        audit = (await c.get("/v1/audit")).json()["items"]
    mine = [(a["action"], a["worker_id"], a["ip"]) for a in audit if a["actor"] == "workstation:ws-460106-01"]
    assert mine == [("reveal", ids[0], "127.0.0.1"), ("reveal", ids[1], "127.0.0.1"),
                    ("reveal.refused", ids[2], "127.0.0.1"), ("reveal.refused", ids[3], "127.0.0.1")]
    assert len([a for a in audit if a["action"] == "reveal"]) == 4  # two each
