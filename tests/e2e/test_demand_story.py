"""Supply meets demand (issue 19), through the API: a Guangdong employer posts two positions, Hainan workstations
record intentions, the shortlist ranks as stated, dispatches fill the positions and never overfill them, and a
demand expires in event time even when an offline batch arrives late."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from laowu.domain import matching
from laowu.privacy import Privacy
from laowu.settings import Settings

from helpers import bearer, person, wait_receipt

pytestmark = pytest.mark.services

EMP = bearer("employer", "emp-gd-hotel", "440300")
WS = bearer("workstation", "ws-469005-01", "469005")  # 文昌
WS2 = bearer("workstation", "ws-460106-01", "460106")  # 海口龙华
FAR_WS = bearer("workstation", "ws-500101-01", "500101")  # 重庆万州: not published to
BUREAU = bearer("bureau", "hrss-460000", "460000")
BRAND = {"brand_id": "hn-chef", "name": "文昌厨师", "region_code": "460000", "category": "skilled",
         "level": "provincial"}
CHEF, ROOM = "4-03-02-01", "4-03-01-02"
START = (date.today() + timedelta(days=40)).isoformat()


def demand(demand_id: str, closing: str) -> dict[str, Any]:
    return {"demand_id": demand_id, "employer": {"employer_id": "emp-gd-hotel", "name": "深圳湾酒店"},
            "title": "酒店厨师与客房服务员", "closing_date": closing, "origin_regions": ["460000"],
            "contact": {"name": "人事部 李女士", "phone": "13800138000"},
            "positions": [
                {"position_id": "chef", "title": "中式烹调师", "occupation_code": CHEF, "headcount": 2,
                 "wage_min": "6000", "wage_max": "8000", "work_region": "440305", "start_date": START,
                 "certificates": [{"kind": "skill_level", "level": 4}], "age_min": 18, "age_max": 50,
                 "brand_id": "hn-chef"},
                {"position_id": "room", "title": "客房服务员", "occupation_code": ROOM, "headcount": 3,
                 "wage_min": "4500", "wage_max": "5500", "work_region": "440305", "start_date": START,
                 "reserved_posts": 2}]}


async def batch(api: httpx.AsyncClient, events: list[dict[str, Any]], headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await api.post("/v1/events:batch", json={"events": events}, headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


async def applied(api: httpx.AsyncClient, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert all(r["status"] == "accepted" for r in results), results
    return [await wait_receipt(api, str(r["event_id"])) for r in results]


def dispatch(ids: list[str], position: str, demand_id: str = "dmd-gd-1", **more: Any) -> dict[str, Any]:
    return {"organizer_id": "ws-469005-01", "brand_id": "hn-chef", "mode": "directed_interregional",
            "origin_region": "469005", "destination_region": "440305",
            "employer": {"employer_id": "emp-gd-hotel", "name": "深圳湾酒店"}, "departure_date": START,
            "worker_ids": ids, "demand_id": demand_id, "position_id": position} | more


async def test_supply_meets_demand(api: httpx.AsyncClient, settings: Settings, ledger: object) -> None:
    wid = Privacy(settings).worker_id
    assert (await api.post("/v1/brands", json=BRAND)).status_code == 202
    # Six people of 文昌 (469005) and one of 海口 (460106). n picks the birth year: 1960 + n % 40.
    people = {
        "best": person(1025, "469005", brand_ids=["hn-chef"], occupation_code=CHEF),          # 1985, 41
        "nolevel": person(1026, "469005", brand_ids=["hn-chef"], occupation_code=CHEF),       # 1986
        "registered_only": person(1027, "469005", occupation_code=CHEF),                       # 1987
        "chef_too_old": person(1001, "469005", brand_ids=["hn-chef"], occupation_code=CHEF),  # 1961, 65
        "room_a": person(1030, "469005", occupation_code=ROOM),
        "room_b": person(1031, "469005", occupation_code=ROOM),
        "room_prio": person(1032, "469005", occupation_code=ROOM, priority_groups=["rural_low_income"]),
        "room_prio2": person(1033, "469005", occupation_code=ROOM, priority_groups=["disabled"]),
        "haikou": person(1028, "460106", brand_ids=["hn-chef"], occupation_code=CHEF),
    }
    ids = {k: wid(v["id_number"]) for k, v in people.items()}
    regs = [{"type": "worker.registered", "payload": v | {"workstation_id": "ws-469005-01"}}
            for k, v in people.items() if k != "haikou"]
    # 求职意向 stated at registration for one, recorded later for the others.
    regs[0]["payload"]["intention"] = {"occupations": [CHEF], "destinations": ["440000"], "min_monthly_wage": "6500"}
    assert [r["status"] for r in await applied(api, await batch(api, regs, WS))] == ["applied"] * 8
    haikou = people["haikou"] | {"workstation_id": "ws-460106-01",
                                 "intention": {"occupations": [CHEF], "destinations": ["440300"]}}
    assert [r["status"] for r in await applied(api, await batch(api, [
        {"type": "worker.registered", "payload": haikou}], WS2))] == ["applied"]

    def cert(w: str, level: int) -> dict[str, Any]:
        return {"type": "worker.certificate_added",
                "payload": {"worker_id": ids[w], "kind": "skill_level", "name": "中式烹调师", "level": level}}

    def intention(w: str, at: str | None = None, **given: Any) -> dict[str, Any]:
        item: dict[str, Any] = {"type": "worker.intention_recorded", "payload": {"worker_id": ids[w], **given}}
        if at:
            item["occurred_at"] = at
        return item

    now = datetime.now(UTC)
    events = [cert("best", 3), cert("nolevel", 5), cert("chef_too_old", 4),
              intention("nolevel", occupations=[CHEF], destinations=["440300"], min_monthly_wage="7000",
                        available_from=START),
              intention("chef_too_old", occupations=[CHEF], destinations=["440300"], min_monthly_wage="6000"),
              intention("room_a", occupations=[ROOM], destinations=["440000"], min_monthly_wage="4800",
                        not_working_reason="no_suitable_job"),
              # the newest wins whatever the arrival order: the older one, arriving later, is history only
              intention("room_prio", (now - timedelta(hours=1)).isoformat(), occupations=[ROOM],
                        destinations=["440300"], not_working_reason="caring_for_family"),
              intention("room_prio", (now - timedelta(days=3)).isoformat(), occupations=["6-01-01-01"],
                        destinations=["460000"])]
    assert {r["status"] for r in await applied(api, await batch(api, events, WS))} == {"applied"}
    # The single route decides the same command: the clerk records one more; an employer may not.
    one = {"occupations": [ROOM], "destinations": ["440000"], "min_monthly_wage": "5000"}
    assert (await api.post(f"/v1/workers/{ids['room_b']}/intention", json=one, headers=EMP)).status_code == 403
    r = await api.post(f"/v1/workers/{ids['room_b']}/intention", json=one, headers=WS)
    assert r.status_code == 202 and (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    bad = await api.post(f"/v1/workers/{ids['room_b']}/intention", json={"not_working_reason": "bored"}, headers=WS)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "not_working_reason"]
    prio = (await api.get(f"/v1/workers/{ids['room_prio']}", headers=WS)).json()
    assert prio["intention"]["occupations"] == [ROOM] and prio["intention"]["not_working_reason"] == "caring_for_family"
    history = (await api.get(f"/v1/workers/{ids['room_prio']}/history", headers=WS)).json()["items"]
    assert [h["type"] for h in history].count("worker.intention_recorded") == 2

    # The employer posts; a contact phone is stored sealed and shown masked.
    posted = await applied(api, await batch(api, [{"type": "demand.posted", "payload": demand(
        "dmd-gd-1", (date.today() + timedelta(days=30)).isoformat())}], EMP))
    assert posted[0]["status"] == "applied", posted
    seen = (await api.get("/v1/demands/dmd-gd-1", headers=EMP)).json()
    assert seen["status"] == "open" and seen["contact"] == {"name": "人事部 李女士", "phone_masked": "138****8000"}
    assert seen["proposals"] == []
    # Who sees it: the employer, the bureau and workstations of Hainan; not Chongqing's; another employer neither.
    assert (await api.get("/v1/demands/dmd-gd-1", headers=BUREAU)).status_code == 200
    assert (await api.get("/v1/demands/dmd-gd-1", headers=FAR_WS)).status_code == 404
    assert (await api.get("/v1/demands/dmd-gd-1", headers=bearer("employer", "emp-other", "440300"))).status_code == 404
    live = (await api.get("/v1/demands?live=true", headers=WS)).json()["items"]
    assert [d["demand_id"] for d in live] == ["dmd-gd-1"]
    assert "proposals" not in live[0] or live[0]["proposals"] is None
    # An employer may not post for another; a workstation may post only to its own jurisdiction.
    foreign = await batch(api, [{"type": "demand.posted", "payload": demand("dmd-x", START) | {
        "employer": {"employer_id": "emp-else", "name": "别家"}}}], EMP)
    assert foreign[0]["status"] == "rejected" and "your own organization" in foreign[0]["reason"]
    outside = await batch(api, [{"type": "demand.posted", "payload": demand("dmd-y", START) | {
        "origin_regions": ["500101"]}}], WS)
    assert outside[0]["status"] == "rejected" and "outside your jurisdiction" in outside[0]["reason"]
    bad = await batch(api, [{"type": "demand.posted", "payload": demand("dmd-z", START) | {"positions": [
        demand("z", START)["positions"][1] | {"reserved_posts": 4}]}}], EMP)
    assert bad[0]["status"] == "rejected" and "reserved_posts" in bad[0]["reason"]

    # The shortlist, ranked as stated (laowu.domain.matching), with what fits and what misses.
    short = (await api.get("/v1/demands/dmd-gd-1/shortlist?position_id=chef", headers=WS)).json()
    order = [item["worker_id"] for item in short["items"]]
    assert order == [ids["best"], ids["chef_too_old"], ids["nolevel"], ids["registered_only"]], short
    assert ids["haikou"] not in order  # another county's person: not this workstation's to propose
    best, too_old, nolevel, registered = short["items"]
    assert best["score"] == sum(matching.WEIGHTS.values()) and best["misses"] == []
    assert [m["aspect"] for m in nolevel["misses"]] == ["certificate"] and "四级" in nolevel["misses"][0]["text"]
    assert [m["aspect"] for m in too_old["misses"]] == ["age"]
    assert registered["score"] == matching.REGISTERED_OCCUPATION + 10 + 0  # occupation, no brand… age only
    assert {m["aspect"] for m in registered["misses"]} == {"certificate", "wage", "brand", "destination"}
    # the reasons name the brand and the place as people know them, not by id and code
    fits = {r["aspect"]: r["text"] for r in best["fits"]}
    assert fits["brand"] == "属于优先品牌 文昌厨师" and fits["destination"] == "意向地含工作地 广东省深圳市南山区", fits
    assert {r["aspect"]: r["text"] for r in registered["misses"]}["brand"] == "不属于优先品牌 文昌厨师"
    province = (await api.get("/v1/demands/dmd-gd-1/shortlist?position_id=chef", headers=BUREAU)).json()["items"]
    assert [i["worker_id"] for i in province] == [ids["best"], ids["chef_too_old"], ids["nolevel"], ids["haikou"],
                                                  ids["registered_only"]]
    room = (await api.get("/v1/demands/dmd-gd-1/shortlist?position_id=room", headers=WS)).json()
    assert room["reserved_open"] is True
    # priority groups first while reserved posts are open, though room_a's intention scores higher than room_prio2
    listed = [i["worker_id"] for i in room["items"]]
    assert listed[:2] == [ids["room_prio"], ids["room_prio2"]] and set(listed[2:]) == {ids["room_a"], ids["room_b"]}
    assert room["items"][2]["score"] > room["items"][1]["score"]
    # For a person: the open demands that fit them.
    mine = (await api.get(f"/v1/workers/{ids['room_a']}/demands", headers=WS)).json()["items"]
    assert [(m["demand_id"], m["position"]["position_id"]) for m in mine] == [("dmd-gd-1", "room")]

    # A dispatch fills part, a second the rest, a third is refused for overfilling — by the ledger when two
    # arrive together, at once by the API when the ledger already holds the fills.
    r = await api.post("/v1/dispatches", json=dispatch([ids["best"]], "chef", dispatch_id="d-1"), headers=WS)
    assert r.status_code == 202, r.text
    assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    assert (await api.get("/v1/demands/dmd-gd-1", headers=EMP)).json()["status"] == "partly_filled"
    two = await batch(api, [{"type": "dispatch.created", "payload": dispatch([ids["nolevel"]], "chef", dispatch_id="d-2")},
                            {"type": "dispatch.created", "payload": dispatch([ids["chef_too_old"]], "chef",
                                                                              dispatch_id="d-3")}], WS)
    # Two partitions: either may be decided first; the ledger lets exactly one of them fill the last post.
    d2, d3 = await applied(api, two)
    assert sorted([d2["status"], d3["status"]]) == ["applied", "rejected"], (d2, d3)
    refused_one = d3 if d3["status"] == "rejected" else d2
    assert "has 0 of 2 posts left" in refused_one["reason"] and "never overfilled" in refused_one["reason"]
    second = ids["nolevel"] if d2["status"] == "applied" else ids["chef_too_old"]
    again = await api.post("/v1/dispatches", json=dispatch([ids["registered_only"]], "chef"), headers=WS)
    assert again.status_code == 409 and "never overfilled" in again.text
    # Reserved posts (爱心岗位): two of three kept for priority groups, so two others are one too many.
    others = await api.post("/v1/dispatches", json=dispatch([ids["room_a"], ids["room_b"]], "room"), headers=WS)
    assert others.status_code == 202  # the API cannot know priority groups here: the ledger decides
    refused = await wait_receipt(api, others.json()["event_id"])
    assert refused["status"] == "rejected" and "爱心岗位" in refused["reason"], refused
    fill_room = await api.post("/v1/dispatches", json=dispatch([ids["room_prio"], ids["room_prio2"], ids["room_a"]],
                                                               "room", dispatch_id="d-room"), headers=WS)
    assert (await wait_receipt(api, fill_room.json()["event_id"]))["status"] == "applied"

    # The employer sees who was proposed, confirms one arrival: it is seen as arrived.
    full = (await api.get("/v1/demands/dmd-gd-1", headers=EMP)).json()
    assert full["status"] == "filled"
    assert {p["position_id"]: p["filled"] for p in full["positions"]} == {"chef": 2, "room": 3}
    proposed = {p["worker_id"]: p for p in full["proposals"]}
    assert set(proposed) == {ids[k] for k in ("best", "room_prio", "room_prio2", "room_a")} | {second}
    assert all(p["status"] == "dispatched" and p["id_number_masked"].endswith("*" * 12) for p in proposed.values())
    pl = proposed[ids["best"]]["placement_id"]
    confirm = {"employer_id": "emp-gd-hotel", "position": "中式烹调师", "start_date": START, "monthly_wage": "7500",
               "contract": True}
    r = await api.post(f"/v1/placements/{pl}/confirm", json=confirm, headers=EMP)
    assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    after = {p["worker_id"]: p["status"] for p in (await api.get("/v1/demands/dmd-gd-1", headers=EMP)).json()["proposals"]}
    assert after[ids["best"]] == "confirmed"
    # 未到岗: the employer turns one away; the post is open again (the demand is partly filled once more).
    away = proposed[ids["room_a"]]["placement_id"]
    r = await api.post(f"/v1/placements/{away}/reject", json={"employer_id": "emp-gd-hotel", "reason": "未到岗"},
                       headers=EMP)
    assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    reopened = (await api.get("/v1/demands/dmd-gd-1", headers=EMP)).json()
    assert reopened["status"] == "partly_filled"
    assert {p["position_id"]: p["posts_left"] for p in reopened["positions"]} == {"chef": 0, "room": 1}
    assert (await api.get(f"/v1/placements/{away}", headers=EMP)).json()["demand_id"] == "dmd-gd-1"
    # The workstation (not the demand's manager) sees the fills, not the people.
    assert (await api.get("/v1/demands/dmd-gd-1", headers=WS)).json()["proposals"] is None
    # The employer closes it; closing twice is refused.
    close = {"employer_id": "emp-gd-hotel", "reason": "已招满"}
    assert (await api.post("/v1/demands/dmd-gd-1/close", json=close, headers=WS)).status_code == 403  # not its poster
    r = await api.post("/v1/demands/dmd-gd-1/close", json=close, headers=EMP)
    assert r.status_code == 202 and r.json()["demand_id"] == "dmd-gd-1"
    assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    twice = await batch(api, [{"type": "demand.closed", "payload": close | {"demand_id": "dmd-gd-1"}}], EMP)
    assert twice[0]["status"] == "rejected" and "already closed" in twice[0]["reason"]
    assert (await api.get("/v1/demands/dmd-gd-1", headers=EMP)).json()["status"] == "closed"


async def test_a_demand_expires_in_event_time(api: httpx.AsyncClient, settings: Settings, ledger: object) -> None:
    """Closing date ten days ago. A dispatch dated after it is refused although it arrives first; the offline batch
    of a dispatch made on the last day, arriving now, after the expiry, is accepted."""
    wid = Privacy(settings).worker_id
    closing = date.today() - timedelta(days=10)
    late, offline = person(1040, "469005", occupation_code=ROOM), person(1041, "469005", occupation_code=ROOM)
    regs = [{"type": "worker.registered", "payload": p | {"workstation_id": "ws-469005-01"}} for p in (late, offline)]
    assert {r["status"] for r in await applied(api, await batch(api, regs, WS))} == {"applied"}
    assert (await api.post("/v1/brands", json=BRAND | {"brand_id": "hn-room"})).status_code == 202
    r = await api.post("/v1/demands", headers=EMP, json=demand("dmd-old", closing.isoformat()) | {
        "occurred_at": f"{closing - timedelta(days=20)}T09:00:00+08:00"})
    assert r.status_code == 202 and r.json()["demand_id"] == "dmd-old", r.text
    assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    assert (await api.get("/v1/demands/dmd-old", headers=EMP)).json()["status"] == "expired"
    assert "dmd-old" not in [d["demand_id"] for d in (await api.get("/v1/demands?live=true", headers=WS)).json()["items"]]

    def item(p: dict[str, Any], at: str, did: str) -> dict[str, Any]:
        body = dispatch([wid(p["id_number"])], "room", demand_id="dmd-old", dispatch_id=did, brand_id="hn-room")
        return {"type": "dispatch.created", "occurred_at": at, "payload": body}

    # Arrives first, dated two days after the closing date (Beijing time): refused, with the reason.
    first = await batch(api, [item(late, f"{closing + timedelta(days=2)}T10:00:00+08:00", "d-late")], WS)
    assert first[0]["status"] == "rejected" and "expired on its closing date" in first[0]["reason"], first
    # The offline batch, dispatched at 23:30 Beijing time on the closing date (15:30 UTC), synced now.
    synced = await batch(api, [item(offline, f"{closing}T15:30:00+00:00", "d-offline")], WS)
    assert (await applied(api, synced))[0]["status"] == "applied"
    old = (await api.get("/v1/demands/dmd-old", headers=EMP)).json()
    assert {p["position_id"]: p["filled"] for p in old["positions"]} == {"chef": 0, "room": 1}
    assert [p["worker_id"] for p in old["proposals"]] == [wid(offline["id_number"])]
