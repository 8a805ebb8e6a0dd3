"""Issue 21 end to end: entitlements for a dispatch of 10 (3 priority-group, two distances) → applications → one
refusal → a public notice (公示) with an objection upheld → payments, exact to the fen; a second application for the
same entitlement refused; the budget left exact; organizations registered on first use and verified."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook

from consumers.sweeper import sweep_once
from laowu.domain.identity import id_number_for
from laowu.settings import Settings

from helpers import bearer, person, wait_decided

pytestmark = pytest.mark.services

TODAY = date.today()
D0 = TODAY - timedelta(days=130)  # departure: the 90-day retention has passed by today
START = D0 + timedelta(days=2)
BRAND = {"brand_id": "wc-chef", "name": "文昌鸡师傅", "region_code": "469005", "category": "service", "level": "county"}
FAR = {"employer_id": "emp-sz-hotel", "name": "深圳某酒店", "uscc": "91440300708461136T"}  # 跨省
NEAR = {"employer_id": "emp-hk-hotel", "name": "海口某酒店"}  # 省内跨市 (文昌 → 海口)
WS = bearer("workstation", "ws-469005-01", "469005")
BUREAU = bearer("bureau", "hrss-460000", "460000")
NOTICE = "gs-2026-wc-01"
PRIORITY = {0, 1, 7}  # two go far, one near


def at(day: date) -> str:
    return datetime.combine(day, time(10), UTC).isoformat()


async def accepted(r: httpx.Response) -> str:
    assert r.status_code == 202, r.text
    return str(r.json()["event_id"])


async def all_applied(pool: asyncpg.Pool, ids: list[str]) -> None:
    decided = await wait_decided(pool, ids)
    assert {d["status"] for d in decided.values()} == {"applied"}, [d for d in decided.values() if d["reason"]]


async def outbox_drained(pool: asyncpg.Pool) -> None:
    for _ in range(100):
        if await pool.fetchval("SELECT count(*) FROM outbox") == 0:
            return
        await asyncio.sleep(0.05)


async def dispatch_ten(api: httpx.AsyncClient, pool: asyncpg.Pool) -> list[str]:
    await all_applied(pool, [await accepted(await api.post("/v1/brands", json=BRAND))])
    bodies = [person(300 + n, region="469005") | {"brand_ids": ["wc-chef"],
                                                  "priority_groups": ["poverty_alleviated"] if n in PRIORITY else []}
              for n in range(10)]
    r = await api.post("/v1/events:batch", json={"events": [{"type": "worker.registered", "payload": b}
                                                            for b in bodies]}, headers=WS)
    await all_applied(pool, [x["event_id"] for x in r.json()["results"]])
    workers = [x["worker_id"] for x in r.json()["results"]]
    ids, placements = [], {}
    for did, employer, destination, group in (("dsp-far", FAR, "440300", workers[:7]),
                                              ("dsp-near", NEAR, "460105", workers[7:])):
        r = await api.post("/v1/dispatches", json={
            "dispatch_id": did, "organizer_id": "ws-469005-01", "brand_id": "wc-chef",
            "mode": "directed_interregional", "origin_region": "469005", "destination_region": destination,
            "employer": employer, "positions": ["厨师"], "departure_date": D0.isoformat(), "group_transport": True,
            "worker_ids": group}, headers=WS)
        ids.append(await accepted(r))
        placements |= {p["worker_id"]: (p["placement_id"], employer["employer_id"]) for p in r.json()["placements"]}
    await all_applied(pool, ids)
    ids = []
    for w in workers:
        pid, emp = placements[w]
        ids.append(await accepted(await api.post(f"/v1/placements/{pid}/confirm", json={
            "employer_id": emp, "position": "厨师", "start_date": START.isoformat(), "monthly_wage": "6800.00",
            "contract": True, "contract_months": 12},
            headers=bearer("employer", emp, "440300" if emp == FAR["employer_id"] else "460105"))))
    await all_applied(pool, ids)
    return workers


async def test_subsidies_from_entitlement_to_payment(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any,
                                                     settings: Settings) -> None:
    workers = await dispatch_ten(api, pool)

    # The organizations the dispatches named were registered on first use, pending the bureau's verification.
    pending = (await api.get("/v1/organizations", params={"status": "pending"}, headers=BUREAU)).json()["items"]
    assert {(o["org_id"], o["kind"], o["first_use"]) for o in pending} == {
        ("ws-469005-01", "workstation", True), ("emp-hk-hotel", "employer", True)}  # the Shenzhen hotel: not its region
    far = (await api.get("/v1/organizations/emp-sz-hotel")).json()
    assert (far["status"], far["uscc"], far["registered_by"]) == ("pending", FAR["uscc"], "ws-469005-01")
    await all_applied(pool, [await accepted(await api.post("/v1/organizations/ws-469005-01/verification", json={
        "status": "verified", "reason": "工作站备案材料齐全"}, headers=BUREAU))])
    assert (await api.get("/v1/organizations/ws-469005-01", headers=BUREAU)).json()["status"] == "verified"
    r = await api.post("/v1/organizations/emp-sz-hotel/verification", json={"status": "verified", "reason": "x"},
                       headers=BUREAU)
    assert r.status_code == 404  # another province's employer: its own bureau verifies it

    # On confirmation: transport (跨省 600.00 ×2, 省内跨市 300.00 ×1) and social insurance (800.00 ×3).
    # 90 days on, the sweeper: the organizer's service subsidy for all 10, the migrant bonus for the 3.
    assert await sweep_once(pool, settings, today=TODAY) == (10, 13)  # and 10 follow-ups overdue
    await outbox_drained(pool)
    items = (await api.get("/v1/subsidies", params={"limit": 500}, headers=BUREAU)).json()["items"]
    assert len(items) == 19 and {s["status"] for s in items} == {"entitled"}
    amounts = {(s["kind"], s["worker_id"]): Decimal(s["amount"]) for s in items}
    assert sorted(v for (k, _), v in amounts.items() if k == "transport") == [Decimal("300.00"), Decimal("600.00"),
                                                                             Decimal("600.00")]
    assert amounts[("transport", workers[7])] == Decimal("300.00")
    assert {w for (k, w) in amounts if k in ("social_insurance", "migrant_bonus")} == {workers[n] for n in PRIORITY}
    assert sum(amounts.values()) == Decimal("11500.00")  # 1500 + 2400 + 4000 + 3600
    assert {s["rule_version"] for s in items} == {"2026.2-hainan"}
    for org in {s["organization_id"] for s in items}:  # each line names its organization as the registry does
        name = (await api.get(f"/v1/organizations/{org}", headers=BUREAU)).json()["name"]
        assert {s["organization_name"] for s in items if s["organization_id"] == org} == {name}
    sid = {(s["kind"], s["worker_id"]): s["subsidy_id"] for s in items}

    # Applications: the organizer applies for all 19 (for the people, as their workstation).
    ids = [await accepted(await api.post(f"/v1/subsidies/{s}/application", json={"note": "材料已收齐"}, headers=WS))
           for s in sid.values()]
    await all_applied(pool, ids)
    again = await api.post(f"/v1/subsidies/{sid[('transport', workers[0])]}/application", json={}, headers=WS)
    assert again.status_code == 409 and "already applied for by ws-469005-01" in again.text
    assert (await api.post(f"/v1/subsidies/{sid[('transport', workers[0])]}/application", json={},
                           headers=bearer("workstation", "ws-460105-01", "460105"))).status_code == 404

    # Review: one refused with the reason, the other 18 approved; what was checked is recorded.
    refused = sid[("social_insurance", workers[7])]
    ids = [await accepted(await api.post(f"/v1/subsidies/{refused}/review", json={
        "decision": "refused", "reason": "未参加城镇职工社会保险", "checked": ["社保缴费记录"]}, headers=BUREAU))]
    approved = [s for s in sid.values() if s != refused]
    ids += [await accepted(await api.post(f"/v1/subsidies/{s}/review", json={
        "decision": "approved", "reason": "材料齐全", "checked": ["身份", "就业", "优先群体", "重复享受"]},
        headers=BUREAU)) for s in approved]
    await all_applied(pool, ids)
    assert (await api.post(f"/v1/subsidies/{refused}/review", json={"decision": "approved", "reason": "x"},
                           headers=WS)).status_code == 403

    # 公示 for 7 days, from 10 days ago; an objection to one migrant bonus is upheld, another dismissed.
    start = TODAY - timedelta(days=10)
    ids = [await accepted(await api.post(f"/v1/subsidies/{s}/notice", json={
        "notice_id": NOTICE, "start_date": start.isoformat(), "days": 7}, headers=BUREAU)) for s in approved]
    await all_applied(pool, ids)
    objected, dismissed = sid[("migrant_bonus", workers[1])], sid[("employment_service", workers[3])]
    late = await api.post(f"/v1/subsidies/{objected}/objections", json={
        "objection_id": "obj-late", "summary": "公示期后才提出", "occurred_at": at(start + timedelta(days=8))},
        headers=BUREAU)
    ids = [await accepted(await api.post(f"/v1/subsidies/{objected}/objections", json={
        "objection_id": "obj-1", "summary": "群众反映该人员实际在县内务工", "occurred_at": at(start + timedelta(days=2))},
        headers=BUREAU)),
        await accepted(await api.post(f"/v1/subsidies/{dismissed}/objections", json={
            "objection_id": "obj-2", "summary": "反映未到岗", "occurred_at": at(start + timedelta(days=3))},
            headers=BUREAU))]
    await all_applied(pool, ids)
    assert (await wait_decided(pool, [await accepted(late)]))[late.json()["event_id"]]["status"] == "rejected"
    ids = [await accepted(await api.post(f"/v1/subsidies/{objected}/objection-decisions", json={
        "objection_id": "obj-1", "upheld": True, "reason": "经核实在县内务工，不符合外出务工奖补条件"}, headers=BUREAU)),
        await accepted(await api.post(f"/v1/subsidies/{dismissed}/objection-decisions", json={
            "objection_id": "obj-2", "upheld": False, "reason": "经核实已到岗在岗"}, headers=BUREAU))]
    await all_applied(pool, ids)

    notice = (await api.get("/v1/subsidy-notice", params={"notice_id": NOTICE}, headers=BUREAU)).json()
    assert len(notice["items"]) == 18 and [i["seq"] for i in notice["items"]] == list(range(1, 19))
    assert {i["id_number_masked"] for i in notice["items"]} == {"469005************"}
    assert next(i for i in notice["items"] if i["subsidy_id"] == objected)["status"] == "refused"

    # Payments for the 17, after the notice: exact amounts, one voucher each; a wrong amount and an early date refused.
    paid_on = start + timedelta(days=8)
    to_pay = [s for s in approved if s != objected]
    wrong = await api.post(f"/v1/subsidies/{to_pay[0]}/payment", json={
        "paid_on": paid_on.isoformat(), "voucher_number": "PZ-X", "amount": "599.99"}, headers=BUREAU)
    early = await api.post(f"/v1/subsidies/{to_pay[0]}/payment", json={
        "paid_on": (start + timedelta(days=6)).isoformat(), "voucher_number": "PZ-X", "amount": "600.00"},
        headers=BUREAU)
    refusals = await wait_decided(pool, [await accepted(wrong), await accepted(early)])
    assert [refusals[r.json()["event_id"]]["status"] for r in (wrong, early)] == ["rejected", "rejected"]
    assert "must be the amount approved" in str(refusals[wrong.json()["event_id"]]["reason"])
    by_id = {s["subsidy_id"]: Decimal(s["amount"]) for s in items}
    ids = [await accepted(await api.post(f"/v1/subsidies/{s}/payment", json={
        "paid_on": paid_on.isoformat(), "voucher_number": f"PZ-2026-{n:04d}", "amount": str(by_id[s])},
        headers=BUREAU)) for n, s in enumerate(to_pay)]
    await all_applied(pool, ids)

    paid = (await api.get("/v1/subsidies", params={"status": "paid", "limit": 500}, headers=BUREAU)).json()["items"]
    assert len(paid) == 17 and sum(Decimal(s["amount"]) for s in paid) == Decimal("9500.00")
    assert {s["subsidy_id"] for s in (await api.get("/v1/subsidies", params={"status": "refused"},
                                                    headers=BUREAU)).json()["items"]} == {refused, objected}
    budget = next(b for b in (await api.get("/v1/subsidy-budgets", headers=BUREAU)).json()["items"]
                  if b["rule_region"] == "460000" and b["year"] == START.year)
    assert {k: Decimal(budget[k]) for k in ("budget", "committed", "paid", "left")} == {
        "budget": Decimal("500000.00"), "committed": Decimal("9500.00"), "paid": Decimal("9500.00"),
        "left": Decimal("490500.00")}

    detail = (await api.get(f"/v1/subsidies/{objected}", headers=BUREAU)).json()
    assert detail["status"] == "refused" and detail["objections"][0]["upheld"] is True
    assert [h["type"] for h in detail["history"]] == ["subsidy.applied", "subsidy.reviewed", "subsidy.noticed",
                                                      "subsidy.objection_raised", "subsidy.objection_decided"]
    assert detail["checked"] == ["身份", "就业", "优先群体", "重复享受"] and detail["rule_version"] == "2026.2-hainan"
    one = (await api.get(f"/v1/subsidies/{to_pay[0]}", headers=WS)).json()
    assert one["status"] == "paid" and one["voucher_number"] == "PZ-2026-0000" and one["paid_on"] == paid_on.isoformat()

    # The 公示 list as a workbook in the usual layout, masked.
    r = await api.get("/v1/subsidy-notice.xlsx", params={"notice_id": NOTICE}, headers=BUREAU)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[1][:6]) == ["序号", "姓名", "身份证号", "补贴类别", "金额（元）", "所属机构"]
    assert len(rows) == 2 + 18 + 1 and rows[2][2] == "469005************"
    assert {row[3] for row in rows[2:-1]} == {"一次性交通补助", "社会保险补贴", "就业创业服务补助", "外出务工奖补"}
    # the lines on notice, less the one refused after an objection: what will be paid
    assert rows[-1][0] == "合计（不含未通过）" and Decimal(str(rows[-1][4])) == Decimal("9500.00")
    assert Decimal(notice["total"]) == Decimal("9500.00")
    assert not any(re.search(r"\d{17}[\dX]", str(v)) for row in rows for v in row)  # no full ID number


async def test_a_person_broker_is_registered_encrypted_masked_and_revealed_audited(
        api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any) -> None:
    number = id_number_for("469005", date(1980, 5, 6), 17)
    r = await api.post("/v1/organizations", json={"kind": "labour_broker", "name": "符大姐", "region_code": "469005",
                                                  "id_number": number, "contact_phone": "13800138000"}, headers=WS)
    oid = r.json()["org_id"]
    await all_applied(pool, [await accepted(r)])
    assert number not in oid
    rec = (await api.get(f"/v1/organizations/{oid}", headers=WS)).json()
    assert rec["id_number_masked"] == "469005************" and rec["contact_phone_masked"] != "13800138000"
    stored = await pool.fetchrow("SELECT id_number_enc, contact_phone_enc FROM organizations WHERE org_id = $1", oid)
    assert number not in str(dict(stored)) and stored["id_number_enc"].startswith("enc1:")
    revealed = (await api.post(f"/v1/organizations/{oid}/reveal", json={"purpose": "核对经纪人身份"}, headers=BUREAU)).json()
    assert revealed["id_number"] == number and revealed["contact_phone"] == "13800138000"
    assert await pool.fetchval("SELECT count(*) FROM audit_log WHERE worker_id = $1", f"org:{oid}") == 1
    bad = await api.post("/v1/organizations", json={"kind": "labour_broker", "name": "某公司", "region_code": "469005"},
                         headers=WS)
    assert bad.status_code == 422 and bad.json()["detail"][0]["type"] == "broker_identity"
    bad = await api.post("/v1/organizations", json={"kind": "employer", "name": "某公司", "region_code": "469005",
                                                    "uscc": "91440300708461136X"}, headers=WS)
    assert bad.status_code == 422 and "uscc" in bad.json()["detail"][0]["loc"]
    # the same person again: the same derived id, refused by the ledger (the id is derived after the lookups)
    dup = await api.post("/v1/organizations", json={"kind": "labour_broker", "name": "符大姐", "region_code": "469005",
                                                    "id_number": number}, headers=WS)
    assert dup.json()["org_id"] == oid
    decided = await wait_decided(pool, [await accepted(dup)])
    assert "already registered" in str(decided[dup.json()["event_id"]]["reason"])
    chosen = await api.post("/v1/organizations", json={"org_id": oid, "kind": "service_station", "name": "某服务站",
                                                       "region_code": "469005"}, headers=WS)
    assert chosen.status_code == 409  # a chosen id that is known is refused at once
