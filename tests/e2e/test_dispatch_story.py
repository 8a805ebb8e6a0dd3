"""Organized output end to end: brand → workers → dispatch → confirmations → follow-ups → alerts → subsidies."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from consumers.sweeper import sweep_once
from laowu.settings import Settings

from helpers import bearer, person, wait_decided, wait_receipt

pytestmark = pytest.mark.services

BRAND = {"brand_id": "qiongzhu", "name": "琼筑劳务", "region_code": "460000", "category": "skilled",
         "level": "provincial"}
EMPLOYER = {"employer_id": "emp-sz-build", "name": "深圳某建筑公司", "uscc": "91440300708461136T"}
D0 = date.today() - timedelta(days=120)
WORKSTATION = bearer("workstation", "ws-469005-01", "469005")
EMPLOYER_AUTH = bearer("employer", "emp-sz-build", "440300")


async def accepted(r: httpx.Response) -> str:
    assert r.status_code == 202, r.text
    return str(r.json()["event_id"])


async def settle(pool: asyncpg.Pool, ids: list[str]) -> dict[str, dict[str, Any]]:
    decided = await wait_decided(pool, ids)
    for _ in range(100):  # let the relay drain the outbox
        if await pool.fetchval("SELECT count(*) FROM outbox") == 0:
            break
        await asyncio.sleep(0.05)
    return decided


async def setup_story(api: httpx.AsyncClient, pool: asyncpg.Pool) -> tuple[list[str], dict[str, str]]:
    assert (await wait_receipt(api, await accepted(await api.post("/v1/brands", json=BRAND))))["status"] == "applied"
    bodies = [person(100 + n, region="469005") | {"brand_ids": ["qiongzhu"],
                                                  "priority_groups": ["poverty_alleviated"] if n < 6 else []}
              for n in range(20)]
    r = await api.post("/v1/events:batch", json={"events": [{"type": "worker.registered", "payload": b} for b in bodies]},
                       headers=WORKSTATION)
    results = r.json()["results"]
    assert {x["status"] for x in results} == {"accepted"}, results[:2]
    await settle(pool, [x["event_id"] for x in results])
    workers = [x["worker_id"] for x in results]
    r = await api.post("/v1/dispatches", json={
        "dispatch_id": "dsp-2026-wc-01", "organizer_id": "ws-469005-01", "brand_id": "qiongzhu",
        "mode": "directed_interregional", "origin_region": "469005", "destination_region": "440300",
        "employer": EMPLOYER, "positions": ["钢筋工"], "departure_date": D0.isoformat(), "group_transport": True,
        "worker_ids": workers}, headers=WORKSTATION)
    await settle(pool, [await accepted(r)])
    placements = {p["worker_id"]: p["placement_id"] for p in r.json()["placements"]}
    assert list(placements) == workers and r.json()["rejected"] == []
    return workers, placements


async def test_full_story(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings) -> None:
    workers, placements = await setup_story(api, pool)
    dispatch = (await api.get("/v1/dispatches/dsp-2026-wc-01")).json()
    assert dispatch["status"] == "applied" and {w["outcome"] for w in dispatch["workers"]} == {"dispatched"}
    assert (await api.get(f"/v1/workers/{workers[0]}")).json()["state"] == "dispatched"

    # A week after departure nobody has confirmed: 20 alerts.
    assert await sweep_once(pool, settings, today=D0 + timedelta(days=10)) == (20, 0)
    assert len((await api.get("/v1/alerts", params={"kind": "unconfirmed_placement", "open": "true"})).json()["items"]) == 20

    start = D0 + timedelta(days=2)
    ids = []
    for w in workers[:18]:
        ids.append(await accepted(await api.post(f"/v1/placements/{placements[w]}/confirm", json={
            "employer_id": EMPLOYER["employer_id"], "position": "钢筋工", "start_date": start.isoformat(),
            "monthly_wage": "7800.00", "contract": True, "contract_months": 12}, headers=EMPLOYER_AUTH)))
    for w in workers[18:]:
        ids.append(await accepted(await api.post(f"/v1/placements/{placements[w]}/reject", json={
            "employer_id": EMPLOYER["employer_id"], "reason": "未到岗"}, headers=EMPLOYER_AUTH)))
    await settle(pool, ids)
    assert (await api.get("/v1/alerts", params={"kind": "unconfirmed_placement", "open": "true"})).json()["items"] == []
    assert (await api.get(f"/v1/workers/{workers[19]}")).json()["state"] == "registered"
    placed = (await api.get(f"/v1/workers/{workers[0]}")).json()
    assert placed["state"] == "placed" and placed["current_placement_id"] == placements[workers[0]]

    # Follow-ups for 15 within 30 days; one reports wage arrears.
    ids = []
    for n, w in enumerate(workers[:15]):
        ids.append(await accepted(await api.post("/v1/followups", json={
            "placement_id": placements[w], "date": (start + timedelta(days=20)).isoformat(), "channel": "phone",
            "employment_status": "on_job", "monthly_wage": "7800", "satisfaction": 4,
            "problems": ["wage_arrears"] if n == 0 else []}, headers=WORKSTATION)))
    await settle(pool, ids)
    assert await sweep_once(pool, settings, today=start + timedelta(days=40)) == (3, 0)
    overdue = (await api.get("/v1/alerts", params={"kind": "followup_overdue", "open": "true"})).json()["items"]
    assert sorted(a["worker_id"] for a in overdue) == sorted(workers[15:18])
    arrears = (await api.get("/v1/alerts", params={"kind": "wage_arrears", "open": "true", "region": "469005"})).json()
    assert [a["worker_id"] for a in arrears["items"]] == [workers[0]]
    assert (await api.get(f"/v1/workers/{workers[0]}")).json()["last_followup_at"] == (start + timedelta(days=20)).isoformat()

    # A late follow-up arrives and closes its alert; two placements end before the 3-month mark.
    await settle(pool, [await accepted(await api.post("/v1/followups", json={
        "placement_id": placements[workers[15]], "date": (start + timedelta(days=45)).isoformat(), "channel": "visit",
        "employment_status": "on_job"}, headers=WORKSTATION))])
    assert len((await api.get("/v1/alerts", params={"kind": "followup_overdue", "open": "true"})).json()["items"]) == 2
    ended = [await accepted(await api.post(f"/v1/placements/{placements[workers[1]]}/end", json={
                 "end_date": (start + timedelta(days=20)).isoformat(), "reason": "resigned"}, headers=EMPLOYER_AUTH)),
             await accepted(await api.post(f"/v1/placements/{placements[workers[2]]}/end", json={
                 "end_date": (start + timedelta(days=60)).isoformat(), "reason": "returned_home"}, headers=WORKSTATION))]
    await settle(pool, ended)
    assert (await api.get(f"/v1/workers/{workers[2]}")).json()["state"] == "returned"
    early = (await api.get("/v1/alerts", params={"kind": "early_separation"})).json()["items"]
    assert [a["worker_id"] for a in early] == [workers[1]]

    # Three months on: employment service subsidies for exactly the 16 retained placements, and the migrant-work
    # bonus (外出务工奖补, issue 21) for the 4 priority-group workers among them.
    assert await sweep_once(pool, settings, today=start + timedelta(days=98)) == (0, 20)
    await settle(pool, [])
    subsidies = (await api.get("/v1/subsidies", params={"limit": 500})).json()["items"]
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for s in subsidies:
        by_kind.setdefault(s["kind"], []).append(s)
    retained = set(workers[:18]) - {workers[1], workers[2]}
    assert {s["worker_id"] for s in by_kind["employment_service"]} == retained
    assert all(s["organization_id"] == "ws-469005-01" and Decimal(s["amount"]) == Decimal("400.00")
               and s["rule_version"] == "2026.2-hainan" for s in by_kind["employment_service"])
    assert {s["worker_id"] for s in by_kind["migrant_bonus"]} == retained & set(workers[:6])
    assert {s["worker_id"] for s in by_kind["transport"]} == set(workers[:6])
    assert {s["worker_id"] for s in by_kind["social_insurance"]} == set(workers[:6])
    assert await sweep_once(pool, settings, today=start + timedelta(days=200)) == (0, 0)  # nothing twice
    mine = (await api.get("/v1/subsidies", params={"worker_id": workers[0]})).json()["items"]
    assert sorted(s["kind"] for s in mine) == ["employment_service", "migrant_bonus", "social_insurance", "transport"]

    # Derived events reached Kafka through the outbox.
    consumer = AIOKafkaConsumer(settings.topic("laowu.alerts.v1"), settings.topic("laowu.subsidies.v1"),
                                bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        seen: list[Any] = []
        for _ in range(20):
            seen += [m for b in (await consumer.getmany(timeout_ms=300)).values() for m in b]
    finally:
        await consumer.stop()
    alerts_total = await pool.fetchval("SELECT count(*) FROM alerts")
    closed_total = await pool.fetchval("SELECT count(*) FROM alerts WHERE closed_at IS NOT NULL")
    subsidies_total = await pool.fetchval("SELECT count(*) FROM subsidies")
    # issue 20: the wage-arrears alert nobody acknowledged in 3 days escalated (alert.escalated, on the alerts topic)
    escalated_total = await pool.fetchval("SELECT count(*) FROM alert_cases WHERE escalated_to IS NOT NULL")
    assert escalated_total == 1
    assert len(seen) == alerts_total + closed_total + subsidies_total + escalated_total


async def test_illegal_transitions_are_rejected_and_leave_the_ledger_untouched(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any
) -> None:
    workers, placements = await setup_story(api, pool)
    snapshot = "SELECT worker_id, state, current_placement_id, version FROM workers ORDER BY worker_id"
    placements_sql = "SELECT placement_id, status, version FROM placements ORDER BY placement_id"
    before, before_p = await pool.fetch(snapshot), await pool.fetch(placements_sql)
    w0, p0 = workers[0], placements[workers[0]]

    # Answered at once.
    r = await api.post("/v1/placements/pl-never-dispatched/confirm", json={
        "employer_id": EMPLOYER["employer_id"], "position": "x", "start_date": "2026-01-01", "monthly_wage": "1",
        "contract": False}, headers=EMPLOYER_AUTH)
    assert r.status_code == 404
    other = bearer("employer", "emp-someone-else", "440300")
    r = await api.post(f"/v1/placements/{p0}/confirm", json={
        "employer_id": "emp-someone-else", "position": "x", "start_date": "2026-01-01", "monthly_wage": "1",
        "contract": False}, headers=other)
    assert r.status_code == 404  # another employer's placement does not exist for it
    r = await api.post(f"/v1/placements/{p0}/confirm", json={
        "employer_id": "emp-someone-else", "position": "x", "start_date": "2026-01-01", "monthly_wage": "1",
        "contract": False}, headers=EMPLOYER_AUTH)
    assert r.status_code == 403 and "employer_id must be your own organization" in r.text
    r = await api.post("/v1/dispatches", json={
        "organizer_id": "ws-469005-01", "brand_id": "qiongzhu", "mode": "direct_intake", "origin_region": "469005",
        "destination_region": "440300", "employer": EMPLOYER, "departure_date": D0.isoformat(), "worker_ids": [w0]},
        headers=WORKSTATION)
    assert r.status_code == 409 and "dispatched" in r.json()["detail"][0]["msg"]

    # Decided by the consumer, seen in the receipt.
    r = await api.post("/v1/events:batch", headers=WORKSTATION, json={"events": [
        {"type": "placement.ended", "payload": {"placement_id": p0, "end_date": D0.isoformat(), "reason": "resigned"}},
        {"type": "followup.recorded", "payload": {"placement_id": p0, "date": D0.isoformat(), "channel": "phone",
                                                   "employment_status": "on_job"}},
        {"type": "dispatch.created", "payload": {
            "dispatch_id": "dsp-second", "organizer_id": "ws-469005-01", "brand_id": "qiongzhu", "mode": "cooperation",
            "origin_region": "469005", "destination_region": "440300", "employer": EMPLOYER,
            "departure_date": D0.isoformat(), "worker_ids": [w0, workers[1]]}},
    ]})
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["accepted"] * 3
    decided = await settle(pool, [x["event_id"] for x in results])
    reasons = [decided[x["event_id"]]["reason"] for x in results]
    assert "only a confirmed placement can end" in reasons[0]
    assert "follow-up service starts once the placement is confirmed" in reasons[1]
    assert decided[results[2]["event_id"]]["status"] == "applied"  # the dispatch exists, each worker refused
    second = (await api.get("/v1/dispatches/dsp-second")).json()
    assert {w["outcome"] for w in second["workers"]} == {"rejected"}
    assert all("one active placement" in w["reason"] for w in second["workers"])
    assert await pool.fetch(snapshot) == before and await pool.fetch(placements_sql) == before_p
