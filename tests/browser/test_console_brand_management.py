"""Brand dynamic management through the console (issue 21), as the bureau and an expert at their browsers.

The clerk and the employer act over the API. The bureau submits an entry application and sees the criteria the
platform evaluated, assigns three experts; one expert signs in and scores on the rubric (the other two over the
API); the bureau ends the review and the brand is listed; it records a complaint and a typical person on the brand's
page; retention falls, the yearly re-check proposes a suspension and the bureau decides it with a reason, which the
brand's history shows. Screenshots in ``tests/browser/artifacts/test_brand_management_story/``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import expect

from laowu.domain.statistics import BEIJING
from laowu.privacy import Privacy

from .conftest import ACCOUNTS, Account, ConsolePage, Served, Shot, ensure_account, pick
from .console_steps import every_field_labelled
from helpers import bearer, person, wait_decided

pytestmark = pytest.mark.services

REVIEWER = Account("reviewer-demo", "评审专家（演示）", "reviewer", "expert-panel-460000", "460000")
BRAND = {"brand_id": "bm-chef", "name": "文昌鸡师傅", "region_code": "469005", "category": "service", "level": "county",
         "industry": "特色餐饮"}
EMPLOYER_ID = "emp-sz-hotel"


async def accepted(r: httpx.Response) -> str:
    assert r.status_code == 202, r.text
    return str(r.json()["event_id"])


async def test_brand_management_story(served: Served, pool: asyncpg.Pool, console_page: ConsolePage,
                                      shot: Shot) -> None:
    api = served.api
    bureau = {"Authorization": f"Bearer {served.token(ACCOUNTS['bureau'])}"}
    clerk = bearer("workstation", "ws-469005-01", "469005", served.settings)
    employer = bearer("employer", EMPLOYER_ID, "440300", served.settings)
    start = datetime.now(BEIJING).date() - timedelta(days=250)

    async def done(r: httpx.Response) -> dict[str, Any]:
        eid = await accepted(r)
        got = await wait_decided(pool, [eid])
        assert got[eid]["status"] == "applied", got
        return dict(r.json())

    # The ledger: a candidate brand, four members, three placed 8 months ago, trained and certified, followed up.
    await done(await api.post("/v1/brands", json=BRAND, headers=bureau))
    privacy = Privacy(served.settings)
    bodies = [person(3100 + i, region="469005") | {"brand_ids": [BRAND["brand_id"]]} for i in range(4)]
    wids = [privacy.worker_id(b["id_number"]) for b in bodies]
    for b in bodies:
        await done(await api.post("/v1/workers", json=b, headers=clerk))
    await done(await api.post(f"/v1/workers/{wids[0]}/trainings", json={
        "name": "文昌鸡制作培训", "hours": 60, "completed_on": (start - timedelta(days=20)).isoformat()}, headers=clerk))
    await done(await api.post(f"/v1/workers/{wids[0]}/certificates", json={
        "kind": "skill_level", "name": "中式烹调师", "level": 4}, headers=clerk))
    dispatch = await done(await api.post("/v1/dispatches", json={
        "organizer_id": "ws-469005-01", "brand_id": BRAND["brand_id"], "mode": "directed_interregional",
        "origin_region": "469005", "destination_region": "440300",
        "employer": {"employer_id": EMPLOYER_ID, "name": "深圳某酒店"}, "departure_date": start.isoformat(),
        "worker_ids": wids[:3]}, headers=clerk))
    placements = [p["placement_id"] for p in dispatch["placements"]]
    for pid in placements:
        await done(await api.post(f"/v1/placements/{pid}/confirm", json={
            "employer_id": EMPLOYER_ID, "position": "厨师", "start_date": start.isoformat(), "monthly_wage": "6800",
            "contract": True, "contract_months": 12}, headers=employer))
    await done(await api.post("/v1/followups", json={
        "placement_id": placements[0], "date": (start + timedelta(days=15)).isoformat(), "channel": "visit",
        "employment_status": "on_job", "satisfaction": 4}, headers=clerk))

    # 1. The bureau submits an entry application and sees the evaluated criteria first.
    page = await console_page("bureau", "bureau/brand-applications")
    await expect(page.locator(".header-title")).to_have_text("入库与晋级评审")
    await pick(page, "品牌", "文昌鸡师傅（县级·培育）")
    preview = page.get_by_test_id("criteria-preview")
    await expect(preview).to_be_visible()
    await expect(preview.get_by_text("全部达标")).to_be_visible()
    await expect(preview.get_by_text("3个月稳岗率")).to_be_visible()
    await every_field_labelled(page)
    await page.get_by_label("申请说明").fill("文昌鸡师傅申请入库")
    await shot(page, "01-application-with-criteria")
    await page.get_by_role("button", name="提交申请").click()
    row = page.locator(".apps tbody tr.el-table__row").first
    await expect(row.get_by_text("待分配专家")).to_be_visible(timeout=20_000)

    # 2. Three experts are assigned by user name.
    await page.get_by_label("文昌鸡师傅的评审专家").fill(f"{REVIEWER.username}，expert-b, expert-c")
    await page.get_by_role("button", name="分配专家").click()
    await expect(row.get_by_text("评审中")).to_be_visible(timeout=20_000)
    await expect(row.get_by_text("0 / 3")).to_be_visible()
    await shot(page, "02-reviewers-assigned")
    application = (await api.get("/v1/brand-applications", headers=bureau)).json()["items"][0]["application"]
    assert application["reviewers"] == [REVIEWER.username, "expert-b", "expert-c"]
    app_id = application["application_id"]

    # Two experts score over the API; ending the review now is refused in Chinese (too few reviews).
    def scores(*points: int) -> list[dict[str, Any]]:
        return [{"item": i, "score": n} for i, n in zip(("scale", "skills", "quality", "reputation"), points, strict=True)]

    for name, pts in (("expert-b", (20, 20, 19, 21)), ("expert-c", (18, 17, 20, 19))):
        await done(await api.post(f"/v1/brands/{BRAND['brand_id']}/scores", json={
            "application_id": app_id, "scores": scores(*pts)}, headers=bearer("reviewer", name, "460000", served.settings)))
    await page.get_by_role("button", name="结束评审").click()
    await expect(page.get_by_text("评审未完成：已有 2 份评分，决定规则需要 3 份")).to_be_visible()

    # 3. The expert signs in, finds the review, reads the criteria and scores on the rubric.
    await ensure_account(served, REVIEWER)
    expert = await console_page("reviewer", account=REVIEWER)
    await expect(expert).to_have_url(f"{served.url}/console/reviewer/reviews")
    await expect(expert.locator(".reviews").get_by_text("文昌鸡师傅")).to_be_visible()
    await expert.get_by_role("button", name="查看").click()
    card = expert.get_by_test_id("score-card")
    await expect(card.get_by_text("申请时的入库标准测评")).to_be_visible()
    for item, n in (("scale", 22), ("skills", 18), ("quality", 20), ("reputation", 19)):
        box = expert.locator(f"#score-{item}")
        await box.fill(str(n))
        await box.press("Tab")
    await expect(expert.get_by_test_id("score-total")).to_have_text("79")
    await expert.get_by_label("评审意见").fill("带动就业明显，稳岗良好")
    await every_field_labelled(expert)
    await shot(expert, "03-reviewer-score-form")
    await expert.get_by_role("button", name="提交评分").click()
    await expect(expert.get_by_test_id("my-score")).to_contain_text("总分 79", timeout=20_000)
    await shot(expert, "04-reviewer-scored")
    # The reviewer's menu is its reviews alone.
    await expect(expert.locator(".el-menu-item")).to_have_count(1)

    # 4. The bureau ends the review: the rule decides, the brand is listed, its history says why.
    await page.reload()
    row = page.locator(".apps tbody tr.el-table__row").first
    await expect(row.get_by_text("3 / 3")).to_be_visible()
    await row.locator(".el-table__expand-icon").click()
    await expect(page.get_by_text("带动就业明显，稳岗良好")).to_be_visible()
    await row.get_by_role("button", name="结束评审").click()
    await expect(page.get_by_text("评审已结束，结果见品牌历史")).to_be_visible(timeout=20_000)
    await page.get_by_text("全部", exact=True).click()  # a decided application leaves the open ones
    row = page.locator(".apps tbody tr.el-table__row").first
    await expect(row.get_by_text("评审通过")).to_be_visible()
    await shot(page, "05-review-decided")
    assert (await api.get(f"/v1/brands/{BRAND['brand_id']}")).json()["status"] == "listed"

    # The brand's page: the decision among its status changes, integrity, complaints, typical persons.
    await page.goto(f"{served.url}/console/bureau/brands/{BRAND['brand_id']}")
    await expect(page.get_by_test_id("brand-status")).to_have_attribute("data-status", "listed")
    await expect(page.locator(".history").get_by_text("评审决定")).to_be_visible()
    await expect(page.get_by_test_id("integrity-grade")).to_have_attribute("data-grade", "A")
    await pick(page, "投诉类型", "劳动争议")
    await page.get_by_label("内容", exact=True).fill("工资结算延迟引发争议")
    await page.get_by_role("button", name="记录").click()
    await expect(page.get_by_test_id("integrity-grade")).to_have_attribute("data-grade", "B", timeout=20_000)
    await page.get_by_label("姓名", exact=True).fill("符师傅")
    await page.get_by_label("手机号").fill("13800138000")
    await page.get_by_label("事迹").fill("三十年文昌鸡烹制经验，带徒两百余人")
    await page.get_by_role("button", name="登记典型人物").click()
    persons = page.get_by_test_id("persons")
    await expect(persons.get_by_text("符师傅")).to_be_visible(timeout=20_000)
    await expect(persons.get_by_text("138****8000")).to_be_visible()
    assert "13800138000" not in await persons.inner_text()
    await every_field_labelled(page)
    await shot(page, "06-brand-page-integrity-persons")

    # 5. Retention falls: two of the three leave within the first month. The re-check proposes a suspension.
    for pid in placements[1:]:
        await done(await api.post(f"/v1/placements/{pid}/end", json={
            "end_date": (start + timedelta(days=20)).isoformat(), "reason": "returned_home",
            "employer_id": EMPLOYER_ID}, headers=employer))
    await page.goto(f"{served.url}/console/bureau/brand-rechecks")
    card = page.locator(f'[data-brand="{BRAND["brand_id"]}"]')
    await expect(card.get_by_test_id("proposal")).to_have_attribute("data-proposal", "suspend")
    await expect(card.get_by_text("3个月稳岗率 0.3333 低于 0.4")).to_be_visible()
    await every_field_labelled(page)
    await shot(page, "07-recheck-proposal")
    await card.get_by_label("理由").fill("3个月稳岗率降至33%，暂停一年整改")
    await card.get_by_role("button", name="提交决定").click()
    await expect(card.get_by_test_id("decided")).to_contain_text("暂停", timeout=20_000)
    await shot(page, "08-recheck-decided")

    await page.goto(f"{served.url}/console/bureau/brands/{BRAND['brand_id']}")
    await expect(page.get_by_test_id("brand-status")).to_have_attribute("data-status", "suspended")
    await expect(page.locator(".history").get_by_text("年度复核决定")).to_be_visible()
    await expect(page.locator(".history").get_by_text("暂停一年整改", exact=False)).to_be_visible()
    await shot(page, "09-brand-suspended-history")
    history = (await api.get(f"/v1/brands/{BRAND['brand_id']}/history")).json()["items"]
    assert [h["changes"]["status"] for h in history if "status" in h["changes"]][-2:] == [
        ["candidate", "listed"], ["listed", "suspended"]]
