"""Dispatch lists (派遣名单) end to end: real API, Kafka, PostgreSQL, the ledger consumer, real .xlsx files.

Workers are registered through the API by their workstation first; then a dispatch list naming them — and an
unknown person, a mistyped ID number, someone listed twice, someone already dispatched and someone of another
jurisdiction — becomes exactly one dispatch of the right people, a row-by-row error report, and nothing more
when the same file comes again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import openpyxl
import pytest

from laowu.settings import Settings

from helpers import bearer, person, wait_decided, wait_receipt

pytestmark = pytest.mark.services

WS, REGION = "ws-460105-01", "460105"
BRAND = {"brand_id": "haikou-jiazheng", "name": "海口家政", "region_code": "460100", "category": "service",
         "level": "municipal"}
EMPLOYER = {"employer_id": "emp-sz-build", "name": "深圳某建筑有限公司", "uscc": "91440300708461136T"}
DEPARTURE = dt.date.today() + dt.timedelta(days=10)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def block(**over: Any) -> list[list[Any]]:
    """The 派遣信息 rows as a clerk fills them (the organizer left blank: the credential's workstation)."""
    values: dict[str, Any] = {
        "品牌": "海口家政", "输出方式": "区域间定向输出", "输出地": "460105 秀英区", "输入地": "440300",
        "用人单位编号": EMPLOYER["employer_id"], "用人单位名称": EMPLOYER["name"], "统一社会信用代码": EMPLOYER["uscc"],
        "出发日期": dt.datetime.combine(DEPARTURE, dt.time()), "集中出行": "是", "岗位": "家政服务员、育婴员",
    } | over
    return [["海口市秀英区有组织劳务输出派遣名单"], *([k, v] for k, v in values.items()), []]


def workbook(rows: list[list[Any]], people: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "派遣名单"
    for r in rows:
        ws.append(r)
    ws.append(["身份证号", "姓名"])
    for p in people:
        ws.append(p)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def full_width(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)


async def register(api: httpx.AsyncClient, pool: asyncpg.Pool, people: list[dict[str, Any]],
                   auth: dict[str, str]) -> list[str]:
    r = await api.post("/v1/events:batch", headers=auth,
                       json={"events": [{"type": "worker.registered", "payload": p} for p in people]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert {x["status"] for x in results} == {"accepted"}, results
    decided = await wait_decided(pool, [x["event_id"] for x in results])
    assert {d["status"] for d in decided.values()} == {"applied"}, decided
    return [str(x["worker_id"]) for x in results]


async def upload(api: httpx.AsyncClient, data: bytes, auth: dict[str, str], name: str = "派遣名单.xlsx") -> httpx.Response:
    return await api.post("/v1/imports/dispatch", files={"file": (name, data)}, headers=auth)


async def finished(api: httpx.AsyncClient, import_id: str, auth: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = await api.get(f"/v1/imports/{import_id}", headers=auth)
        assert r.status_code == 200, r.text
        if r.json()["status"] != "running":
            return dict(r.json())
        assert time.monotonic() < deadline, r.json()
        await asyncio.sleep(0.1)


async def run(api: httpx.AsyncClient, data: bytes, auth: dict[str, str], name: str = "派遣名单.xlsx") -> dict[str, Any]:
    r = await upload(api, data, auth, name)
    assert r.status_code == 202 and r.json()["status"] == "running", r.text
    return await finished(api, r.json()["import_id"], auth)


async def report(api: httpx.AsyncClient, import_id: str, auth: dict[str, str]) -> dict[int, tuple[list[Any], str]]:
    r = await api.get(f"/v1/imports/{import_id}/errors.xlsx", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX)
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)["错误行"].iter_rows(values_only=True))
    assert rows[0] == ("行号", "身份证号", "姓名", "错误原因")
    return {int(row[0]): (list(row[1:-1]), str(row[-1])) for row in rows[1:]}


async def test_dispatch_list_one_dispatch_exact_workers_and_idempotent(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object, settings: Settings
) -> None:
    ws_auth = bearer("workstation", WS, REGION, settings)
    assert (await wait_receipt(api, (await api.post("/v1/brands", json=BRAND)).json()["event_id"]))["status"] == "applied"
    people = [person(600 + i, region=REGION) for i in range(8)]
    ids = await register(api, pool, people, ws_auth)
    elsewhere = person(700, region="440305")  # registered by another workstation, in another jurisdiction
    await register(api, pool, [elsewhere], bearer("workstation", "ws-440305-01", "440305", settings))

    # people[7] already left with an earlier dispatch.
    r = await api.post("/v1/dispatches", headers=ws_auth, json={
        "dispatch_id": "dsp-earlier", "organizer_id": WS, "brand_id": BRAND["brand_id"], "mode": "direct_intake",
        "origin_region": REGION, "destination_region": "440300", "employer": EMPLOYER,
        "departure_date": DEPARTURE.isoformat(), "worker_ids": [ids[7]]})
    assert r.status_code == 202, r.text
    await wait_decided(pool, [r.json()["event_id"]])

    unknown = person(800, region=REGION)
    bad = people[1]["id_number"][:17] + ("0" if people[1]["id_number"][17] != "0" else "1")
    rows = block()
    table = [
        [people[0]["id_number"], people[0]["name"]],
        [full_width(people[1]["id_number"]) + " ", people[1]["name"]],
        [unknown["id_number"], "查无此人"],
        [people[2]["id_number"], people[2]["name"]],
        [bad, people[1]["name"]],
        [people[3]["id_number"], None],
        [people[2]["id_number"], people[2]["name"] + "（重复）"],
        [people[7]["id_number"], people[7]["name"]],
        [None, None],
        [people[4]["id_number"], people[4]["name"]],
        [elsewhere["id_number"], elsewhere["name"]],
        [people[5]["id_number"], people[5]["name"]],
    ]
    data = workbook(rows, table)
    first = len(rows) + 2  # the title, the block, a blank row, the table header
    expected = {
        first + 2: "台账中无此人",
        first + 4: f"身份证号校验位错误，应为{people[1]['id_number'][17]}",
        first + 6: f"同一人员在本表中重复（与第{first + 3}行相同）",
        first + 7: "该人员已在岗或已派出，不能重复派遣",
        first + 10: "台账中无此人",  # not visible to this workstation: the same answer as unknown
    }
    dispatched = [ids[i] for i in (0, 1, 2, 3, 4, 5)]

    result = await run(api, data, ws_auth)
    assert (result["status"], result["kind"], result["workstation_id"]) == ("done", "dispatch", WS), result
    assert (result["rows"], result["accepted"], result["rejected"]) == (11, 6, 5)
    assert result["header_row"] == first - 1 and result["sheet"] == "派遣名单"
    dispatch_id, event_id = result["dispatch_id"], result["event_id"]
    assert dispatch_id.startswith("imp-") and event_id
    assert (await wait_decided(pool, [event_id]))[event_id]["status"] == "applied"

    got = (await api.get(f"/v1/dispatches/{dispatch_id}", headers=ws_auth)).json()
    assert sorted(w["worker_id"] for w in got["workers"]) == sorted(dispatched)
    assert {w["outcome"] for w in got["workers"]} == {"dispatched"} and got["status"] == "applied"
    assert (got["organizer_id"], got["brand_id"], got["mode"], got["origin_region"], got["destination_region"]) == (
        WS, BRAND["brand_id"], "directed_interregional", REGION, "440300")
    assert (got["employer_id"], got["employer_name"], got["departure_date"], got["group_transport"]) == (
        EMPLOYER["employer_id"], EMPLOYER["name"], DEPARTURE.isoformat(), True)
    assert got["positions"] == ["家政服务员", "育婴员"]
    worker = (await api.get(f"/v1/workers/{ids[1]}", headers=ws_auth)).json()
    assert worker["state"] == "dispatched"
    placement = worker["current_placement_id"]
    assert (await api.get(f"/v1/workers/{ids[6]}", headers=ws_auth)).json()["state"] == "registered"  # not listed

    errors = await report(api, result["import_id"], ws_auth)
    assert sorted(errors) == sorted(expected), errors
    for row_number, reason in expected.items():
        assert reason in errors[row_number][1], (row_number, errors[row_number])
    assert errors[first + 4][0] == [bad, people[1]["name"]]  # the values as uploaded

    async def unchanged() -> None:
        await asyncio.sleep(1.0)  # give the consumer time to (not) apply anything twice
        assert await pool.fetchval("SELECT count(*) FROM dispatches") == 2
        assert await pool.fetchval("SELECT count(*) FROM event_receipts WHERE type = 'dispatch.created'") == 2
        assert await pool.fetchval("SELECT count(*) FROM placements WHERE dispatch_id = $1", dispatch_id) == 6
        assert (await api.get(f"/v1/workers/{ids[1]}", headers=ws_auth)).json()["current_placement_id"] == placement

    # The same file again: the earlier import answers; nothing is published.
    again = await upload(api, data, ws_auth, "副本.xlsx")
    assert again.status_code == 202
    assert again.json() == {"import_id": result["import_id"], "status": "done", "duplicate": True}
    await unchanged()
    # Even when the earlier import is gone (failed half-way), a re-run publishes the same event, same dispatch.
    await pool.execute("UPDATE imports SET status = 'failed' WHERE import_id = $1", uuid.UUID(result["import_id"]))
    rerun = await run(api, data, ws_auth)
    assert rerun["import_id"] != result["import_id"]
    assert (rerun["accepted"], rerun["dispatch_id"], rerun["event_id"]) == (6, dispatch_id, event_id)
    await unchanged()

    # Another file listing the same people (it differs by its title): nobody is dispatched twice.
    other = await run(api, workbook([["另一份名单"], *rows[1:]], table), ws_auth, "另一份.xlsx")
    assert (other["status"], other["accepted"], other["rejected"]) == ("done", 0, 11), other
    assert other["dispatch_id"] is None and other["event_id"] is None
    errors = await report(api, other["import_id"], ws_auth)
    assert all("该人员已在岗或已派出" in errors[first + i][1] for i in (0, 1, 3, 5, 9, 11))
    await unchanged()

    # Another workstation cannot see this import.
    other_ws = bearer("workstation", "ws-460106-01", "460106", settings)
    assert (await api.get(f"/v1/imports/{result['import_id']}", headers=other_ws)).status_code == 404


async def test_dispatch_template_header_errors_access_and_cli(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object, settings: Settings, tmp_path: Path
) -> None:
    ws_auth = bearer("workstation", WS, REGION, settings)
    assert (await wait_receipt(api, (await api.post("/v1/brands", json=BRAND)).json()["event_id"]))["status"] == "applied"
    people = [person(900 + i, region=REGION) for i in range(3)]
    ids = await register(api, pool, people, ws_auth)

    # The template, as the workstation downloads it: its id and region already filled in.
    r = await api.get("/v1/templates/dispatch.xlsx", headers=ws_auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX)
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    ws = wb["派遣名单"]
    cells = {ws.cell(row=n, column=1).value: ws.cell(row=n, column=2) for n in range(2, 15)}
    assert cells["组织单位"].value == WS and cells["输出地"].value == REGION
    assert wb["选项"]["A2"].value == "海口家政（haikou-jiazheng）"
    for label, value in (("品牌", "海口家政（haikou-jiazheng）"), ("输出方式", "劳务协作"), ("输入地", "440305"),
                         ("用人单位编号", "emp-sz-2"), ("用人单位名称", "深圳某电子厂"),
                         ("出发日期", DEPARTURE.strftime("%Y年%m月%d日")), ("集中出行", "否")):
        cells[label].value = value
    for p in people:
        ws.append([p["id_number"], p["name"]])
    out = io.BytesIO()
    wb.save(out)
    result = await run(api, out.getvalue(), ws_auth, "模板.xlsx")
    assert (result["status"], result["rows"], result["accepted"]) == ("done", 3, 3), result
    await wait_decided(pool, [result["event_id"]])
    got = (await api.get(f"/v1/dispatches/{result['dispatch_id']}", headers=ws_auth)).json()
    assert sorted(w["worker_id"] for w in got["workers"]) == sorted(ids)
    assert (got["mode"], got["destination_region"], got["group_transport"]) == ("cooperation", "440305", False)

    # A wrong 派遣信息 block: the import fails with every reason, nobody is dispatched.
    uscc = EMPLOYER["uscc"]
    rows = block(输出方式="自行前往", 统一社会信用代码=uscc[:17] + ("0" if uscc[17] != "0" else "1"),
                 出发日期="下周一", 输入地="449999", 品牌="没有的品牌")
    failed = await run(api, workbook(rows, [[p["id_number"], p["name"]] for p in people]), ws_auth, "错误.xlsx")
    assert failed["status"] == "failed" and failed["accepted"] == 0, failed
    for reason in ("派遣信息有误，未派遣任何人", "输出方式无效：自行前往", f"统一社会信用代码校验位错误，应为{uscc[17]}",
                   "出发日期格式错误：下周一", "输入地代码不存在：449999", "品牌不存在：没有的品牌"):
        assert reason in failed["error"], (reason, failed["error"])
    assert failed["dispatch_id"] is None
    assert await pool.fetchval("SELECT count(*) FROM dispatches") == 1

    # Who may: an employer may not upload a dispatch list; an admin names the workstation.
    assert (await upload(api, b"x", bearer("employer", "emp-sz-2", "440305", settings))).status_code == 403
    assert (await api.post("/v1/imports/dispatch", files={"file": ("a.csv", b"x")})).status_code == 422
    r = await api.post("/v1/imports/dispatch", files={"file": ("b.xlsx", workbook(block(), []))},
                       data={"workstation_id": WS})
    assert r.status_code == 202
    admin = await finished(api, r.json()["import_id"], {})
    assert (admin["status"], admin["workstation_id"], admin["rows"], admin["dispatch_id"]) == ("done", WS, 0, None)

    # ``laowu import dispatch``: the same people once more — everyone refused, the report saved beside the file.
    from rich.console import Console

    from laowu.imports.cli import EXIT_REJECTED_ROWS, import_dispatch

    path = tmp_path / "再派一次.xlsx"
    path.write_bytes(workbook(block(), [[p["id_number"], p["name"]] for p in people]))
    printed = io.StringIO()
    code = await asyncio.to_thread(import_dispatch, path, str(api.base_url), "", token=ws_auth["Authorization"].split()[1],
                                   console=Console(file=printed, width=120), poll_seconds=0.1)
    assert code == EXIT_REJECTED_ROWS, printed.getvalue()
    assert "派遣 0 行" in printed.getvalue() and "无人可派遣" in printed.getvalue()
    saved = openpyxl.load_workbook(tmp_path / "再派一次.errors.xlsx", read_only=True)["错误行"]
    reasons = [row[-1] for row in saved.iter_rows(min_row=2, values_only=True)]
    assert len(reasons) == 3 and all("该人员已在岗或已派出" in str(r) for r in reasons)
