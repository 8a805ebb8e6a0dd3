"""The employer's story, through the console only (issue 18): three people dispatched to the hotel wait for it (待确认);
it confirms two at once (one batch) and turns one away (未到岗, with the reason); the workstation clerk records a
follow-up visit for one of them; the employer records the other's separation. Each step ends with the ledger
checked over the API. Screenshots in ``tests/browser/artifacts/test_employer_confirms_two_rejects_one/``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import httpx
import pytest
from playwright.async_api import Page, expect

from laowu.domain.alerts import CHINA
from laowu.domain.identity import id_number_for
from laowu.people import registration

from .conftest import ConsolePage, Served, Shot
from .console_steps import choose, every_field_labelled, see, wait_applied
from helpers import bearer, wait_receipt


def china_today() -> str:
    """The day the console's forms default to: the browser runs in China's time (conftest), not the machine's."""
    return datetime.now(CHINA).date().isoformat()


pytestmark = pytest.mark.services

REGION = "469005"
WORKSTATION = "文昌市劳务工作站"
EMPLOYER = {"employer_id": "emp-sz-hotel", "name": "深圳某酒店有限公司"}
BRAND = {"brand_id": "wenchang-chicken-chef", "name": "文昌鸡师傅", "region_code": REGION, "category": "service",
         "level": "municipal"}
NAMES = ["黄秋月", "李建华", "郑小军"]


async def dispatched(served: Served) -> dict[str, str]:
    """Set-up over the API, as the workstation: a brand, three people, one dispatch to the hotel → {name: placement}."""
    ws = httpx.AsyncClient(base_url=served.url, headers=bearer("workstation", "ws-469005-01", REGION, settings=served.settings))
    r = await served.api.post("/v1/brands", json=BRAND)  # the library is the bureau's (here the admin's)
    assert r.status_code == 202, r.text
    await wait_receipt(served.api, r.json()["event_id"])
    r = await served.api.post("/v1/organizations", json={  # the workstation in the registry, by its name
        "org_id": "ws-469005-01", "kind": "workstation", "name": WORKSTATION, "region_code": REGION})
    assert (await wait_receipt(served.api, r.json()["event_id"]))["status"] == "applied"
    async with ws:
        people = [registration(id_number_for(REGION, date(1988 + i, 4, 9), 300 + i), name, workstation="ws-469005-01")
                  for i, name in enumerate(NAMES)]
        r = await ws.post("/v1/events:batch", json={"events": [{"type": "worker.registered", "payload": p} for p in people]})
        results = r.json()["results"]
        assert {x["status"] for x in results} == {"accepted"}, results
        workers = [x["worker_id"] for x in results]
        r = await ws.post("/v1/dispatches", json={
            "organizer_id": "ws-469005-01", "brand_id": BRAND["brand_id"], "mode": "directed_interregional",
            "origin_region": REGION, "destination_region": "440300", "employer": EMPLOYER, "positions": ["厨师"],
            "departure_date": (date.today() - timedelta(days=3)).isoformat(), "group_transport": True,
            "worker_ids": workers})
        assert r.status_code == 202, r.text
        assert (await wait_receipt(ws, r.json()["event_id"]))["status"] == "applied"
        placements = {p["worker_id"]: p["placement_id"] for p in r.json()["placements"]}
    return {name: placements[w] for name, w in zip(NAMES, workers, strict=True)}


async def pick_rows(page: Page, names: list[str]) -> None:
    """Tick the rows' selection boxes by keyboard (focus, Space)."""
    for name in names:
        box = page.get_by_role("row").filter(has_text=name).get_by_role("checkbox")
        await box.focus()
        await page.keyboard.press("Space")


