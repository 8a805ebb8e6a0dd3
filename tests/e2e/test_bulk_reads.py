"""Bulk reads (issue 16): every export and error report is audited, reveals have a daily quota per credential,
and a big export is built off the event loop."""

from __future__ import annotations

import asyncio
import io
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook

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

    # Other instances (a restart, two replicas side by side) count the same day from PostgreSQL, and concurrent
    # reveals through both replicas cannot pass the quota together.
    third = bearer("workstation", "ws-460106-03", "460106", low)
    async with serving(low) as url, serving(low) as url2, httpx.AsyncClient(base_url=url, timeout=30, headers=admin) as c, \
            httpx.AsyncClient(base_url=url2, timeout=30, headers=admin) as c2:
        for client in (c, c2):
            r = await client.post(f"/v1/workers/{ids[3]}:reveal", json=PURPOSE, headers=clerk)
            assert r.status_code == 429, r.text
        assert (await c2.post(f"/v1/workers/{ids[3]}:reveal", json=PURPOSE, headers=other)).status_code == 200
        rush = await asyncio.gather(*(client.post(f"/v1/workers/{w}:reveal", json=PURPOSE, headers=third)
                                      for client in (c, c2) for w in ids))
        assert sorted(r.status_code for r in rush) == [200, 200] + [429] * 6
        audit = (await c.get("/v1/audit", params={"limit": 500})).json()["items"]
    mine = [(a["action"], a["worker_id"], a["ip"]) for a in audit if a["actor"] == "workstation:ws-460106-01"]
    assert mine == [("reveal", ids[0], "127.0.0.1"), ("reveal", ids[1], "127.0.0.1"),
                    ("reveal.refused", ids[2], "127.0.0.1"), ("reveal.refused", ids[3], "127.0.0.1"),
                    ("reveal.refused", ids[3], "127.0.0.1")]
    assert [a["action"] for a in audit].count("reveal") == 6  # two per credential


BIG = 20_000


async def _seed_ledger(pool: asyncpg.Pool, n: int, region: str = "460106", first: int = 1) -> None:
    """``n`` workers written straight into the ledger (as a migrated province would hold them), in one statement."""
    await pool.execute(
        """INSERT INTO workers (worker_id, id_number_enc, id_number_masked, name, sex, birth_date, phone_masked,
                                household_region, brand_ids, priority_groups, workstation_ids, state, registered_at,
                                version)
           SELECT 'w' || lpad(to_hex(i), 24, '0'), 'enc', $2 || '************', '测试' || i,
                  CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END, date '1970-01-01' + (i % 12000),
                  '138****' || lpad((i % 10000)::text, 4, '0'), $2, '{}', '{poverty_alleviated}',
                  ARRAY['ws-' || $2 || '-01'], 'registered', timestamptz '2026-03-01 08:00+08' + i * interval '1 minute', 1
             FROM generate_series($3::int, $3::int + $1::int - 1) i""", n, region, first)


async def test_big_export_is_built_off_the_loop_while_healthz_stays_fast(api: httpx.AsyncClient,
                                                                          pool: asyncpg.Pool) -> None:
    """Issue 16: the workbook was rendered on the event loop (0.3 s per 2,000 rows), stalling every request."""
    await _seed_ledger(pool, BIG)
    export = asyncio.create_task(api.get("/v1/export/workers.xlsx", params={"region": "460106"}, timeout=300))
    await asyncio.sleep(0.05)
    times: list[float] = []  # each /healthz, and each pause between them: a stalled loop shows in one or the other
    while not export.done():
        started = time.monotonic()
        assert (await api.get("/healthz")).status_code == 200
        times.append(time.monotonic() - started)
        started = time.monotonic()
        await asyncio.sleep(0.005)
        times.append(time.monotonic() - started - 0.005)
    r = await export
    if dump := os.environ.get("LAOWU_TEST_EXPORT_DUMP"):  # to compare two releases' files by hand
        Path(dump).write_bytes(r.content)
    assert r.status_code == 200, r.text
    print(f"export of {BIG} rows: {len(times) // 2} /healthz probes, slowest {max(times or [0]):.3f}s")
    assert len(times) >= 20, f"only {len(times) // 2} probes: the export was too quick to show anything"
    assert max(times) < 0.1, f"the event loop stalled {max(times):.3f}s while exporting ({len(times) // 2} probes)"
    rows = list(load_workbook(io.BytesIO(r.content), read_only=True)["从业人员台账"].iter_rows(values_only=True))
    assert len(rows) == BIG + 1 and rows[0][:3] == ("人员编号", "身份证号(脱敏)", "姓名")
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first == {"人员编号": "w" + "0" * 23 + "1", "身份证号(脱敏)": "460106************", "姓名": "测试1",
                     "性别": "男", "出生年月": "1970-01", "手机号(脱敏)": "138****0001", "户籍地代码": "460106",
                     "户籍地": "海南省海口市龙华区", "所属劳务品牌": None, "优先输出对象": "脱贫人口", "职业编码": None,
                     "当前状态": "已登记", "当前岗位编号": None, "最近跟踪服务": None, "登记时间": "2026-03-01 08:01"}
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:]), "worker id order, every page once"


