"""Spreadsheet import end to end: real API, Kafka, PostgreSQL, the ledger consumer, real files.

Files come from openpyxl and from LibreOffice (``soffice --headless --convert-to xlsx``) and carry what
workstation clerks' files carry: a title row, merged two-row headers, blank rows, full-width digits,
trailing spaces, dates as Excel serials, as date cells and as text, GBK-encoded CSV.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import shutil
import subprocess
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import openpyxl
import pytest
from openpyxl.utils.datetime import to_excel

from laowu.auth import issue
from laowu.privacy import Privacy
from laowu.settings import Settings

from helpers import COUNTIES, id_number, person, wait_receipt

pytestmark = pytest.mark.services

WS = "ws-460105-01"
BRAND = {"brand_id": "wenchang-chicken-chef", "name": "文昌鸡师傅", "region_code": "469005",
         "category": "service", "level": "municipal"}
HEADER = ["身份证号", "姓名", "性别", "出生日期", "手机号", "户籍地", "品牌", "优先群体"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(SOFFICE is None, reason="libreoffice not installed")


# ---- the people in the files ------------------------------------------------------------------------------
def _zh_sex(sex: str) -> str:
    return "男" if sex == "M" else "女"


def _full_width(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)


def _date_forms(birth: dt.date, i: int, cells: bool) -> Any:
    """Every way a birth date turns up, round robin; ``cells`` allows date cells and Excel serials."""
    forms: list[Any] = [f"{birth:%Y/}{birth.month}/{birth.day}", f"{birth.year}年{birth.month}月{birth.day}日",
                        f"{birth:%Y%m%d}", birth.isoformat() + " "]
    if cells:
        forms += [dt.datetime.combine(birth, dt.time()), int(to_excel(dt.datetime.combine(birth, dt.time())))]
    return forms[i % len(forms)]


def valid_people(base: int, count: int) -> list[dict[str, Any]]:
    return [person(base + i) for i in range(count)]


def valid_row(p: dict[str, Any], i: int, cells: bool = True) -> list[Any]:
    birth = dt.date.fromisoformat(p["birth_date"])
    number = _full_width(p["id_number"]) + "  " if i % 3 == 0 else p["id_number"]
    brand = ["", "文昌鸡师傅（wenchang-chicken-chef）", "wenchang-chicken-chef", "文昌鸡师傅"][i % 4]
    groups = ["", "脱贫人口、残疾人", "退役军人"][i % 3]
    return [number, p["name"] + "  ", _zh_sex(p["sex"]), _date_forms(birth, i, cells), p["phone"],
            p["household_region"], brand, groups]


def invalid_rows(base: int) -> list[tuple[list[Any], str]]:
    """(row, the Chinese reason the error report must give)."""
    out: list[tuple[list[Any], str]] = []
    p = person(base)
    wrong = "0" if p["id_number"][17] != "0" else "1"
    out.append(([p["id_number"][:17] + wrong, p["name"], _zh_sex(p["sex"]), p["birth_date"], p["phone"],
                 p["household_region"], "", ""], f"身份证号校验位错误，应为{p['id_number'][17]}"))
    p = person(base + 1)
    out.append(([p["id_number"], p["name"], _zh_sex("F" if p["sex"] == "M" else "M"), p["birth_date"], p["phone"],
                 p["household_region"], "", ""], "性别与身份证号不符"))
    p = person(base + 2)
    out.append(([p["id_number"], p["name"], _zh_sex(p["sex"]), p["birth_date"], p["phone"], "460199", "", ""],
                "户籍地代码不存在"))
    today = dt.date.today()
    birth = today.replace(year=today.year - 15, day=min(today.day, 28))
    minor = id_number("460105", birth, 3 + base % 500)
    out.append(([minor, "少年", _zh_sex("M" if int(minor[16]) % 2 else "F"), birth.isoformat(), "", "460105", "", ""],
                "未满16周岁"))
    p = person(base + 4)
    out.append(([p["id_number"], p["name"], _zh_sex(p["sex"]), p["birth_date"], "1380013", p["household_region"],
                 "", ""], "手机号格式错误"))
    p = person(base + 5)
    out.append(([p["id_number"], p["name"], _zh_sex(p["sex"]), p["birth_date"], p["phone"], p["household_region"],
                 "no-such-brand", ""], "品牌不存在：no-such-brand"))
    return out


# ---- driving the API ----------------------------------------------------------------------------------
def _login(api: httpx.AsyncClient, settings: Settings, role: str = "admin", org: str = "ops",
           region: str | None = None) -> str:
    """Every request of ``api`` from now on carries this credential; returns the token."""
    token = issue(settings, role=role, org=org, region=region)
    api.headers["Authorization"] = f"Bearer {token}"
    return token


async def _brand(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/brands", json=BRAND)
    assert r.status_code == 202, r.text
    assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"


async def _upload(api: httpx.AsyncClient, data: bytes, filename: str, workstation: str = WS) -> httpx.Response:
    return await api.post("/v1/imports/workers", files={"file": (filename, data)}, data={"workstation_id": workstation})


async def _finished(api: httpx.AsyncClient, import_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = await api.get(f"/v1/imports/{import_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        if body["status"] != "running":
            return dict(body)
        assert time.monotonic() < deadline, f"import still running: {body}"
        await asyncio.sleep(0.1)


async def _import(api: httpx.AsyncClient, data: bytes, filename: str) -> dict[str, Any]:
    r = await _upload(api, data, filename)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "running"
    return await _finished(api, r.json()["import_id"])


async def _errors(api: httpx.AsyncClient, import_id: str) -> dict[int, tuple[list[Any], str]]:
    r = await api.get(f"/v1/imports/{import_id}/errors.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX)
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)["错误行"].iter_rows(values_only=True))
    assert rows[0][0] == "行号" and rows[0][-1] == "错误原因"
    return {int(row[0]): (list(row[1:-1]), str(row[-1])) for row in rows[1:]}


def _worker_ids(settings: Settings, people: list[dict[str, Any]]) -> list[str]:
    privacy = Privacy(settings)
    return [privacy.worker_id(p["id_number"]) for p in people]


async def _wait_landed(pool: asyncpg.Pool, worker_ids: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while await pool.fetchval("SELECT count(*) FROM workers WHERE worker_id = ANY($1)", worker_ids) < len(worker_ids):
        assert time.monotonic() < deadline, "not every valid row reached the ledger"
        await asyncio.sleep(0.1)


async def _assert_each_once(pool: asyncpg.Pool, worker_ids: list[str]) -> None:
    await _wait_landed(pool, worker_ids)
    assert await pool.fetchval("SELECT count(*) FROM workers") == len(set(worker_ids))
    per_worker = await pool.fetch(
        "SELECT worker_id, count(*) AS n FROM worker_events WHERE type = 'worker.registered' GROUP BY worker_id")
    assert {r["worker_id"]: r["n"] for r in per_worker} == dict.fromkeys(worker_ids, 1)


def _check_reasons(report: dict[int, tuple[list[Any], str]], expected: dict[int, str]) -> None:
    assert sorted(report) == sorted(expected), (report, expected)
    for row_number, reason in expected.items():
        assert reason in report[row_number][1], (row_number, report[row_number][1], reason)


def _messy_workbook(
    valid: list[dict[str, Any]], invalid: list[tuple[list[Any], str]]
) -> tuple[openpyxl.Workbook, dict[int, str]]:
    """Title row, a two-row header with merged cells, blank rows; returns the expected reason per row number."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "登记表"
    ws.append(["某某镇劳务人员实名登记表（2025年）"])
    ws.merge_cells("A1:H1")
    ws.append(["身份证号", "姓 名", "基本信息", None, None, None, "劳务品牌", "优先群体"])
    ws.append([None, None, "性别（男/女）", "出生日期", "手机号码", "户籍地（区划代码）", None, None])
    for col in "ABGH":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("C2:F2")
    expected: dict[int, str] = {}
    for i, p in enumerate(valid):
        ws.append(valid_row(p, i))
        if i % 4 == 3:
            ws.append([None] * 8)
            ws.append(["  ", None, "\u3000"])
    for row, reason in invalid:
        ws.append(row)
        expected[ws.max_row] = reason
    return wb, expected


