"""Issue 19 through the console, as people at a browser: the Hainan bureau signs a cooperation agreement with
Shenzhen in its form, watches its progress move as Hainan dispatches under it, reads the flow chart and drills
down; the Shenzhen bureau opens the people sent into its region (masked); the wall dashboard shows the flows.
Screenshots in ``tests/browser/artifacts/test_cooperation_story/``.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import asyncpg
import httpx
import pytest
from playwright.async_api import Page, expect

from .conftest import ACCOUNTS, Account, ConsolePage, Served, Shot
from helpers import person, wait_decided

pytestmark = pytest.mark.services

D0 = date.today() - timedelta(days=20)
CHEF = {"brand_id": "coop-chef", "name": "文昌鸡师傅", "region_code": "469005", "category": "service",
        "level": "municipal"}
HOTEL = {"employer_id": "emp-sz-hotel", "name": "深圳某酒店管理有限公司"}
SHENZHEN = Account("bureau-sz", "深圳市人社局", "bureau", "bureau-440300", "440300")


def auth(served: Served, account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {served.token(account)}"}


async def applied(pool: asyncpg.Pool, *responses: httpx.Response) -> None:
    for r in responses:
        assert r.status_code == 202, r.text
    done = await wait_decided(pool, [r.json()["event_id"] for r in responses])
    assert {d["status"] for d in done.values()} == {"applied"}, done


async def until_text(page: Page, selector: str, text: str, button: str, timeout: float = 45) -> None:
    """Press ``button`` until ``selector`` holds ``text`` (flows are streamed a moment after the ledger)."""
    deadline = time.monotonic() + timeout
    while text not in (await page.locator(selector).inner_text()):
        assert time.monotonic() < deadline, f"{selector} never showed {text!r}"
        await page.get_by_role("button", name=button).click()
        await page.wait_for_timeout(600)


async def test_cooperation_story(served: Served, pool: asyncpg.Pool, console_page: ConsolePage, shot: Shot) -> None:
    api, hainan, ws = served.api, auth(served, ACCOUNTS["bureau"]), auth(served, ACCOUNTS["workstation"])
    await applied(pool, await api.post("/v1/brands", json=CHEF, headers=hainan))
    bodies = [person(7900 + n, region="469005") | {"brand_ids": ["coop-chef"]} for n in range(3)]
    regs = [await api.post("/v1/workers", json=b, headers=ws) for b in bodies]
    await applied(pool, *regs)
    workers = [r.json()["worker_id"] for r in regs]

    # ---- the Hainan bureau signs the agreement in its form (a mistake first: the end before the start)
    page = await console_page("bureau", "/cooperation/agreements")
    await expect(page.get_by_text("暂无劳务协作协议")).to_be_visible()
    await page.get_by_role("button", name="签订协议").click()
    form = page.get_by_role("form", name="签订劳务协作协议")
    await form.get_by_label("协议名称").fill("琼深劳务协作")
    await form.get_by_label("协议编号").fill("qs-coop")
    await form.get_by_label("输出地代码").fill("460000")
    await form.get_by_label("输入地代码").fill("440300")
    await form.get_by_label("输入地人社部门").fill("bureau-440300")
    await form.get_by_label("开始日期").fill(f"{D0.year}-12-31")
    await form.get_by_label("开始日期").press("Enter")
    await form.get_by_label("结束日期").fill(f"{D0.year}-01-01")
    await form.get_by_label("结束日期").press("Enter")
    await form.get_by_label("目标人数").fill("4")
    await form.get_by_label("适用品牌").fill("coop-chef")
    await form.get_by_role("button", name="提交签订").click()
    await expect(form.get_by_text("结束日期不能早于开始日期")).to_be_visible()
    await shot(page, "01-sign-mistake")
    await form.get_by_label("开始日期").fill((D0 - timedelta(days=30)).isoformat())
    await form.get_by_label("开始日期").press("Enter")
    await form.get_by_label("结束日期").fill((D0 + timedelta(days=300)).isoformat())
    await form.get_by_label("结束日期").press("Enter")
    await form.get_by_role("button", name="提交签订").click()
    rows = page.locator(".agreements tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("琼深劳务协作")
    await expect(rows.first).to_contain_text("执行中")
    await shot(page, "02-agreement-signed")

    # ---- Hainan dispatches: two to Nanshan under the agreement, one to Guangzhou; the hotel confirms one
    def dispatch(destination: str, who: list[str], agreement: str | None) -> dict[str, object]:
        body: dict[str, object] = {
            "organizer_id": "ws-469005-01", "brand_id": "coop-chef", "mode": "cooperation", "origin_region": "469005",
            "destination_region": destination, "employer": HOTEL, "departure_date": D0.isoformat(), "worker_ids": who}
        return body | ({"agreement_id": agreement} if agreement else {})

    under = await api.post("/v1/dispatches", json=dispatch("440305", workers[:2], "qs-coop"), headers=ws)
    other = await api.post("/v1/dispatches", json=dispatch("440100", workers[2:], None), headers=ws)
    await applied(pool, under, other)
    first = under.json()["placements"][0]["placement_id"]
    await applied(pool, await api.post(f"/v1/placements/{first}/confirm", headers=auth(served, ACCOUNTS["employer"]),
                                       json={"employer_id": HOTEL["employer_id"], "position": "厨师",
                                             "start_date": (D0 + timedelta(days=2)).isoformat(),
                                             "monthly_wage": "6800", "contract": True}))
    await page.get_by_role("button", name="刷新").click()
    await expect(rows.first).to_contain_text("50%")  # 2 of 4
    progress = await rows.first.locator("td").all_inner_texts()
    assert [t.strip() for t in progress[3:6]] == ["4", "2", "1"], progress
    await shot(page, "03-agreement-progress")

    # ---- the flow chart, then a drill-down into Shenzhen's districts
    await page.get_by_role("menuitem", name="劳务流向").click()
    await until_text(page, ".totals", "3", "查询")
    await expect(page.locator(".total").first).to_contain_text("跨省3")
    await expect(page.locator(".flows tbody tr")).to_have_count(2)
    await expect(page.locator(".chart canvas")).to_be_visible()
    await page.wait_for_timeout(800)  # the Sankey's animation
    await shot(page, "04-flows-hainan-cities")
    await page.locator(".flows tbody").get_by_text("深圳市").click()
    await expect(page.locator(".crumbs")).to_contain_text("深圳市")
    await expect(page.locator(".flows tbody tr")).to_have_count(1)
    await expect(page.locator(".flows tbody tr").first).to_contain_text("南山区")
    await page.wait_for_timeout(800)
    await shot(page, "05-flows-drilled-to-shenzhen")

    # ---- the Shenzhen bureau: the people sent into its region, masked
    sz = await console_page("bureau", "/cooperation/received", account=SHENZHEN)
    received = sz.locator(".received tbody tr")
    await expect(received).to_have_count(2)
    for row in await received.all_inner_texts():
        assert "460005************" in row or "469005************" in row, row
        assert "南山区" in row and "琼深" not in row and "qs-coop" in row
    await shot(sz, "06-received-in-shenzhen")
    # every column, the departure date included, without scrolling sideways on a 1440-px screen
    wrap = sz.locator(".received .el-table__body-wrapper .el-scrollbar__wrap")
    assert await wrap.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), await wrap.evaluate(
        "e => [e.scrollWidth, e.clientWidth]")
    await sz.get_by_role("menuitem", name="协作协议与进度").click()
    await expect(sz.locator(".agreements tbody tr")).to_have_count(1)
    await shot(sz, "07-agreement-seen-by-shenzhen")

    # ---- the wall dashboard's flow panel
    wall = await console_page("bureau", "", account=ACCOUNTS["bureau"], via="token")
    await wall.goto(f"{served.url}/dashboard")
    await wall.wait_for_function("() => !!document.querySelector('#flows-panel canvas')")
    await expect(wall.locator("#flows-totals")).to_contain_text("跨省 3")
    await wall.wait_for_timeout(1000)
    await shot(wall, "08-dashboard-flows")
