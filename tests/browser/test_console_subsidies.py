"""The subsidy workflow through the console (issue 21), as the workstation clerk and the bureau at a browser.

The clerk and the employers dispatch and confirm over the API (their pages have their own stories): a dispatch of 10
(3 priority-group, two distances), and 90 days later the sweeper's entitlements. The clerk applies for all 19 in
补贴申领 and is told why a second application is refused; the bureau verifies the workstation registered on first
use, refuses one application with a reason and approves the rest, puts them on a public notice (公示) and downloads
its workbook, records an objection and upholds it, records the payments, and reads the budget left — exact to the
fen, checked over the API. Screenshots in ``tests/browser/artifacts/test_subsidy_story/``.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, expect

from consumers.sweeper import sweep_once

from .conftest import ACCOUNTS, ConsolePage, Served, Shot
from .console_steps import every_field_labelled
from helpers import person, wait_decided

pytestmark = pytest.mark.services

TODAY = date.today()
D0 = TODAY - timedelta(days=130)
START = D0 + timedelta(days=2)
BRAND = {"brand_id": "wc-chef", "name": "文昌鸡师傅", "region_code": "469005", "category": "service", "level": "county"}
FAR = {"employer_id": "emp-sz-hotel", "name": "深圳某酒店", "uscc": "91440300708461136T"}
NEAR = {"employer_id": "emp-hk-hotel", "name": "海口某酒店"}
PRIORITY = {0, 1, 7}


def auth(served: Served, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {served.token(ACCOUNTS[role])}"}


async def accepted(r: httpx.Response) -> str:
    assert r.status_code == 202, r.text
    return str(r.json()["event_id"])


async def applied(pool: asyncpg.Pool, ids: list[str]) -> None:
    decided = await wait_decided(pool, ids)
    assert {d["status"] for d in decided.values()} == {"applied"}, decided


async def dispatch_ten(served: Served, pool: asyncpg.Pool) -> list[dict[str, str]]:
    api, ws = served.api, auth(served, "workstation")
    await applied(pool, [await accepted(await api.post("/v1/brands", json=BRAND))])
    bodies = [person(400 + n, region="469005") | {"brand_ids": ["wc-chef"],
                                                  "priority_groups": ["poverty_alleviated"] if n in PRIORITY else []}
              for n in range(10)]
    r = await api.post("/v1/events:batch", json={"events": [{"type": "worker.registered", "payload": b}
                                                            for b in bodies]}, headers=ws)
    await applied(pool, [x["event_id"] for x in r.json()["results"]])
    people = [{"worker_id": x["worker_id"], "name": b["name"]} for x, b in zip(r.json()["results"], bodies, strict=True)]
    ids: list[str] = []
    placements: dict[str, tuple[str, str]] = {}
    for did, employer, destination, group in (("dsp-far", FAR, "440300", people[:7]),
                                              ("dsp-near", NEAR, "460105", people[7:])):
        r = await api.post("/v1/dispatches", json={
            "dispatch_id": did, "organizer_id": "ws-469005-01", "brand_id": "wc-chef",
            "mode": "directed_interregional", "origin_region": "469005", "destination_region": destination,
            "employer": employer, "departure_date": D0.isoformat(), "group_transport": True,
            "worker_ids": [p["worker_id"] for p in group]}, headers=ws)
        ids.append(await accepted(r))
        placements |= {p["worker_id"]: (p["placement_id"], employer["employer_id"]) for p in r.json()["placements"]}
    await applied(pool, ids)
    ids = []
    for p in people:
        pid, emp = placements[p["worker_id"]]
        ids.append(await accepted(await api.post(f"/v1/placements/{pid}/confirm", json={
            "employer_id": emp, "position": "厨师", "start_date": START.isoformat(), "monthly_wage": "6800.00",
            "contract": True}, headers={"Authorization": "Bearer " + served_token(served, emp)})))
    await applied(pool, ids)
    return people


def served_token(served: Served, employer: str) -> str:
    from laowu.auth import issue

    return issue(served.settings, role="employer", org=employer, region="440300" if employer == FAR["employer_id"]
                 else "460105")


async def tick_all(page: Page, table: str) -> None:
    """The table's header box: every row of the page."""
    await page.locator(f".{table} .el-table__header .el-checkbox").click()


