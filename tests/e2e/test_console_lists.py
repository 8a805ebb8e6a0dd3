"""The lists the console needed and the API gained (issue 18): ``GET /v1/events`` (a sender's receipts, newest first,
``status=rejected`` for what needs correcting) and ``GET /v1/placements`` (an employer's arrivals and employees, a
workstation's dispatched people), each scoped like the records they list, paged by cursor."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from helpers import bearer, person, wait_decided, wait_receipt

pytestmark = pytest.mark.services

WS = bearer("workstation", "ws-469005-01", "469005")
OTHER_WS = bearer("workstation", "ws-460105-01", "460105")
HOTEL = bearer("employer", "emp-sz-hotel", "440300")
OTHER_EMPLOYER = bearer("employer", "emp-gz-build", "440100")
BRAND = {"brand_id": "lists-brand", "name": "文昌鸡师傅", "region_code": "469005", "category": "service", "level": "municipal"}


async def pages(api: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """Every item of a cursor-paged list, following ``next_cursor``."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        r = await api.get(path, params=params | ({"cursor": cursor} if cursor else {}), headers=headers)
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("paging did not end")


async def setup(api: httpx.AsyncClient, pool: asyncpg.Pool) -> tuple[list[str], dict[str, str], str]:
    assert (await wait_receipt(api, (await api.post("/v1/brands", json=BRAND)).json()["event_id"]))["status"] == "applied"
    bodies = [person(700 + n, region="469005", workstation="ws-469005-01") for n in range(5)]
    r = await api.post("/v1/events:batch", headers=WS,
                       json={"events": [{"type": "worker.registered", "payload": b} for b in bodies]})
    results = r.json()["results"]
    await wait_decided(pool, [x["event_id"] for x in results])
    workers = [x["worker_id"] for x in results]
    r = await api.post("/v1/dispatches", headers=WS, json={
        "organizer_id": "ws-469005-01", "brand_id": BRAND["brand_id"], "mode": "directed_interregional",
        "origin_region": "469005", "destination_region": "440300",
        "employer": {"employer_id": "emp-sz-hotel", "name": "深圳某酒店"},
        "departure_date": (date.today() - timedelta(days=2)).isoformat(), "worker_ids": workers[:4]})
    assert r.status_code == 202, r.text
    dispatch_event = r.json()["event_id"]
    await wait_decided(pool, [dispatch_event])
    return workers, {p["worker_id"]: p["placement_id"] for p in r.json()["placements"]}, dispatch_event


async def test_placements_list_is_scoped_filtered_paged_and_masked(api: httpx.AsyncClient, pool: asyncpg.Pool,
                                                                   ledger: Any) -> None:
    workers, placements, _ = await setup(api, pool)
    confirm = {"employer_id": "emp-sz-hotel", "position": "厨师", "start_date": date.today().isoformat(),
               "monthly_wage": "5200.00", "contract": True}
    first = placements[workers[0]]
    r = await api.post(f"/v1/placements/{first}/confirm", json=confirm, headers=HOTEL)
    await wait_decided(pool, [r.json()["event_id"]])

    waiting = await pages(api, "/v1/placements", HOTEL, status="dispatched", limit=1)  # a page per placement
    assert sorted(p["placement_id"] for p in waiting) == sorted(v for k, v in placements.items() if k != workers[0])
    employed = await pages(api, "/v1/placements", HOTEL, status="confirmed")
    assert [p["placement_id"] for p in employed] == [first] and employed[0]["position"] == "厨师"
    item = employed[0]
    assert item["worker"]["name"] == "测试700" and item["worker"]["worker_id"] == workers[0]
    assert item["worker"]["id_number_masked"] == "469005************", "the list must be masked like every view"
    assert set(item["worker"]) == {"worker_id", "name", "sex", "id_number_masked"}

    assert await pages(api, "/v1/placements", OTHER_EMPLOYER) == []  # another employer sees none of them
    assert await pages(api, "/v1/placements", OTHER_WS) == []  # nor a workstation of another county
    assert len(await pages(api, "/v1/placements", WS)) == 4  # the organizer sees its dispatch's
    assert len(await pages(api, "/v1/placements", WS, worker_id=workers[1])) == 1
    r = await api.get("/v1/placements", params={"status": "lost"}, headers=HOTEL)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "status"]
    r = await api.get("/v1/placements", params={"cursor": "%%%"}, headers=HOTEL)
    assert r.status_code == 422


async def test_receipts_list_is_the_senders_own_rejected_first_on_request(api: httpx.AsyncClient, pool: asyncpg.Pool,
                                                                          ledger: Any) -> None:
    workers, placements, dispatch_event = await setup(api, pool)
    # A follow-up of someone who never started work: accepted at the door, rejected by the ledger with the reason
    # (what the console's 办理回执 shows first).
    r = await api.post("/v1/followups", headers=WS, json={
        "placement_id": placements[workers[2]], "date": date.today().isoformat(), "channel": "phone",
        "employment_status": "on_job"})
    assert r.status_code == 202, r.text
    second = r.json()["event_id"]
    assert (await wait_decided(pool, [second]))[second]["status"] == "rejected"

    mine = await pages(api, "/v1/events", WS, limit=2)
    assert len({x["event_id"] for x in mine}) == len(mine), "a receipt listed twice across pages"
    assert [x["accepted_at"] for x in mine] == sorted((x["accepted_at"] for x in mine), reverse=True)
    assert {x["type"] for x in mine} >= {"worker.registered", "dispatch.created"}
    registered = [x for x in mine if x["type"] == "worker.registered"]
    assert len(registered) == 5 and {x["entity_id"] for x in registered} == set(workers)
    assert any(x["event_id"] == dispatch_event and x["status"] == "applied" for x in mine)
    rejected = await pages(api, "/v1/events", WS, status="rejected")
    assert [x["event_id"] for x in rejected] == [second] and rejected[0]["reason"], rejected
    assert rejected[0]["type"] == "followup.recorded" and rejected[0]["decided_at"]
    assert await pages(api, "/v1/events", OTHER_WS) == [], "another workstation sees nothing of ours"
    assert await pages(api, "/v1/events", HOTEL) == []

    # The employer's own: a placement turned away (applied), then ended although it never started (rejected).
    r = await api.post(f"/v1/placements/{placements[workers[1]]}/reject", headers=HOTEL,
                       json={"employer_id": "emp-sz-hotel", "reason": "未到岗"})
    turned_away = r.json()["event_id"]
    r = await api.post(f"/v1/placements/{placements[workers[1]]}/end", headers=HOTEL,
                       json={"employer_id": "emp-sz-hotel", "end_date": date.today().isoformat(), "reason": "resigned"})
    assert r.status_code == 202, r.text
    ended = r.json()["event_id"]
    decided = await wait_decided(pool, [turned_away, ended])
    assert decided[turned_away]["status"] == "applied" and decided[ended]["status"] == "rejected"
    hotel_all = await pages(api, "/v1/events", HOTEL)
    assert [x["event_id"] for x in hotel_all] == [ended, turned_away]
    hotel_rejected = await pages(api, "/v1/events", HOTEL, status="rejected")
    assert [(x["event_id"], x["reason"]) for x in hotel_rejected] == [(ended, decided[ended]["reason"])]
    assert {x["type"] for x in await pages(api, "/v1/events", HOTEL, type="placement.rejected")} == {"placement.rejected"}
    everyone = await pages(api, "/v1/events", {}, limit=500)  # the admin: every sender's
    assert {x["event_id"] for x in mine} <= {x["event_id"] for x in everyone}
