"""Issue 20 through the console, as people at a browser: the monitoring story's data (``laowu.monitoring_demo``: 12
priority-group people, three counties, four months, a late sync) loaded over the API, then

* 秀英区's bureau assigns the wage-arrears case to a clerk; nobody acknowledges it and it escalates to 海口市;
* the clerk finds it first in 我的待办 (overdue), acknowledges, phones, hands it to labour inspection and closes it;
  the case page shows the history with who and when;
* 龙华区's clerk reads the returned-home and not-in-work lists;
* 海口市's bureau sees the case escalated to it, and the monitoring table with 龙华区 highlighted as falling, and
  downloads the collection sheet (masked);
* the province reads the casework figures, and the wall dashboard shows 欠薪预警办理.

Every step ends with the ledger checked over the API; screenshots in ``tests/browser/artifacts/test_monitoring_story/``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import asyncpg
import pytest
from openpyxl import load_workbook
from playwright.async_api import expect

from consumers.sweeper import sweep_once
from laowu.domain.statistics import BEIJING
from laowu.monitoring_demo import Story

from .conftest import Account, ConsolePage, Served, Shot, ensure_account, pick
from .console_steps import every_field_labelled, see, wait_applied

pytestmark = pytest.mark.services

BUREAU_105 = Account("bureau-105", "海口市秀英区人社局", "bureau", "hrss-460105", "460105")
CITY = Account("bureau-city", "海口市人社局", "bureau", "hrss-460100", "460100")
PROVINCE = Account("bureau-prov", "海南省人社厅", "bureau", "hrss-460000", "460000")
CLERK_105 = Account("clerk-105", "秀英区劳务工作站", "workstation", "ws-460105-01", "460105")
CLERK_106 = Account("clerk-106", "龙华区劳务工作站", "workstation", "ws-460106-01", "460106")


def fmt_minute(iso: str) -> str:
    """An API time as the console shows it: China time, to the minute."""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


async def test_monitoring_story(served: Served, pool: asyncpg.Pool, console_page: ConsolePage, shot: Shot) -> None:
    story = Story(served.api, served.settings)
    await story.load()
    arrears = story.arrears_alert("a2", 3)

    # ---- 秀英区's bureau assigns the case ----------------------------------------------------------------------------
    await ensure_account(served, CLERK_105)
    page = await console_page("bureau", "/bureau/casework", account=BUREAU_105)
    open_cases = page.locator(".open-cases tbody tr", has_text="欠薪")
    await expect(open_cases).to_have_count(1)
    # when it was raised and by when it must be closed, as the workstation's list shows
    case = (await served.api.get(f"/v1/alerts/{arrears}/case")).json()
    shown = await open_cases.inner_text()
    assert fmt_minute(case["raised_at"]) in shown and fmt_minute(case["close_by"]) in shown, (shown, case)
    await every_field_labelled(page)
    await shot(page, "01-bureau-casework")
    await open_cases.get_by_role("link", name="办理").click()
    await expect(page).to_have_url(f"{served.url}/console/cases/{arrears}")
    await page.get_by_label("承办人账号").fill("clerk-105")
    await page.get_by_label("承办单位").fill("ws-460105-01")
    await page.get_by_role("button", name="分派", exact=True).click()
    await see(page, "分派：已生效")
    await see(page, "clerk-105（ws-460105-01）")
    await every_field_labelled(page)
    await shot(page, "02-case-assigned")
    await wait_applied(served.api, f"/v1/alerts/{arrears}/case", lambda c: c["assignee"] == "clerk-105")

    # ---- ignored: the sweeper escalates it to 海口市 at its deadline (event time) ------------------------------------
    await sweep_once(pool, served.settings, today=date.today())
    case = await wait_applied(served.api, f"/v1/alerts/{arrears}/case", lambda c: c["escalated_to"] == "460100")
    assert case["overdue"] and case["state"] == "assigned"

    # ---- the clerk: my work-list, overdue first; the case worked and closed ----------------------------------------
    clerk = await console_page("workstation", "/workstation/cases", account=CLERK_105)
    rows = clerk.locator(".cases tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("逾期")
    await expect(rows.first).to_contain_text("海口市")
    await every_field_labelled(clerk)
    await shot(clerk, "03-my-work-list")
    await rows.first.get_by_role("link", name="办理").click()
    await clerk.get_by_role("button", name="签收").click()
    await see(clerk, "签收：已生效")
    await pick(clerk, "采取措施", "电话回访")
    await clerk.get_by_label("办理情况").fill("电话联系本人，确认两个月工资未发")
    await clerk.get_by_role("button", name="记录办理情况").click()
    await see(clerk, "办理记录：已生效")
    await pick(clerk, "采取措施", "转劳动监察")
    await clerk.get_by_label("办理情况").fill("已移交深圳市劳动监察大队")
    await clerk.get_by_role("button", name="记录办理情况").click()
    await expect(clerk.locator(".history").get_by_text("转劳动监察")).to_be_visible()
    await shot(clerk, "04-case-worked")
    await pick(clerk, "办结结果", "已解决")
    await clerk.get_by_label("办结说明").fill("工资已足额支付")
    await clerk.get_by_role("button", name="办结", exact=True).click()
    await see(clerk, "办结：已生效")
    history = clerk.locator(".history .el-timeline-item")
    await expect(history).to_have_count(7)
    for text in ("预警产生", "分派", "逾期未签收，升级", "签收", "跟踪办理", "办结"):
        await expect(clerk.locator(".history").get_by_text(text, exact=False).first).to_be_visible()
    await expect(clerk.get_by_label("重新打开原因")).to_be_visible()
    await shot(clerk, "05-case-closed")
    case = (await served.api.get(f"/v1/alerts/{arrears}/case")).json()
    assert (case["state"], case["outcome"]) == ("closed", "resolved")
    # in event time: the deadline to acknowledge passed months ago, before anyone assigned it today
    assert [h["type"] for h in case["history"]] == ["raised", "escalated", "alert.assigned", "alert.acknowledged",
                                                     "alert.worked", "alert.worked", "alert.resolved"]
    assert {(h["actor"] or {}).get("subject") for h in case["history"][3:]} == {"account:clerk-105"}
    await clerk.goto(f"{served.url}/console/workstation/cases")
    await expect(clerk.get_by_text("暂无待办预警")).to_be_visible()

    # ---- 龙华区's clerk: who came home, who is not in work --------------------------------------------------------
    ws106 = await console_page("workstation", "/workstation/returned-home", account=CLERK_106)
    back = ws106.locator(".returned tbody tr")
    await expect(back).to_have_count(3)
    await expect(back.first).to_contain_text("三亚市")
    await expect(back.first).to_contain_text("离职登记")
    await shot(ws106, "06-returned-home")
    await ws106.goto(f"{served.url}/console/workstation/not-in-work")
    await ws106.get_by_label("监测月份").fill(story.month(3))
    await ws106.get_by_role("button", name="查询").click()
    idle = ws106.locator(".not-in-work tbody tr")
    await expect(idle).to_have_count(3)
    await expect(idle.first).to_contain_text("离职：返乡")
    await every_field_labelled(ws106)
    await shot(ws106, "07-not-in-work")

    # ---- 海口市: the escalated case; the monitoring table with the falling county ---------------------------------
    city = await console_page("bureau", "/bureau/casework", account=CITY)
    await expect(city.locator(".escalated tbody tr", has_text="欠薪")).to_have_count(1)
    await shot(city, "08-city-escalated")
    await city.goto(f"{served.url}/console/bureau/monitoring")
    await city.get_by_label("监测月份").fill(story.month(3))
    await city.get_by_role("button", name="查询").click()
    table = city.locator(".monitoring tbody tr")
    await expect(table).to_have_count(3)  # 海口市, then 秀英区 and 龙华区
    falling = city.locator(".monitoring tbody tr.falling")
    await expect(falling).to_have_count(1)
    await expect(falling).to_contain_text("龙华区")
    await expect(city.get_by_text("较上月 4 人下降 75")).to_be_visible()
    await every_field_labelled(city)
    await shot(city, "09-monitoring-table")
    api_table = (await served.api.get("/v1/monitoring/table", params={"region": "460100", "month": story.month(3)})).json()
    assert (api_table["total"]["in_work"], api_table["total"]["by_distance"]["cross_province"]) == (5, 2)
    await expect(table.first).to_contain_text(f"{Decimal(api_table['total']['average_income']):,.2f} 元")
    async with city.expect_download() as download:
        await city.get_by_role("button", name="导出采集表（脱敏）").click()
    sheet = load_workbook(BytesIO(Path(await (await download.value).path()).read_bytes())).active
    ids = [row[2].value for row in sheet.iter_rows(min_row=3)]
    assert len(ids) == 8 and all(str(i).endswith("*" * 12) for i in ids)

    # ---- the province: casework figures, the wall dashboard ----------------------------------------------------------
    prov = await console_page("bureau", "/bureau/casework", account=PROVINCE)
    figures = (await served.api.get("/v1/cases/figures", params={"kind": "wage_arrears"})).json()["total"]
    # a2's case closed today, long after its deadline; c4's is open and overdue: 0 of 2 closed in time
    assert (figures["closed"], figures["open"], figures["overdue"], figures["due"], figures["closed_in_time"]) == (
        1, 1, 1, 2, 0)
    total = prov.locator(".figures tbody tr").first
    await expect(total).to_contain_text("0.0%")
    await expect(prov.get_by_text("欠薪预警办结率")).to_be_visible()
    await shot(prov, "10-province-figures")
    async with prov.context.expect_page() as opened:
        await prov.evaluate("() => window.open('/dashboard', '_blank')")
    wall = await opened.value
    await expect(wall.locator(".panel.casework")).to_contain_text("欠薪预警办结率")
    await expect(wall.locator(".panel.casework .casework-kpi").first).to_contain_text("1")
    await expect(wall.locator("#asof")).not_to_have_text("—", timeout=20_000)  # the wall's own figures, too
    await shot(wall, "11-dashboard-casework")
