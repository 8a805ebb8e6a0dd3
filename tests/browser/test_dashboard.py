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

    # Drill down: click a province, then its breadcrumb back to the top.
    await page.locator('#regions tbody tr[data-code="460000"]').click()
    hainan = (await api.get("/v1/stats/overview", params={"region": "460000"})).json()
    await page.wait_for_function(
        f"() => document.querySelector('[data-kpi=registered]').dataset.value === '{hainan['registered']}'", timeout=5_000)
    assert "海南省" in await page.locator("#crumbs").text_content()
    assert await page.evaluate("location.hash") == "#region=460000"
    await asyncio.sleep(1)
    await shot(page, "dashboard-460000")
    await page.locator("#crumbs a").first.click()
    await page.wait_for_function(
        f"() => document.querySelector('[data-kpi=registered]').dataset.value === '{overview['registered'] + 1}'",
        timeout=5_000)
