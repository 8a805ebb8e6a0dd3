"""The bureau's wall dashboard (``/dashboard``) in headless Debian Chromium, driven by Playwright.

Checks: no console errors (the ``open_page`` watch), KPIs equal the API's figures, a new event posted to the API
shows up on the page within 2 s, drill-down into a region and back. Screenshots in
``tests/browser/artifacts/test_dashboard_in_headless_chromium/`` for a person to look at.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from .conftest import OpenPage, Served, Shot
from helpers import bearer, person
from workload import Workload, converge

pytestmark = pytest.mark.services

KPIS_JS = """() => Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(
    e => [e.dataset.kpi, {value: e.dataset.value ?? null, text: e.querySelector('b').textContent}]))"""


LAYOUT_JS = """() => ({scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
    panels: Object.fromEntries([...document.querySelectorAll('main > section.panel')].map(p => {
        const r = p.getBoundingClientRect();
        return [p.querySelector('h2').firstChild.textContent.trim(), [r.x, r.y, r.width, r.height]]; }))})"""


def same(page_value: str | None, api_value: Any) -> bool:
    if api_value is None:
        return page_value in ("", None)
    if isinstance(api_value, int | float):
        return page_value not in ("", None) and abs(float(page_value) - float(api_value)) < 1e-9
    return page_value == str(api_value)


async def test_dashboard_in_headless_chromium(served: Served, pool: asyncpg.Pool, open_page: OpenPage, shot: Shot) -> None:
    api = served.api
    token = bearer("admin", "laowu-ops", settings=served.settings)["Authorization"].removeprefix("Bearer ")
    await Workload(api, pool).run()
    report = await converge(served.settings, worker=served.worker)
    assert report.consistent_cut and not report.drift
    await pool.execute("UPDATE brands SET status = 'listed' WHERE brand_id = 'wenchang-chef'")  # a target met

    page = await open_page(viewport={"width": 1920, "height": 1080})
    await page.goto(f"{served.url}/dashboard?access_token={token}")
    # The credential moved to sessionStorage and out of the address bar.
    assert await page.evaluate("location.search") == ""
    assert await page.evaluate("sessionStorage.getItem('laowu.dashboard.token')") == token
    await page.wait_for_function("() => document.querySelector('[data-kpi=registered]').dataset.value")
    await page.wait_for_function("() => document.querySelectorAll('#regions tbody tr[data-code]').length > 0")
    await page.wait_for_function("() => document.querySelectorAll('#targets .goal').length > 0")
    await page.wait_for_function("() => document.querySelector('#conn').classList.contains('on')")

    # KPIs equal the API's figures.
    overview = (await api.get("/v1/stats/overview")).json()
    kpis = await page.evaluate(KPIS_JS)
    assert len(kpis) >= 10
    for key, shown in kpis.items():
        assert same(shown["value"], overview[key]), (key, shown, overview[key])
    assert kpis["registered"]["text"].replace(",", "") == str(overview["registered"])
    assert kpis["followup_coverage"]["text"] == f"{overview['followup_coverage'] * 100:.1f}%"
    assert await page.locator("#trend canvas").count() >= 1
    assert await page.locator("#brands canvas").count() >= 1
    shown_regions = await page.evaluate("[...document.querySelectorAll('#regions tbody tr')].map(r => r.dataset.code)")
    # 欠薪预警办理 shows the API's figures from the first load (the credential just taken from the address bar).
    cases = (await api.get("/v1/cases/figures", params={"kind": "wage_arrears"})).json()["total"]
    await page.wait_for_function(
        f"() => document.querySelector('[data-casework=open] b')?.textContent === '{cases['open']}'", timeout=3_000)
    assert shown_regions == [c["code"] for c in overview["children"]]

    # A new event posted to the API appears on the page within 2 s, and the KPI follows.
    body = person(9100, region="460106") | {"brand_ids": ["qiongzhu"]}
    t0 = time.monotonic()
    r = await api.post("/v1/workers", json=body)
    assert r.status_code == 202, r.text
    wid = r.json()["worker_id"]
    await page.wait_for_function(f"() => !!document.querySelector('#ticker li[data-worker-id=\"{wid}\"]')", timeout=2_000,
                                 polling=50)
    seen_after = time.monotonic() - t0
    await page.wait_for_function(
        f"() => document.querySelector('[data-kpi=registered]').dataset.value === '{overview['registered'] + 1}'",
        timeout=(max(0.1, 2.0 - seen_after) + 1.0) * 1000, polling=50)
    kpi_after = time.monotonic() - t0
    print(f"event on the page {seen_after:.3f}s after POST; KPI updated after {kpi_after:.3f}s")
    assert seen_after < 2.0

    await asyncio.sleep(1)  # let chart animations finish
    await shot(page, "dashboard")
    # A wall screen shows every panel at once: nothing below the fold, nothing overlapping, every chart drawn large.
    await page.wait_for_function("() => document.querySelectorAll('#flows canvas').length > 0")
    layout = await page.evaluate(LAYOUT_JS)
    assert layout["scroll"] == [1920, 1080], layout
    boxes = layout["panels"]
    assert {"月度趋势", "劳务品牌排行", "劳务流向", "目标任务进度", "地区分布", "待处理预警", "欠薪预警办理",
            "实时动态"} <= set(boxes), boxes
    for name, (x, y, w, h) in boxes.items():
        assert x >= 0 and y >= 0 and x + w <= 1920 and y + h <= 1080 and w >= 300 and h >= 250, (name, boxes[name])
    names = sorted(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (ax, ay, aw, ah), (bx, by, bw, bh) = boxes[a], boxes[b]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, (a, boxes[a], b, boxes[b])

    # Drill down: click a province, then its breadcrumb back to the top.
    await page.locator('#regions tbody tr[data-code="460000"]').click()
    hainan = (await api.get("/v1/stats/overview", params={"region": "460000"})).json()
    await page.wait_for_function(
        f"() => document.querySelector('[data-kpi=registered]').dataset.value === '{hainan['registered']}'", timeout=5_000)
    assert "海南省" in await page.locator("#crumbs").text_content()
    # the casework panel follows the drill-down: the province's figures, not the whole country's
    hainan_cases = (await api.get("/v1/cases/figures", params={"kind": "wage_arrears", "region": "460000"})).json()
    assert hainan_cases["region"] == "460000"
    await page.wait_for_function(
        "() => document.getElementById('casework-panel').dataset.region === '460000'", timeout=3_000)
    assert await page.locator("[data-casework=open] b").text_content() == str(hainan_cases["total"]["open"])
    assert await page.evaluate("location.hash") == "#region=460000"
    await asyncio.sleep(1)
    await shot(page, "dashboard-460000")
    await page.locator("#crumbs a").first.click()
    await page.wait_for_function(
        f"() => document.querySelector('[data-kpi=registered]').dataset.value === '{overview['registered'] + 1}'",
        timeout=5_000)
