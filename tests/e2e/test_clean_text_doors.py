"""Clean text at every HTTP door (issue 16): bodies, batch items and query/path parameters refuse U+0000 and the
other characters PostgreSQL cannot store or a clerk cannot see — a field-level 422 (a rejected batch item), never a
202 that later halts the ledger, never a 500."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
from typing import Any

import httpx
import openpyxl
import pytest

from laowu.settings import Settings

from helpers import person

pytestmark = pytest.mark.services


async def test_a_nul_in_a_body_is_a_field_level_422(api: httpx.AsyncClient) -> None:
    for field, value in (("name", "王\u0000梅"), ("name", "王\u0085梅"), ("name", "王\n梅"), ("phone", "1380013\u00008000")):
        r = await api.post("/v1/workers", json={**person(970), field: value})
        assert r.status_code == 422, (field, r.text)
        assert any(d["loc"] == ["body", field] for d in r.json()["detail"]), r.json()
    r = await api.post("/v1/brands", json={"name": "琼筑劳务", "region_code": "460100", "category": "skilled",
                                           "level": "provincial", "industry": "建筑\u0000"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "industry"]
    # Multi-line free text keeps its line breaks.
    r = await api.post("/v1/brands", json={"brand_id": "qiong-build", "name": "琼筑劳务", "region_code": "460100",
                                           "category": "skilled", "level": "provincial"})
    assert r.status_code == 202
    r = await api.post("/v1/brands/qiong-build/status", json={"status": "listed", "reason": "第一行\n第二行"})
    assert r.status_code == 202, r.text


async def test_a_nul_in_a_batch_item_rejects_that_item_only(api: httpx.AsyncClient) -> None:
    events: list[dict[str, Any]] = [{"type": "worker.registered", "payload": person(971)},
                                    {"type": "worker.registered", "payload": {**person(972), "name": "\u0000"}},
                                    {"type": "worker.registered", "payload": person(973)}]
    r = await api.post("/v1/events:batch", json={"events": events})
    assert r.status_code == 200, r.text
    statuses = [x["status"] for x in r.json()["results"]]
    assert statuses == ["accepted", "rejected", "accepted"], r.json()
    assert "name" in r.json()["results"][1]["reason"]


@pytest.mark.parametrize("url", [
    "/v1/alerts?worker_id=%00", "/v1/workers?brand_id=%00", "/v1/subsidies?organization_id=%00",
    "/v1/stats/brands/%00", "/v1/workers?region=%ff", "/v1/brands/%00", "/v1/workers/w%00",
    "/v1/alerts?kind=%1b", "/v1/stats/overview?region=%c0%80", "/v1/events/%ff",
])
async def test_unclean_query_and_path_parameters_are_422_never_500(api: httpx.AsyncClient, url: str) -> None:
    r = await api.get(url)
    assert r.status_code == 422, (url, r.status_code, r.text)
    detail = r.json()["detail"]
    assert detail[0]["loc"][0] in ("query", "path") and detail[0]["msg"]


async def test_credentials_are_still_checked_first(api: httpx.AsyncClient) -> None:
    r = await api.get("/v1/alerts?worker_id=%00", headers={"Authorization": ""})
    assert r.status_code == 401


async def test_an_unclean_spreadsheet_cell_is_a_refused_row_not_a_failed_import(api: httpx.AsyncClient) -> None:
    """A CSV may hold U+0000. In a brand cell it reached PostgreSQL in the brand look-up and the whole import failed
    (导入失败（系统错误…）); in an extra column's header it failed the import as it began. Now: that row is refused with
    a Chinese reason, the other rows are imported."""
    header = ["身份证号", "姓名", "性别", "出生日期", "户籍地", "品牌", "备\u0000注"]

    def row(n: int, **over: str) -> list[str]:
        p = person(n)
        cells = {"身份证号": p["id_number"], "姓名": p["name"], "性别": "男" if p["sex"] == "M" else "女",
                 "出生日期": p["birth_date"], "户籍地": p["household_region"], "品牌": "", "备\u0000注": ""}
        return [{**cells, **over}[h] for h in header]

    out = io.StringIO()
    csv.writer(out).writerows([header, row(974), row(975, 品牌="琼\u0000筑"), row(976, 姓名="王\u0000梅"), row(977)])
    r = await api.post("/v1/imports/workers", files={"file": ("登记.csv", out.getvalue().encode())},
                       data={"workstation_id": "ws-460105-01"})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 60
    while (body := (await api.get(f"/v1/imports/{r.json()['import_id']}")).json())["status"] == "running":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    assert body["status"] == "done", body
    assert (body["rows"], body["accepted"], body["rejected"]) == (4, 2, 2), body
    report = await api.get(f"/v1/imports/{r.json()['import_id']}/errors.xlsx")
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(report.content), read_only=True)["错误行"]
    reasons = {int(x[0]): str(x[-1]) for x in list(sheet.iter_rows(values_only=True))[1:]}
    assert reasons == {3: "品牌含有不可见或无法保存的字符（U+0000），请删除后重新导入",
                       4: "姓名含有不可见或无法保存的字符（U+0000），请删除后重新导入"}


def _get_routes(settings: Settings) -> list[tuple[str, list[str]]]:
    """Every GET route of the API, as its OpenAPI document lists it: the path and the query parameters it reads."""
    from api.app import create_app

    paths = create_app(settings).openapi()["paths"]
    return [(path, sorted(p["name"] for p in ops["get"].get("parameters", []) if p["in"] == "query"))
            for path, ops in paths.items() if "get" in ops]


async def _status(api: httpx.AsyncClient, url: str) -> int:
    """The status alone: a route that accepted the parameter may be a stream that never ends (the feed)."""
    async with api.stream("GET", url) as r:
        return r.status_code


async def test_every_get_route_answers_422_to_unclean_parameters(api: httpx.AsyncClient, settings: Settings) -> None:
    """The generic sweep: whatever GET route is added later, U+0000, a control character or an undecodable escape in
    any of its path or query parameters is a 422 — never a 500 from PostgreSQL, never a 200 that stored it."""
    routes = _get_routes(settings)
    assert len(routes) > 20 and any(q for _, q in routes)
    answers: dict[str, int] = {}
    for path, query in routes:
        urls = []
        if "{" in path:
            urls += [re.sub(r"\{[^}]+\}", bad, path) for bad in ("%00", "a%1bb", "%ff")]
        base = re.sub(r"\{[^}]+\}", "x", path)
        urls += [f"{base}?{name}={bad}" for name in query for bad in ("%00", "a%c2%85b", "%ff")]
        statuses = [await _status(api, url) for url in urls]
        answers.update(zip(urls, statuses, strict=True))
        # The costly routes (exports) have a small bucket of their own per credential: a 429 there is the limiter.
        assert not urls or 422 in statuses, (path, statuses)
    wrong = {url: status for url, status in answers.items() if status not in (422, 429)}
    assert not wrong, wrong
    assert len(answers) > 100


async def test_an_unclean_upload_filename_is_a_422(api: httpx.AsyncClient) -> None:
    """The file name is stored with the import and shown in the console: U+0000 in it reached PostgreSQL (500)."""
    boundary = "laowu-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"workstation_id\"\r\n\r\nws-460105-01\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"登记\u0000.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n身份证号,姓名\r\n--{boundary}--\r\n").encode()
    r = await api.post("/v1/imports/workers", content=body,
                       headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", "file"] and r.json()["detail"][0]["type"] == "string_unclean"