async def test_employer_confirms_two_rejects_one(served: Served, console_page: ConsolePage, shot: Shot) -> None:
    api = served.api
    placement = await dispatched(served)
    first, second, third = NAMES

    page = await console_page("employer")
    await see(page, "待确认到岗")
    assert page.url.endswith("/console/employer/arrivals")
    for name in NAMES:
        await see(page, name)
    rows = page.locator(".el-table__body-wrapper tbody tr")
    await expect(rows.first).to_contain_text(WORKSTATION)  # who sent them, by name, not ws-469005-01
    await expect(page.locator(".el-table__body-wrapper")).not_to_contain_text("ws-469005-01")
    await expect(page.get_by_role("menuitem", name="人员登记")).to_have_count(0)  # the menu is the employer's
    await every_field_labelled(page)
    await shot(page, "01-arrivals")

    # Two at once: one batch, the same terms.
    await pick_rows(page, [first, second])
    await page.get_by_role("button", name="批量确认到岗（2）").click()
    await every_field_labelled(page)
    await page.get_by_label("岗位").fill("中餐厨师")
    await page.get_by_label("月工资（元）").fill("52OO")
    await page.get_by_label("月工资（元）").press("Enter")
    await see(page, "月工资应为金额（元），最多两位小数")
    await shot(page, "02-confirm-bad-wage")
    await page.get_by_label("月工资（元）").fill("5200.00")
    await page.get_by_label("月工资（元）").press("Enter")
    await expect(page.get_by_role("cell", name="已生效")).to_have_count(2, timeout=20_000)
    await shot(page, "03-confirmed-two")
    await page.get_by_role("button", name="完成").click()

    # One turned away, with the reason.
    row = page.get_by_role("row").filter(has_text=third)
    await row.get_by_role("button", name="未到岗").click()
    await page.get_by_label("原因").fill("未按期报到，电话联系不上")
    await page.get_by_role("button", name="登记未到岗").last.click()
    await expect(page.get_by_role("cell", name="已生效")).to_have_count(1, timeout=20_000)
    await shot(page, "04-rejected-one")
    await page.get_by_role("button", name="完成").click()
    await see(page, "暂无待确认人员")

    for name in (first, second):
        p = (await api.get(f"/v1/placements/{placement[name]}")).json()
        assert p["status"] == "confirmed" and p["position"] == "中餐厨师" and float(p["monthly_wage"]) == 5200, p
        assert p["start_date"] == china_today() and p["contract"] is True and p["contract_months"] == 12
    p = (await api.get(f"/v1/placements/{placement[third]}")).json()
    assert p["status"] == "rejected" and p["reject_reason"] == "未按期报到，电话联系不上", p

    # The current employees.
    await page.get_by_role("menuitem", name="在职人员").click()
    await see(page, first)
    await see(page, "5,200.00 元")
    await shot(page, "05-employees")

    # The clerk records a follow-up visit for the first.
    clerk = await console_page("workstation", "workstation/followup")
    await see(clerk, first)
    await every_field_labelled(clerk)
    await clerk.get_by_role("row").filter(has_text=first).get_by_role("button", name="记录跟踪服务").click()
    await expect(clerk.get_by_label("服务日期")).to_be_focused()
    await every_field_labelled(clerk)
    await choose(clerk, "服务方式", "走访")
    await clerk.get_by_label("月工资（元）").fill("5200")
    await choose(clerk, "满意度", "5 分")
    await clerk.get_by_label("提供的服务").fill("岗位适应指导")
    await shot(clerk, "06-followup-form")
    await clerk.get_by_role("button", name="保存跟踪服务记录").click()
    await see(clerk, "跟踪服务已记录")
    await shot(clerk, "07-followup-recorded")
    followed = await wait_applied(api, f"/v1/placements/{placement[first]}", lambda b: b["last_followup_date"] is not None)
    assert followed["last_followup_date"] == china_today()

    # The employer records the second's separation.
    await page.get_by_role("row").filter(has_text=second).get_by_role("button", name="登记离职").click()
    await every_field_labelled(page)
    await choose(page, "离职原因", "主动辞职")
    await page.get_by_role("button", name="登记离职").last.click()
    await see(page, "离职已登记")
    await shot(page, "08-separation")
    await page.get_by_role("button", name="完成").click()
    ended = await wait_applied(api, f"/v1/placements/{placement[second]}", lambda b: b["status"] == "ended")
    assert ended["end_reason"] == "resigned" and ended["end_date"] == china_today()

    # The ledger: one at work with a follow-up, one separated, one turned away.
    listed = (await api.get("/v1/placements", params={"status": "confirmed"})).json()["items"]
    assert [p["worker"]["name"] for p in listed] == [first]
    workers = {p["worker"]["name"]: p["worker_id"] for p in (await api.get("/v1/placements")).json()["items"]}
    states = {name: (await api.get(f"/v1/workers/{wid}")).json()["state"] for name, wid in workers.items()}
    assert states[first] == "placed" and states[second] == "separated", states

    # A workstation's page is not the employer's: refused by the console as by the API.
    await page.goto(f"{served.url}/console/workstation/register")
    await see(page, "没有权限")
    await shot(page, "09-forbidden")