async def test_subsidy_story(served: Served, pool: asyncpg.Pool, console_page: ConsolePage, shot: Shot) -> None:
    api = served.api
    people = await dispatch_ten(served, pool)
    assert await sweep_once(pool, served.settings, today=TODAY) == (10, 13)  # 10 follow-ups overdue, 13 entitlements
    bureau_api = auth(served, "bureau")
    items = (await api.get("/v1/subsidies", params={"limit": 500})).json()["items"]
    assert len(items) == 19

    # The clerk: 19 entitlements, all applied for at once.
    clerk = await console_page("workstation", "/workstation/subsidies")
    rows = clerk.locator(".entitlements tbody tr")
    await expect(rows).to_have_count(19)
    await expect(clerk.locator(".entitlements")).to_contain_text("外出务工奖补")
    await every_field_labelled(clerk)
    await shot(clerk, "01-clerk-entitlements")
    await tick_all(clerk, "entitlements")
    await clerk.get_by_label("申请说明").fill("材料已收齐")
    await clerk.get_by_role("button", name="为勾选的补贴提交申请（19）").click()
    await expect(clerk.locator(".entitlements")).not_to_contain_text("可申请", timeout=60_000)
    await expect(clerk.locator(".entitlements .el-tag", has_text="待审核")).to_have_count(19)
    # A second application for the same entitlement: refused, naming the first.
    await rows.first.locator(".el-checkbox").click()
    await clerk.get_by_role("button", name="为勾选的补贴提交申请（1）").click()
    refusal = clerk.locator(".el-alert--error").filter(has_text="不能重复申请")
    await expect(refusal).to_be_visible()
    await expect(refusal).to_contain_text("已由 ws-469005-01 于")
    await shot(clerk, "02-clerk-applied-and-second-refused")

    # The bureau: the workstation registered on first use by the dispatch, verified.
    page = await console_page("bureau", "/bureau/organizations")
    orgs = page.locator(".organizations tbody tr")
    await expect(orgs).to_have_count(2)  # the workstation and the Haikou hotel (the Shenzhen one is not its region)
    await expect(page.locator(".organizations")).to_contain_text("首次使用登记（ws-469005-01）")
    await shot(page, "03-bureau-organizations-pending")
    await page.get_by_role("button", name="核实 ws-469005-01").click()
    await page.get_by_label("核实意见").fill("工作站备案材料齐全")
    await page.get_by_role("button", name="提交", exact=True).click()
    await expect(orgs).to_have_count(1)
    org = (await api.get("/v1/organizations/ws-469005-01")).json()
    assert (org["status"], org["status_reason"]) == ("verified", "工作站备案材料齐全")

    # Review: the social insurance of the one near-by priority worker refused with the reason, the rest approved.
    refused_sid = next(s["subsidy_id"] for s in items
                       if s["kind"] == "social_insurance" and s["worker_id"] == people[7]["worker_id"])
    await page.get_by_role("menuitem", name="补贴审核").click()
    apps = page.locator(".applications tbody tr")
    await expect(apps).to_have_count(19)
    await every_field_labelled(page)
    await shot(page, "04-bureau-review")
    await apps.filter(has_text="社会保险补贴").filter(has_text=people[7]["worker_id"]).locator(".el-checkbox").click()
    await page.get_by_text("不通过", exact=True).click()
    await page.get_by_label("审核意见").fill("未参加城镇职工社会保险")
    await page.get_by_role("button", name="提交审核").click()
    await expect(apps).to_have_count(18)
    await tick_all(page, "applications")
    await page.get_by_text("通过", exact=True).click()
    await page.get_by_label("审核意见").fill("材料齐全，符合条件")
    await page.get_by_role("button", name="提交审核").click()
    await expect(apps).to_have_count(0, timeout=60_000)
    refused = (await api.get(f"/v1/subsidies/{refused_sid}")).json()
    assert (refused["status"], refused["review_reason"]) == ("refused", "未参加城镇职工社会保险")

    # 公示: all 18 approved, from ten days ago for 7 days; the list masked as public lists are; its workbook.
    await page.get_by_role("menuitem", name="补贴公示").click()
    await expect(page.locator(".approved tbody tr")).to_have_count(18)
    await tick_all(page, "approved")
    await page.locator("#notice-id").fill("gs-2026-wc-01")
    await page.locator("#notice-start").fill((TODAY - timedelta(days=10)).isoformat())
    await page.get_by_role("button", name="发布公示").click()
    notice = page.locator(".notice tbody tr")
    await expect(notice).to_have_count(18, timeout=60_000)
    await expect(page.locator(".notice")).to_contain_text("469005************")
    await every_field_labelled(page)
    await shot(page, "05-bureau-notice")
    async with page.expect_download() as download:
        await page.get_by_role("button", name="导出 Excel").click()
    book = load_workbook(io.BytesIO((await (await download.value).path()).read_bytes()))
    sheet = book.active
    assert sheet is not None
    lines = list(sheet.iter_rows(values_only=True))
    assert list(lines[1][:6]) == ["序号", "姓名", "身份证号", "补贴类别", "金额（元）", "所属机构"]
    assert len(lines) == 2 + 18 + 1 and {r[2] for r in lines[2:-1]} == {"469005************"}

    # An objection to one migrant bonus, received within the notice, upheld: that subsidy is refused.
    who = people[1]["name"]
    await page.get_by_role("button", name=f"{who} 外出务工奖补 异议").click()
    await page.get_by_label("异议内容").fill("群众反映该人员实际在县内务工")
    await page.get_by_label("收到日期").fill((TODAY - timedelta(days=8)).isoformat())
    await page.get_by_role("button", name="登记异议").click()
    await expect(page.locator(".objections tbody tr")).to_have_count(1)
    await page.get_by_label("处理意见").fill("经核实在县内务工，不符合外出务工奖补条件")
    await shot(page, "06-bureau-objection")
    await page.get_by_role("button", name="提交处理").click()
    await expect(notice.filter(has_text=who).filter(has_text="外出务工奖补")).to_contain_text("未通过")
    await shot(page, "07-bureau-notice-after-objection")

    # Payments for the 17 left, after the notice; then the budget left, exact to the fen.
    await page.get_by_role("menuitem", name="补贴发放").click()
    await expect(page.locator(".to-pay tbody tr")).to_have_count(17)
    await tick_all(page, "to-pay")
    await page.get_by_label("发放日期").fill((TODAY - timedelta(days=2)).isoformat())
    await page.get_by_label("凭证号").fill("PZ-2026-")
    await page.get_by_role("button", name="登记发放").click()
    await expect(page.locator(".paid tbody tr")).to_have_count(17, timeout=60_000)
    await expect(page.locator(".to-pay tbody tr")).to_have_count(0)
    await shot(page, "08-bureau-payments")
    await page.get_by_role("menuitem", name="补贴预算").click()
    hainan = page.locator(".budgets tbody tr", has_text="海南省")
    await expect(hainan).to_contain_text("490,500.00")
    await expect(hainan).to_contain_text("9,500.00")
    await shot(page, "09-bureau-budgets")

    # Over the API: exact amounts.
    paid = (await api.get("/v1/subsidies", params={"status": "paid", "limit": 500}, headers=bureau_api)).json()["items"]
    assert len(paid) == 17 and sum(Decimal(s["amount"]) for s in paid) == Decimal("9500.00")
    assert sorted(s["voucher_number"] for s in paid)[0] == "PZ-2026-0001"
    budget = next(b for b in (await api.get("/v1/subsidy-budgets", headers=bureau_api)).json()["items"]
                  if b["rule_region"] == "460000" and b["year"] == START.year)
    assert Decimal(budget["left"]) == Decimal("490500.00") and Decimal(budget["paid"]) == Decimal("9500.00")
