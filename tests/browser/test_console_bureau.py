"""The bureau's story through the console, as a person at a browser (issue 18).

The clerk and the employer act over the API (their own pages have their own stories); the bureau signs in through
the login form, finds the brand in the library, watches its figures move as people are registered, dispatched,
confirmed and rejected, sees the alerts and subsidies of its region, opens the wall dashboard from the console,
and suspends the brand with a reason. It ends with the ledger checked over the API. Screenshots of every page in
``tests/browser/artifacts/test_bureau_story/``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import Page, expect

from consumers.sweeper import sweep_once

from .conftest import ACCOUNTS, ConsolePage, OpenPage, Served, Shot, pick
from helpers import person, wait_decided

pytestmark = pytest.mark.services

D0 = date.today() - timedelta(days=60)
CHEF = {"brand_id": "bs-chef", "name": "文昌鸡师傅", "region_code": "469005", "category": "service", "level": "municipal",
        "industry": "特色餐饮", "operator": {"name": "文昌市人力资源开发局", "kind": "hr_service_agency"}}
TEA = {"brand_id": "bs-tea", "name": "五指山茶农", "region_code": "469001", "category": "agriculture", "level": "county"}
HOTEL = {"employer_id": "emp-sz-hotel", "name": "深圳某酒店管理有限公司"}


def auth(served: Served, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {served.token(ACCOUNTS[role])}"}


async def accepted(r: httpx.Response) -> str:
    assert r.status_code == 202, r.text
    return str(r.json()["event_id"])


async def figures_reach(page: Page, want: dict[str, int], timeout: float = 45) -> None:
    """Press 刷新数据 until the page shows ``want`` (the streams worker updates the figures a moment later)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = {k: await page.locator(f'[data-figure="{k}"]').get_attribute("data-value") for k in want}
        if all(shown[k] == str(v) for k, v in want.items()):
            return
        assert time.monotonic() < deadline, f"figures on the page {shown}, expected {want}"
        await page.get_by_role("button", name="刷新数据").click()
        await page.wait_for_timeout(500)


