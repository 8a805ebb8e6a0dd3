"""Issue 20's story end to end: priority-group monitoring (务工监测) and casework on a wage-arrears alert (跟踪帮扶).

12 priority-group people of three counties over four months in event time, one workstation syncing a month late
(``laowu.monitoring_demo``). The monthly table, its distance split and income are what the people's months say and
equal a recount (the stream worker's copy against the ledger); a county's drop raises its alert; a wage-arrears case
is assigned, escalates when ignored, is worked and closed; the closure rate is exact.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook

from consumers.sweeper import sweep_once
from laowu.domain.alerts import CHINA
from laowu.monitoring_demo import Story
from laowu.settings import Settings

from helpers import wait_receipt
from workload import converge, streams_worker

pytestmark = pytest.mark.services

BUREAU_105 = ("bureau", "hrss-460105", "460105")
CITY = ("bureau", "hrss-460100", "460100")
PROVINCE = ("bureau", "hrss-460000", "460000")


def by_distance(cp: int, cc: int, ck: int, ic: int) -> dict[str, int]:
    return {"cross_province": cp, "cross_city": cc, "cross_county": ck, "in_county": ic}


async def table(api: httpx.AsyncClient, region: str, month: str, who: dict[str, str]) -> dict[str, Any]:
    r = await api.get("/v1/monitoring/table", params={"region": region, "month": month}, headers=who)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_priority_group_monitoring_and_a_wage_arrears_case(api: httpx.AsyncClient, pool: asyncpg.Pool,
                                                                 ledger: Any, settings: Settings, tmp_path: Path) -> None:
    story = Story(api, settings)
    province = story.auth(*PROVINCE)
    with streams_worker(settings, tmp_path / "streams.log") as worker:
        await story.register()
        await story.place()
        await story.month2_on_time()
        await story.month3()
        # Before 文昌市 syncs, its M2 shows only the wages confirmed at hiring.
        await converge(settings, worker=worker)
        before = await table(api, "469005", story.month(2), province)
        assert before["total"]["average_income"] == "4500.00"
        await story.late_sync()
        report = await converge(settings, worker=worker)
        assert report.consistent_cut and report.drift == [], report.drift
        after = await table(api, "469005", story.month(2), province)
        assert after["total"]["average_income"] == "4700.00"  # (3,300 + 3,000 + 6,500 + 6,000) / 4

        # ---- the monthly table, distance split and income (hand-computed from the story's facts) --------------------
        m1, m2, m3 = [await table(api, "460000", story.month(n), province) for n in (1, 2, 3)]
        assert (m1["total"]["monitored"], m1["total"]["in_work"]) == (12, 12)
        assert m1["total"]["by_distance"] == by_distance(4, 4, 2, 2)
        assert Decimal(m1["total"]["average_income"]) == Decimal("4500.00")  # 54,000 / 12
        assert m2["total"]["in_work"] == 12  # 龙华区's three worked part of M2
        assert Decimal(m2["total"]["average_income"]) == Decimal("4591.67")  # 55,100 / 12, late wages included
        assert m3["total"]["in_work"] == 9 and m3["total"]["by_distance"] == by_distance(4, 1, 2, 2)
        assert Decimal(m3["total"]["average_income"]) == Decimal("4500.00")  # 40,500 / 9
        assert m3["total"]["change"] == {
            "previous": 12, "vs_previous": -3, "vs_previous_pct": "-25.0", "last_year": 0, "vs_last_year": 9,
            "vs_last_year_pct": None}
        rows = {r["region"]: r for r in m3["rows"]}
        assert set(rows) == {"460100", "469000"}  # 海口市 (two districts) and the province-administered counties
        city = await table(api, "460100", story.month(3), province)
        counties = {r["region"]: r for r in city["rows"]}
        assert (counties["460106"]["in_work"], counties["460106"]["change"]["previous"]) == (1, 4)
        assert counties["460106"]["falling"] and not counties["460105"]["falling"]
        # A person's months: in work, where, income and months in work this year.
        months = (await api.get(f"/v1/monitoring/workers/{story.workers['c1']}/months",
                                params={"through": story.month(4)})).json()["items"]
        assert [(m["month"], m["in_work"], m["distance"], m["income"], m["income_source"]) for m in months] == [
            (story.month(1), True, "in_county", "3000.00", "confirmed"),
            (story.month(2), True, "in_county", "3300.00", "followup"),
            (story.month(3), True, "in_county", "3000.00", "confirmed"),
            (story.month(4), True, "in_county", "3000.00", "confirmed")]
        ytd = [sum(1 for j in range(1, i + 1) if story.month(j)[:4] == story.month(i)[:4]) for i in range(1, 5)]
        assert [m["months_in_work_ytd"] for m in months] == ytd

        # ---- work-lists of 龙华区's workstation -----------------------------------------------------------------------
        ws106 = story.clerk("b1")
        home = (await api.get("/v1/monitoring/returned-home", headers=ws106)).json()["items"]
        assert sorted(i["worker"]["worker_id"] for i in home) == sorted(story.workers[k] for k in ("b1", "b2", "b3"))
        assert {(i["source"], i["returned_on"], i["from_region"]) for i in home} == {
            ("separation", story.day(2, 20).isoformat(), "460200")}
        assert all(i["worker"]["id_number_masked"].endswith("*" * 12) for i in home)
        # b1 tells the workstation why and what they want (求职意向 with 未就业原因, issue 19): it is the list's reason
        said = await api.post(f"/v1/workers/{story.workers['b1']}/intention", headers=ws106, json={
            "occupations": ["6-29-01-00"], "destinations": ["440300"], "min_monthly_wage": "5000",
            "not_working_reason": "caring_for_family"})
        assert said.status_code == 202, said.text
        assert (await wait_receipt(api, said.json()["event_id"]))["status"] == "applied"
        idle = (await api.get("/v1/monitoring/not-in-work", params={"month": story.month(3)}, headers=ws106)).json()
        assert sorted(i["worker"]["worker_id"] for i in idle["items"]) == sorted(story.workers[k] for k in ("b1", "b2", "b3"))
        why = {i["worker"]["worker_id"]: (i["reason"], i["reason_source"]) for i in idle["items"]}
        assert why == {story.workers["b1"]: ("未就业原因：照料家庭", "intention"),
                       story.workers["b2"]: ("离职：返乡", "separation"), story.workers["b3"]: ("离职：返乡", "separation")}
        stated = {i["worker"]["worker_id"]: i["intentions"] for i in idle["items"]}
        assert stated[story.workers["b1"]]["destinations"] == ["440300"] and stated[story.workers["b2"]] is None
        # Another county's workstation does not see them.
        assert (await api.get("/v1/monitoring/returned-home", params={"region": "460106"},
                              headers=story.clerk("a1"))).status_code == 404

    # ---- the wage-arrears case: assigned, ignored (escalates), worked, closed ---------------------------------------
    arrears = story.arrears_alert("a2", 3)
    clerk = story.auth("workstation", "ws-460105-01", "460105", subject="account:clerk-105")
    bureau = story.auth(*BUREAU_105)

    async def step(action: str, body: dict[str, Any], who: dict[str, str]) -> dict[str, Any]:
        r = await api.post(f"/v1/alerts/{arrears}/{action}", json=body, headers=who)
        assert r.status_code == 202, r.text
        await story.applied([r.json()["event_id"]])
        return dict(r.json())

    # 404 for whoever does not see it; a field the contract lacks is 422
    assert (await api.post(f"/v1/alerts/{arrears}/acknowledge", json={}, headers=story.clerk("b1"))).status_code == 404
    assert (await api.post(f"/v1/alerts/{arrears}/resolve", json={"outcome": "done"}, headers=bureau)).status_code == 422
    unknown = await api.post(f"/v1/alerts/{arrears}/assign", json={"assignee": "nobody-here"}, headers=bureau)
    assert unknown.status_code == 409 and unknown.json()["detail"][0]["loc"][-1] == "assignee", unknown.text
    r = await api.post("/v1/accounts", json={"username": "clerk-105", "display_name": "秀英区工作站", "role": "workstation",
                                             "org": "ws-460105-01", "region": "460105", "password": "laowu-test-2026"})
    assert r.status_code == 201, r.text
    await step("assign", {"assignee": "clerk-105", "team": "ws-460105-01", "note": "请尽快核实欠薪情况",
                          "occurred_at": story.at(3, 3, 11)}, bureau)
    mine = (await api.get("/v1/cases", params={"view": "mine"}, headers=clerk)).json()["items"]
    assert [c["alert_id"] for c in mine] == [arrears] and mine[0]["state"] == "assigned"
    team = (await api.get("/v1/cases", params={"view": "team"}, headers=story.clerk("a1"))).json()["items"]
    assert [c["alert_id"] for c in team] == [arrears]

    # nobody acknowledges within 3 days: at the deadline it goes to 海口市's bureau
    await sweep_once(pool, settings, today=story.day(3, 6))
    raised_at = datetime.combine(story.day(3, 3), time(0), CHINA)
    case = (await api.get(f"/v1/alerts/{arrears}/case", headers=bureau)).json()
    assert case["escalated_to"] == "460100"
    assert datetime.fromisoformat(case["escalated_at"]) == raised_at + timedelta(days=3)
    escalated = (await api.get("/v1/cases", params={"view": "escalated"}, headers=story.auth(*CITY))).json()["items"]
    assert arrears in [c["alert_id"] for c in escalated]
    await sweep_once(pool, settings, today=story.day(3, 7))  # nothing twice
    assert await pool.fetchval("SELECT count(*) FROM alert_cases WHERE escalated_to IS NOT NULL AND alert_id = $1",
                               arrears) == 1

    await step("acknowledge", {"occurred_at": story.at(3, 7, 9)}, clerk)
    again = await api.post(f"/v1/alerts/{arrears}/acknowledge", json={"occurred_at": story.at(3, 7, 10)}, headers=clerk)
    refused = await wait_receipt(api, again.json()["event_id"])  # a case is acknowledged once
    assert refused["status"] == "rejected" and "already acknowledged" in refused["reason"]
    await step("work", {"action": "phone_visit", "note": "电话联系本人，确认 2 个月工资未发", "occurred_at": story.at(3, 7, 14)},
               clerk)
    await step("work", {"action": "labor_inspection", "note": "已移交深圳市劳动监察大队", "occurred_at": story.at(3, 8, 10)},
               clerk)
    await step("resolve", {"outcome": "resolved", "note": "工资已足额支付", "occurred_at": story.at(3, 10, 9)}, clerk)
    case = (await api.get(f"/v1/alerts/{arrears}/case", headers=clerk)).json()
    assert (case["state"], case["outcome"], case["overdue"]) == ("closed", "resolved", False)
    assert [(h["type"], (h["actor"] or {}).get("subject")) for h in case["history"]] == [
        ("raised", None), ("alert.assigned", "bureau:hrss-460105"), ("escalated", None),
        ("alert.acknowledged", "account:clerk-105"), ("alert.worked", "account:clerk-105"),
        ("alert.worked", "account:clerk-105"), ("alert.resolved", "account:clerk-105")]
    assert [h["detail"].get("action") for h in case["history"] if h["type"] == "alert.worked"] == [
        "phone_visit", "labor_inspection"]
    # a closed case is not worked
    late = await api.post(f"/v1/alerts/{arrears}/work", json={"note": "补充", "occurred_at": story.at(3, 11)},
                          headers=clerk)
    assert (await wait_receipt(api, late.json()["event_id"]))["status"] == "rejected"
    # … but it may be reopened (the wages stopped again) and closed once more, the last closing counting
    await step("reopen", {"reason": "本月工资再次拖欠", "occurred_at": story.at(3, 12, 9)}, clerk)
    assert (await api.get("/v1/cases", params={"view": "mine"}, headers=clerk)).json()["items"][0]["state"] == "in_progress"
    await step("work", {"action": "legal_aid", "note": "转法律援助中心", "occurred_at": story.at(3, 12, 15)}, clerk)
    await step("resolve", {"outcome": "referred", "occurred_at": story.at(3, 13, 9)}, clerk)
    case = (await api.get(f"/v1/alerts/{arrears}/case", headers=clerk)).json()
    assert (case["state"], case["outcome"]) == ("closed", "referred")
    assert [h["type"] for h in case["history"]][-3:] == ["alert.reopened", "alert.worked", "alert.resolved"]
    assert (await api.get("/v1/cases", params={"view": "mine"}, headers=clerk)).json()["items"] == []

    # ---- a county's drop raises its alert (once M3 is over) --------------------------------------------------------
    await sweep_once(pool, settings, today=story.day(4, 2))
    drops = (await api.get("/v1/alerts", params={"kind": "employment_drop"})).json()["items"]
    assert [(a["alert_id"], a["regions"], a["closed_at"]) for a in drops] == [
        (f"employment_drop:460106:{story.month(3)}", ["460106"], None)]
    assert "较上月 4 人下降 75.0%" in drops[0]["detail"]
    county_cases = (await api.get("/v1/cases", params={"view": "region"},
                                  headers=story.auth("bureau", "hrss-460106", "460106"))).json()["items"]
    assert [c["alert_id"] for c in county_cases if c["kind"] == "employment_drop"] == [drops[0]["alert_id"]]

    # ---- the figures: 欠薪预警办结率 exact -------------------------------------------------------------------------
    # a2's case closed (last) 10 d 9 h after it was raised (deadline 15 d); c4's (raised M2-15, 文昌市, synced late) is open
    # and past its deadline. Due: 2, closed in time: 1.
    figs = (await api.get("/v1/cases/figures", params={"kind": "wage_arrears"}, headers=province)).json()
    assert {k: figs["total"][k] for k in ("open", "overdue", "closed", "due", "closed_in_time")} == {
        "open": 1, "overdue": 1, "closed": 1, "due": 2, "closed_in_time": 1}
    assert Decimal(figs["total"]["closure_rate"]) == Decimal("0.5")
    assert figs["total"]["median_hours_to_close"] == 10 * 24 + 9
    by_region = {r["region"]: r for r in figs["rows"]}
    assert (by_region["460100"]["closed_in_time"], by_region["460100"]["open"]) == (1, 0)
    county = (await api.get("/v1/cases/figures", params={"kind": "wage_arrears", "region": "469005"},
                            headers=province)).json()["total"]
    assert (county["open"], county["overdue"], county["closure_rate"]) == (1, 1, "0.0000")

    # ---- the collection sheet: masked; full numbers only through the audited reveal -----------------------------------
    r = await api.get("/v1/export/monitoring.xlsx", params={"region": "460106", "month": story.month(3)}, headers=province)
    assert r.status_code == 200, r.text
    ws = load_workbook(BytesIO(r.content)).active
    header = [c.value for c in ws[2]]
    assert header[:6] == ["序号", "姓名", "身份证号", "性别", "户籍地", "人员类别"] and "务工月收入（元）" in header
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert len(body) == 4 and all(str(row[2]).endswith("*" * 12) for row in body)
    working = [row for row in body if row[7] == "是"]
    assert len(working) == 1 and working[0][9] == "省内跨市" and working[0][11] == 4500
    audit_before = await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'reveal'")
    r = await api.post("/v1/export/monitoring-revealed.xlsx",
                       json={"region": "460106", "month": story.month(3), "purpose": "国家监测系统月度报送"},
                       headers=province)
    assert r.status_code == 200, r.text
    full = [[c.value for c in row] for row in load_workbook(BytesIO(r.content)).active.iter_rows(min_row=3)]
    assert all(len(str(row[2])) == 18 and "*" not in str(row[2]) for row in full)
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'reveal'") == audit_before + 4
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE action = 'export.monitoring_revealed'") == 1
    # a workstation of another county cannot export 龙华区
    assert (await api.post("/v1/export/monitoring-revealed.xlsx", json={"region": "460106", "purpose": "核对信息"},
                           headers=story.clerk("a1"))).status_code == 404