def _bytes(wb: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- tests --------------------------------------------------------------------------------------------
async def test_openpyxl_file_every_row_once_and_reasons(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object, settings: Settings
) -> None:
    _login(api, settings)
    await _brand(api)
    valid = valid_people(1000, 24)
    invalid = invalid_rows(5000)
    wb, expected = _messy_workbook(valid, invalid)
    data = _bytes(wb)

    result = await _import(api, data, "登记表.xlsx")
    assert result["status"] == "done", result
    assert (result["rows"], result["accepted"], result["rejected"]) == (len(valid) + len(invalid), len(valid), len(invalid))
    assert result["header_row"] == 3 and result["sheet"] == "登记表"
    ids = _worker_ids(settings, valid)
    await _assert_each_once(pool, ids)
    w = (await api.get(f"/v1/workers/{ids[1]}")).json()
    assert w["brand_ids"] == ["wenchang-chicken-chef"] and w["priority_groups"] == ["poverty_alleviated", "disabled"]
    assert w["name"] == valid[1]["name"]  # trailing spaces gone

    report = await _errors(api, result["import_id"])
    _check_reasons(report, expected)
    # The status shows the first rows to fix, with the same reasons as errors.xlsx and none of the row's values.
    assert [i["row"] for i in result["issues"]] == sorted(report)[:20], result["issues"]
    assert all(i["severity"] == "error" and i["reason"] == report[i["row"]][1] for i in result["issues"])
    assert set(result["issues"][0]) == {"row", "severity", "reason"}
    first = min(report)
    assert report[first][0][0] == invalid[0][0][0]  # the values as uploaded, ID number as text

    # The same file again: the earlier import answers, nothing is published, nobody is registered twice.
    again = await _upload(api, data, "copy.xlsx")
    assert again.status_code == 202 and again.json() == {"import_id": result["import_id"], "status": "done",
                                                          "duplicate": True}
    # Even when the earlier import is gone (failed half-way), a re-run publishes the same event ids.
    await pool.execute("UPDATE imports SET status = 'failed' WHERE import_id = $1", uuid.UUID(result["import_id"]))
    rerun = await _import(api, data, "登记表.xlsx")
    assert rerun["import_id"] != result["import_id"] and rerun["accepted"] == len(valid)
    receipts = await pool.fetchval("SELECT count(*) FROM event_receipts WHERE type = 'worker.registered'")
    assert receipts == len(valid)
    await asyncio.sleep(1.0)  # give the consumer time to (not) apply anything twice
    await _assert_each_once(pool, ids)

    # Another workstation importing the same file registers with the same people (merged, not duplicated).
    other = await _upload(api, data, "登记表.xlsx", workstation="ws-460106-01")
    assert other.status_code == 202 and other.json()["import_id"] != result["import_id"]
    assert (await _finished(api, other.json()["import_id"]))["accepted"] == len(valid)
    deadline = time.monotonic() + 60
    while await pool.fetchval("SELECT count(*) FROM workers WHERE 'ws-460106-01' = ANY(workstation_ids)") < len(valid):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert await pool.fetchval("SELECT count(*) FROM workers") == len(valid)


async def test_gbk_and_utf8_csv(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object, settings: Settings) -> None:
    _login(api, settings)
    await _brand(api)
    landed: list[str] = []
    for n, encoding in enumerate(("gbk", "utf-8-sig", "utf-8")):
        valid = valid_people(2000 + 100 * n, 9)
        invalid = invalid_rows(6000 + 100 * n)
        rows: list[list[Any]] = [HEADER]
        expected: dict[int, str] = {}
        for i, p in enumerate(valid):
            rows.append(valid_row(p, i, cells=False))
            if i == 4:
                rows.append([""] * 8)
        for row, reason in invalid:
            rows.append(row)
            expected[len(rows)] = reason
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        result = await _import(api, out.getvalue().encode(encoding), f"登记-{encoding}.csv")
        assert (result["status"], result["accepted"], result["rejected"]) == ("done", len(valid), len(invalid)), result
        _check_reasons(await _errors(api, result["import_id"]), expected)
        landed += _worker_ids(settings, valid)
    await _assert_each_once(pool, landed)


def _soffice(source: Path, infilter: str | None = None) -> Path:
    """Convert with LibreOffice into ``source.parent/lo``, with a private profile (parallel-safe)."""
    assert SOFFICE is not None
    out = source.parent / "lo"
    profile = source.parent / f"lo-profile-{uuid.uuid4().hex[:8]}"
    argv = [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless"]
    if infilter:
        argv.append(f"--infilter={infilter}")
    argv += ["--convert-to", "xlsx", "--outdir", str(out), str(source)]
    done = subprocess.run(argv, capture_output=True, timeout=240, check=False)
    target = out / (source.stem + ".xlsx")
    assert target.exists(), done.stderr.decode(errors="replace") + done.stdout.decode(errors="replace")
    return target


@needs_libreoffice
async def test_libreoffice_files(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object, settings: Settings, tmp_path: Path
) -> None:
    _login(api, settings)
    await _brand(api)
    landed: list[str] = []

    # 1. A GBK CSV opened by LibreOffice with the ID, phone and region columns as text (CSV filter options:
    #    separator 44 = ',', quote 34, charset 70 = GBK, from line 1, column formats col/2 = text).
    valid = valid_people(3000, 10)
    invalid = invalid_rows(7000)
    rows: list[list[Any]] = [["劳务人员登记表"], HEADER]
    expected: dict[int, str] = {}
    for i, p in enumerate(valid):
        rows.append(valid_row(p, i, cells=False))
        if i in (2, 6):
            rows.append([])
    for row, reason in invalid:
        rows.append(row)
        expected[len(rows)] = reason
    source = tmp_path / "gbk登记.csv"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    source.write_bytes(out.getvalue().encode("gbk"))
    converted = await asyncio.to_thread(_soffice, source, "CSV:44,34,70,1,1/2/5/2/6/2")
    first_cells = next(openpyxl.load_workbook(converted, read_only=True).active.iter_rows(min_row=3, values_only=True))
    assert isinstance(first_cells[3], str | dt.datetime)
    result = await _import(api, converted.read_bytes(), converted.name)
    assert (result["status"], result["accepted"], result["rejected"]) == ("done", len(valid), len(invalid)), result
    _check_reasons(await _errors(api, result["import_id"]), expected)
    landed += _worker_ids(settings, valid)

    # 2. The same kind of CSV in UTF-8 with LibreOffice's default column types: ID numbers become numbers and
    #    lose their last digits (all but those ending in X, which stay text) — refused with the reason, never guessed.
    valid = valid_people(3100, 40)
    rows = [HEADER, *([p["id_number"], *valid_row(p, i, cells=False)[1:]] for i, p in enumerate(valid))]
    source = tmp_path / "utf8.csv"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    source.write_bytes(out.getvalue().encode("utf-8-sig"))
    converted = await asyncio.to_thread(_soffice, source, "CSV:44,34,76,1")
    result = await _import(api, converted.read_bytes(), converted.name)
    with_x = [p for p in valid if p["id_number"].endswith("X")]
    assert with_x and result["accepted"] == len(with_x) and result["rejected"] == len(valid) - len(with_x)
    report = await _errors(api, result["import_id"])
    assert all("身份证号被Excel存成了数字" in reason for _, reason in report.values())
    landed += _worker_ids(settings, with_x)

    # 3. An openpyxl workbook with merged two-row headers, dates as cells / serials / text, re-saved by LibreOffice.
    valid = valid_people(3200, 12)
    invalid = invalid_rows(7200)
    wb, expected = _messy_workbook(valid, invalid)
    source = tmp_path / "merged.xlsx"
    wb.save(source)
    (tmp_path / "in").mkdir()
    moved = source.rename(tmp_path / "in" / "merged.xlsx")
    converted = await asyncio.to_thread(_soffice, moved)
    result = await _import(api, converted.read_bytes(), converted.name)
    assert (result["status"], result["accepted"], result["rejected"]) == ("done", len(valid), len(invalid)), result
    _check_reasons(await _errors(api, result["import_id"]), expected)
    landed += _worker_ids(settings, valid)

    await _assert_each_once(pool, landed)


async def test_template_download(api: httpx.AsyncClient, ledger: object, settings: Settings) -> None:
    _login(api, settings)
    await _brand(api)
    r = await api.get("/v1/templates/workers.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith(XLSX)
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert [c.value for c in wb["登记表"][2]][:2] == ["身份证号", "姓名"]
    assert wb["选项"]["C2"].value == "文昌鸡师傅（wenchang-chicken-chef）"
    elsewhere = openpyxl.load_workbook(io.BytesIO((await api.get("/v1/templates/workers.xlsx?region=440300")).content))
    assert elsewhere["选项"]["C2"].value is None
    inside = openpyxl.load_workbook(io.BytesIO((await api.get("/v1/templates/workers.xlsx?region=460000")).content))
    assert inside["选项"]["C2"].value == "文昌鸡师傅（wenchang-chicken-chef）"

    # Filled in and uploaded as it is: the example row is skipped, the clerk's rows land.
    ws = wb["登记表"]
    ws.append(valid_row(person(4000), 1))
    result = await _import(api, _bytes(wb), "模板.xlsx")
    assert (result["status"], result["rows"], result["accepted"]) == ("done", 1, 1)


async def test_refusals(api: httpx.AsyncClient, settings: Settings) -> None:
    api.headers.pop("Authorization", None)
    r = await _upload(api, b"x", "a.csv")
    assert r.status_code == 401
    _login(api, settings)
    r = await _upload(api, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")
    assert r.status_code == 415 and "xls" in r.json()["detail"][0]["msg_zh"]
    r = await _upload(api, b"", "empty.csv")
    assert r.status_code == 422
    r = await api.post("/v1/imports/workers", files={"file": ("a.csv", b"x")})
    assert r.status_code == 422  # an admin must name the workstation
    _login(api, settings, role="employer", org="emp-1", region="440300")
    assert (await _upload(api, b"x", "a.csv")).status_code == 403
    _login(api, settings)
    r = await _upload(api, b"x", "a.csv", workstation="bad id!")
    assert r.status_code == 422
    assert (await api.get(f"/v1/imports/{uuid.uuid4()}")).status_code == 404
    assert (await api.get(f"/v1/imports/{uuid.uuid4()}/errors.xlsx")).status_code == 404

    r = await _upload(api, "姓名,电话\n张三,13800138000\n".encode(), "no-header.csv")
    assert r.status_code == 202
    result = await _finished(api, r.json()["import_id"])
    assert result["status"] == "failed" and "未找到表头" in result["error"] and "身份证号" in result["error"]


async def test_cli_uploads_and_follows(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object, settings: Settings, tmp_path: Path
) -> None:
    from rich.console import Console

    from laowu.imports.cli import import_workers

    valid = valid_people(8000, 30)
    invalid = invalid_rows(8100)[:3]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for i, p in enumerate(valid):
        ws.append(valid_row(p, i))
    for row, _ in invalid:
        ws.append(row)
    path = tmp_path / "站点登记.xlsx"
    wb.save(path)
    out = io.StringIO()
    token = _login(api, settings)
    await _brand(api)
    code = await asyncio.to_thread(import_workers, path, str(api.base_url), WS, token=token,
                                   console=Console(file=out, width=120), poll_seconds=0.1)
    assert code == 1, out.getvalue()
    assert "登记 30 行" in out.getvalue() and "错误 3 行" in out.getvalue()
    report = openpyxl.load_workbook(tmp_path / "站点登记.errors.xlsx", read_only=True)["错误行"]
    assert len(list(report.iter_rows(values_only=True))) == 1 + len(invalid)
    await _assert_each_once(pool, _worker_ids(settings, valid))
    # Same file again: reuses the import, exit code unchanged, nobody registered twice.
    assert await asyncio.to_thread(import_workers, path, str(api.base_url), WS, token=token,
                                   console=Console(file=io.StringIO())) == 1
    await _assert_each_once(pool, _worker_ids(settings, valid))


async def test_the_workstation_credential_decides(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object, settings: Settings
) -> None:
    """A workstation imports as itself (the form cannot name another) and only people of its jurisdiction."""
    _login(api, settings)
    await _brand(api)
    people = valid_people(9000, 18)
    wb = openpyxl.Workbook()
    wb.active.append(HEADER)
    for i, p in enumerate(people):
        wb.active.append(valid_row(p, i))
    _login(api, settings, role="workstation", org="ws-460100-01", region="460100")
    result = await _import(api, _bytes(wb), "海口.xlsx")  # the form says ws-460105-01: ignored
    inside = [p for p in people if p["household_region"].startswith("4601")]
    assert 0 < len(inside) < len(people) and set(COUNTIES) - {p["household_region"] for p in people} == set()
    assert (result["workstation_id"], result["accepted"], result["rejected"]) == (
        "ws-460100-01", len(inside), len(people) - len(inside))
    report = await _errors(api, result["import_id"])
    assert all(reason.startswith("户籍地不在本工作站辖区内") for _, reason in report.values())
    ids = _worker_ids(settings, inside)
    await _assert_each_once(pool, ids)
    assert await pool.fetchval("SELECT count(*) FROM workers WHERE 'ws-460100-01' = ANY(workstation_ids)") == len(ids)

    _login(api, settings, role="workstation", org="ws-460106-01", region="460100")
    assert (await api.get(f"/v1/imports/{result['import_id']}")).status_code == 404
    assert (await api.get(f"/v1/imports/{result['import_id']}/errors.xlsx")).status_code == 404
    _login(api, settings, role="bureau", org="bureau-46", region="460000")
    assert (await api.get(f"/v1/imports/{result['import_id']}")).status_code == 403


# ---- hostile files (issue 16): bounded, parsed in a killable child, the API stays responsive ------------------
def _row_gap_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER)
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    gap = '<row r="1000000000000000000"><c r="A1000000000000000000" t="inlineStr"><is><t>x</t></is></c></row>'
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            body = src.read(name)
            if name == "xl/worksheets/sheet1.xml":
                body = body.replace(b"</sheetData>", gap.encode() + b"</sheetData>")
            dst.writestr(name, body)
    return out.getvalue()


async def test_row_gap_fails_with_reason_while_healthz_stays_fast(api: httpx.AsyncClient, settings: Settings) -> None:
    _login(api, settings)
    r = await _upload(api, _row_gap_xlsx(), "gap.xlsx")
    assert r.status_code == 202, r.text
    import_id = r.json()["import_id"]
    slowest = 0.0
    deadline = time.monotonic() + 60  # the old code walked the gap forever
    while (body := (await api.get(f"/v1/imports/{import_id}")).json())["status"] == "running":
        assert time.monotonic() < deadline, "the row-gap import never finished"
        started = time.monotonic()
        assert (await api.get("/healthz")).status_code == 200
        slowest = max(slowest, time.monotonic() - started)
        await asyncio.sleep(0.02)
    assert body["status"] == "failed" and "行数超过上限" in body["error"], body
    assert slowest < 0.1, slowest


async def test_bounds_are_settings(api: httpx.AsyncClient, settings: Settings) -> None:
    _login(api, settings)
    settings.import_max_upload_bytes = 1000
    r = await _upload(api, b"a," * 1000, "big.csv")
    assert r.status_code == 413 and "文件过大" in r.json()["detail"][0]["msg_zh"]
    settings.import_max_upload_bytes = 50 << 20
    settings.import_max_line_chars = 1000
    result = await _import(api, ",".join(HEADER).encode() + b"\n" + b"x" * 5000 + b"\n", "long.csv")
    assert result["status"] == "failed" and "过长" in result["error"], result
    settings.import_max_rows = 5
    rows = ",".join(HEADER) + "\n" + "".join(f"{i},x\n" for i in range(10))
    result = await _import(api, rows.encode(), "rows.csv")
    assert result["status"] == "failed" and "行数超过上限" in result["error"], result
    settings.import_timeout_s = 0.01
    result = await _import(api, ",".join(HEADER).encode() + b"\n1,x\n", "slow.csv")
    assert result["status"] == "failed" and "解析超时" in result["error"], result


def _no_formula_and_all_text(content: bytes, needles: list[str]) -> None:
    """Every cell of every sheet: never a formula; each needle found as a plain text cell (control chars shown as
    U+FFFD)."""
    wb = openpyxl.load_workbook(io.BytesIO(content))
    seen: list[str] = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    seen.append(cell.value)
    for needle in needles:
        assert any(needle in s for s in seen), (needle, seen[:50])


async def test_stored_values_never_break_a_workbook(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object,
                                                    settings: Settings) -> None:
    """Issue 16: a brand name with a control character made the template answer 500 for every workstation, and a
    value beginning with "=" became a live formula. What is already stored (the contract now refuses new ones,
    so the test writes it straight into the database) is rendered as text: template, both exports, errors.xlsx."""
    _login(api, settings)
    await _brand(api)
    people = valid_people(2500, 2)
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *(valid_row(p, i, cells=False) for i, p in enumerate(people))])
    assert (await _import(api, out.getvalue().encode(), "a.csv"))["accepted"] == 2
    ids = _worker_ids(settings, people)
    await _wait_landed(pool, ids)
    await pool.execute("UPDATE brands SET name = '=HYPERLINK(\"http://x\",\"点我\")' || chr(1) || '师傅'")
    await pool.execute("UPDATE workers SET name = '@SUM(1+1)' || chr(27) || '王' WHERE worker_id = $1", ids[0])
    await pool.execute("UPDATE workers SET name = '-2+3' || chr(8) WHERE worker_id = $1", ids[1])

    r = await api.get("/v1/templates/workers.xlsx")
    assert r.status_code == 200, r.text
    _no_formula_and_all_text(r.content, ['=HYPERLINK("http://x","点我")\ufffd师傅'])
    r = await api.get("/v1/export/workers.xlsx")
    assert r.status_code == 200, r.text
    _no_formula_and_all_text(r.content, ["@SUM(1+1)\ufffd王", "-2+3\ufffd"])
    r = await api.get("/v1/export/stats.xlsx")
    assert r.status_code == 200, r.text
    _no_formula_and_all_text(r.content, ['=HYPERLINK("http://x","点我")\ufffd师傅'])

    # A clerk's bad input is echoed in the error report; it must not break the report either.
    bad = valid_row(person(2600), 0, cells=False)
    bad[1], bad[4] = "坏\x01名", "=1+1"
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, bad])
    result = await _import(api, out.getvalue().encode(), "b.csv")
    assert result["rejected"] == 1, result
    r = await api.get(f"/v1/imports/{result['import_id']}/errors.xlsx")
    assert r.status_code == 200, r.text
    _no_formula_and_all_text(r.content, ["坏\ufffd名", "=1+1"])