async def test_bureau_story(served: Served, pool: asyncpg.Pool, console_page: ConsolePage, open_page: OpenPage,
                            shot: Shot) -> None:
    api, bureau = served.api, auth(served, "bureau")
    for b in (CHEF, TEA):
        await wait_decided(pool, [await accepted(await api.post("/v1/brands", json=b | {"occurred_at": f"{D0}T09:00:00+08:00"},
                                                                headers=bureau))])
    listed = {"status": "listed", "reason": "评审通过，入库"}
    await wait_decided(pool, [await accepted(await api.post("/v1/brands/bs-chef/status", json=listed, headers=bureau))])

    # The sign-in page, then the bureau signs in through it and lands in the library.
    login = await open_page(f"{served.url}/console/login")
    await expect(login.get_by_label("用户名")).to_be_visible()
    await shot(login, "01-login")
    page = await console_page("bureau")
    await expect(page).to_have_url(f"{served.url}/console/bureau/brands")
    rows = page.locator(".brands tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator(".el-table__body").get_by_text("文昌鸡师傅")).to_be_visible()
    await shot(page, "02-brand-library")

    # Filter by category: only the tea growers.
    await pick(page, "品牌类别", "农业型")
    await page.get_by_role("button", name="查询").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("五指山茶农")
    await shot(page, "03-brand-library-agriculture")
    await page.get_by_role("button", name="重置").click()
    await expect(rows).to_have_count(2)

    # The chef brand's page: nobody yet.
    await page.locator('[data-brand-id="bs-chef"]').click()
    await expect(page.get_by_role("heading", name="文昌鸡师傅")).to_be_visible()
    await expect(page.get_by_test_id("brand-status")).to_have_attribute("data-status", "listed")
    await figures_reach(page, {"registered": 0, "dispatched": 0, "confirmed": 0})
    await shot(page, "04-brand-before")

    # The clerk registers four people of the brand (two of a priority group) and dispatches them to the hotel.
    ws = auth(served, "workstation")
    bodies = [person(7000 + n, region="469005") | {"brand_ids": ["bs-chef"],
                                                   "priority_groups": ["poverty_alleviated"] if n < 2 else []}
              for n in range(4)]
    r = await api.post("/v1/events:batch", json={"events": [{"type": "worker.registered", "payload": b} for b in bodies]},
                       headers=ws)
    results = r.json()["results"]
    assert {x["status"] for x in results} == {"accepted"}, results
    await wait_decided(pool, [x["event_id"] for x in results])
    workers = [x["worker_id"] for x in results]
    await figures_reach(page, {"registered": 4, "dispatched": 0})
    await shot(page, "05-brand-registered")

    r = await api.post("/v1/dispatches", json={
        "organizer_id": "ws-469005-01", "brand_id": "bs-chef", "mode": "directed_interregional",
        "origin_region": "469005", "destination_region": "440300", "employer": HOTEL, "positions": ["厨师"],
        "departure_date": D0.isoformat(), "group_transport": True, "worker_ids": workers}, headers=ws)
    await wait_decided(pool, [await accepted(r)])
    placements = [p["placement_id"] for p in r.json()["placements"]]
    # Ten days after departure nobody has confirmed: the sweeper raises an alert for each.
    assert await sweep_once(pool, served.settings, today=D0 + timedelta(days=10)) == (4, 0)

    # The employer confirms two (the priority-group ones: subsidies), rejects one, says nothing of the fourth.
    employer = auth(served, "employer")
    ids = [await accepted(await api.post(f"/v1/placements/{p}/confirm", json={
        "employer_id": "emp-sz-hotel", "position": "厨师", "start_date": (D0 + timedelta(days=2)).isoformat(),
        "monthly_wage": "6800.00", "contract": True, "contract_months": 12}, headers=employer)) for p in placements[:2]]
    ids.append(await accepted(await api.post(f"/v1/placements/{placements[2]}/reject",
                                             json={"employer_id": "emp-sz-hotel", "reason": "未到岗"}, headers=employer)))
    decided = await wait_decided(pool, ids)
    assert {d["status"] for d in decided.values()} == {"applied"}, decided
    await figures_reach(page, {"registered": 4, "dispatched": 4, "confirmed": 2, "currently_employed": 2})
    await expect(page.locator(".members tbody tr")).to_have_count(4)
    await shot(page, "06-brand-after-output")

    # My region: figures, and the wall dashboard opened from the console (same sign-in, no token in the URL).
    await page.get_by_role("menuitem", name="辖区概况与大屏").click()
    await expect(page.locator('[data-figure="confirmed"]')).to_have_attribute("data-value", "2")
    await shot(page, "07-region-overview")
    async with page.context.expect_page() as opened:
        await page.get_by_role("link", name="打开监测大屏").click()
    wall = await opened.value
    await wall.wait_for_load_state()
    await wall.wait_for_function("() => document.querySelector('[data-kpi=confirmed]').dataset.value === '2'")
    await wall.wait_for_function("() => document.querySelector('#conn').classList.contains('on')")
    assert "access_token" not in wall.url
    await wall.wait_for_timeout(800)  # chart animations
    await shot(wall, "08-dashboard-from-console")
    await wall.close()

    # Alerts of my region: the one arrival nobody confirmed is still open; the others closed themselves.
    await page.get_by_role("menuitem", name="辖区预警").click()
    alerts = page.locator(".alerts tbody tr")
    await expect(alerts).to_have_count(1)
    await expect(alerts.first).to_contain_text("到岗未确认")
    await expect(alerts.first).to_contain_text(workers[3])
    await expect(alerts.first).to_contain_text((await api.get(f"/v1/workers/{workers[3]}")).json()["name"])
    await expect(alerts.first).to_contain_text("仍未确认到岗")
    await expect(alerts.first).to_contain_text("海南省文昌市")
    await shot(page, "09-alerts")

    # Subsidies: transport and social insurance for each confirmed priority-group worker.
    await page.get_by_role("menuitem", name="补贴台账").click()
    subsidies = page.locator(".subsidies tbody tr")
    await expect(subsidies).to_have_count(4)
    await expect(page.locator(".subsidies")).to_contain_text("一次性交通补助")
    await expect(page.locator(".subsidies")).to_contain_text("元")
    # each line names its person, not only the keyed hash
    listed = (await api.get("/v1/subsidies", params={"region": "460000"}, headers=bureau)).json()["items"]
    names = [n.strip() for n in await page.locator(".subsidies tbody tr td:nth-child(2)").all_inner_texts()]
    assert sorted(names) == sorted(s["worker_name"] for s in listed) and "—" not in names, names
    await shot(page, "10-subsidies")

    # Back to the brand: suspend it, with a reason; first without one, which the form refuses next to the field.
    await page.get_by_role("menuitem", name="品牌资源库").click()
    await page.locator('[data-brand-id="bs-chef"]').click()
    await pick(page, "变更为", "暂停")
    await page.get_by_role("button", name="提交变更").click()
    await expect(page.get_by_text("请填写变更原因")).to_be_visible()
    await shot(page, "11-suspend-without-reason")
    reason = "培训机构资质过期，暂停新成员加入"
    await page.get_by_label("变更原因").fill(reason)
    await page.get_by_role("button", name="提交变更").click()
    await expect(page.get_by_test_id("brand-status")).to_have_attribute("data-status", "suspended", timeout=20_000)
    history = page.locator(".history tbody tr")
    await expect(history).to_have_count(3)
    await expect(history.last).to_contain_text(reason)
    await expect(history.last).to_contain_text("hrss-460000")
    await shot(page, "12-brand-suspended")

    # The ledger, over the API: the status and its reason, the figures the page showed, the region's alerts and money.
    brand = (await api.get("/v1/brands/bs-chef")).json()
    assert (brand["status"], brand["member_count"]) == ("suspended", 4)
    changes = [i["changes"] for i in (await api.get("/v1/brands/bs-chef/history")).json()["items"]
               if i["type"] == "brand.status_changed"]
    assert changes[-1] == {"status": ["listed", "suspended"], "reason": [None, reason]}
    stats: dict[str, Any] = (await api.get("/v1/stats/brands/bs-chef", headers=bureau)).json()
    assert (stats["registered"], stats["dispatched"], stats["confirmed"], stats["currently_employed"]) == (4, 4, 2, 2)
    open_alerts = (await api.get("/v1/alerts", params={"open": "true", "region": "460000"}, headers=bureau)).json()["items"]
    assert [(a["kind"], a["worker_id"]) for a in open_alerts] == [("unconfirmed_placement", workers[3])]
    money = (await api.get("/v1/subsidies", params={"region": "460000"}, headers=bureau)).json()["items"]
    assert sorted((s["kind"], s["worker_id"]) for s in money) == sorted(
        (k, w) for k in ("social_insurance", "transport") for w in workers[:2])
    placements_now = [(await api.get(f"/v1/placements/{p}")).json()["status"] for p in placements]
    assert placements_now == ["confirmed", "confirmed", "rejected", "dispatched"]
    await asyncio.sleep(0)  # nothing left in flight on the page (the watch checks its errors after the test)