async def test_every_bulk_read_is_audited_before_it_is_sent(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    """Issue 16: exports and errors.xlsx (full ID numbers as uploaded) left no trace in the audit log."""
    await _seed_ledger(pool, 30, "460106")
    await _seed_ledger(pool, 5, "500101", first=100)
    bureau = bearer("bureau", "hrss-460000", "460000")
    r = await api.get("/v1/export/workers.xlsx", params={"region": "460100"}, headers=bureau)
    assert r.status_code == 200, r.text
    r = await api.get("/v1/export/stats.xlsx", headers=bureau)
    assert r.status_code == 200, r.text

    # An import whose one row is refused: its report gives that row back as uploaded, ID number and all.
    bad = person(720, region="460106")
    number = bad["id_number"][:17] + ("0" if bad["id_number"][17] != "0" else "1")  # wrong check character
    sheet = "身份证号,姓名,性别,出生日期,手机号,户籍地\n" + \
        f"{number},{bad['name']},男,{bad['birth_date']},{bad['phone']},460106\n"
    r = await api.post("/v1/imports/workers", files={"file": ("a.csv", sheet.encode())},
                       data={"workstation_id": "ws-460106-01"})
    assert r.status_code == 202, r.text
    import_id = r.json()["import_id"]
    deadline = time.monotonic() + 60
    while (await api.get(f"/v1/imports/{import_id}")).json()["status"] == "running":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    r = await api.get(f"/v1/imports/{import_id}/errors.xlsx")
    assert r.status_code == 200 and number in str(list(load_workbook(io.BytesIO(r.content))["错误行"].values))

    entries = (await api.get("/v1/audit")).json()["items"]
    got = {a["action"]: a for a in entries}
    assert set(got) == {"export.workers", "export.stats", "import.errors"}, entries
    for action, role, org in (("export.workers", "bureau", "hrss-460000"), ("export.stats", "bureau", "hrss-460000"),
                              ("import.errors", "admin", "laowu-ops")):
        assert (got[action]["role"], got[action]["org"], got[action]["ip"]) == (role, org, "127.0.0.1"), got[action]
    assert got["export.workers"]["detail"] == {"filters": {"brand_id": None, "region": "460100"}, "rows": 30}
    assert got["export.stats"]["detail"]["filters"] == {"region": "460000"}
    assert got["import.errors"]["detail"] == {"import_id": import_id, "kind": "workers", "rows": 1}
    assert number not in str(entries) and bad["phone"] not in str(entries), "what was read, never the values"

    # Audit first: when the entry cannot be written, nothing is sent.
    await pool.execute("""CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS
                          $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$""")
    await pool.execute("CREATE TRIGGER audit_down BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_down()")
    for path in ("/v1/export/workers.xlsx", f"/v1/imports/{import_id}/errors.xlsx"):
        r = await api.get(path)
        assert r.status_code >= 500 and not r.content.startswith(b"PK"), (path, r.status_code)


async def test_concurrent_reveals_cannot_pass_the_quota_together(settings: Settings) -> None:
    """Count and audit entry are one transaction under a lock per credential: twelve at once, three get through."""
    from laowu.store import reveals
    from laowu.store.pool import create_pool

    assert settings.database_url
    replicas = await create_pool(settings.database_url, min_size=12, max_size=12)
    try:
        verdicts = await asyncio.gather(*(
            reveals.spend(replicas, actor="workstation:ws-rush", role="workstation", org="ws-rush", quota=3,
                          worker_id=f"w{i:024x}", purpose="核实身份信息", ip=None) for i in range(12)))
        assert sorted(v.allowed for v in verdicts) == [False] * 9 + [True] * 3
        assert sorted(v.used for v in verdicts) == [0, 1, 2] + [3] * 9
        other = await reveals.spend(replicas, actor="workstation:ws-other", role="workstation", org="ws-other",
                                    quota=3, worker_id="w" + "0" * 24, purpose="核实身份信息", ip=None)
        assert other.allowed and other.used == 0
    finally:
        await replicas.close()
