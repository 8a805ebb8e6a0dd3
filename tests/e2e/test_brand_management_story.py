"""Brand dynamic management end to end (issue 21): a brand's criteria equal a recount from the ledger's rows; a
review by three experts decides its entry; the yearly re-check proposes a suspension once its retention fell, and
the bureau's decision is in the brand's history."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest

from laowu.domain.statistics import BEIJING, add_months
from laowu.privacy import Privacy
from laowu.settings import Settings

from helpers import bearer, person, wait_receipt

pytestmark = pytest.mark.services

BRAND = "e21-chef"
BUREAU = bearer("bureau", "hrss-460000", "460000")
OTHER_BUREAU = bearer("bureau", "cq-500000", "500000")
WS = bearer("workstation", "ws-469005-01", "469005")
EMPLOYER_ID = "emp-e21"
EMPLOYER = bearer("employer", EMPLOYER_ID, "440300")
EXPERTS = ["expert-1", "expert-2", "expert-3"]


def expert(name: str) -> dict[str, str]:
    return bearer("reviewer", name, "460000")


async def applied(api: httpx.AsyncClient, r: httpx.Response) -> dict[str, Any]:
    """A write accepted (202) and then applied by the ledger (the admin client reads every receipt)."""
    assert r.status_code == 202, r.text
    receipt = await wait_receipt(api, r.json()["event_id"])
    assert receipt["status"] == "applied", receipt
    return dict(r.json())


async def recount(pool: asyncpg.Pool, brand_id: str, today: date) -> dict[str, Any]:
    """The figures again, in Python, from the ledger's rows — not the store's query."""
    workers = await pool.fetch("SELECT worker_id, trainings, certificates FROM workers WHERE $1 = ANY(brand_ids)",
                               brand_id)
    placements = await pool.fetch("SELECT * FROM placements WHERE brand_id = $1", brand_id)
    ids = [p["placement_id"] for p in placements]
    alerts = await pool.fetch("SELECT kind FROM alerts WHERE placement_id = ANY($1::text[])", ids)
    answers = [r["satisfaction"] for r in await pool.fetch(
        "SELECT satisfaction FROM followups WHERE placement_id = ANY($1::text[])", ids) if r["satisfaction"] is not None]
    placed = [p for p in placements if p["status"] in ("confirmed", "ended") and p["start_date"] is not None]
    out: dict[str, Any] = {
        "members": len(workers), "trained": sum(1 for w in workers if w["trainings"]),
        "certified": sum(1 for w in workers if w["certificates"]), "placed": len({p["worker_id"] for p in placed}),
        "wage_sum": str(sum((p["monthly_wage"] for p in placed if p["monthly_wage"] is not None), Decimal(0))),
        "wage_count": sum(1 for p in placed if p["monthly_wage"] is not None),
        "wage_arrears_alerts": sum(1 for a in alerts if a["kind"] == "wage_arrears"),
        "injury_alerts": sum(1 for a in alerts if a["kind"] == "injury"),
        "satisfaction_sum": sum(answers), "satisfaction_count": len(answers),
    }
    for n in (3, 6):
        due = [p for p in placed if add_months(p["start_date"], n) <= today]
        out[f"retention_{n}m_due"] = len(due)
        out[f"retention_{n}m_kept"] = sum(1 for p in due if p["end_date"] is None
                                          or p["end_date"] >= add_months(p["start_date"], n))
    return out


def same(figures: dict[str, Any], counted: dict[str, Any]) -> bool:
    return {k: (Decimal(v) if k == "wage_sum" else v) for k, v in figures.items()} == \
        {k: (Decimal(v) if k == "wage_sum" else v) for k, v in counted.items()}


async def test_brand_entry_review_and_yearly_recheck(api: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings,
                                                     ledger: object) -> None:
    today = datetime.now(BEIJING).date()
    start = today - timedelta(days=250)  # 3 and 6 months have passed
    await applied(api, await api.post("/v1/brands", json={"brand_id": BRAND, "name": "文昌鸡师傅(测试)",
                                                           "region_code": "469005", "category": "service",
                                                           "level": "county"}, headers=BUREAU))
    privacy = Privacy(settings)
    bodies = [person(2100 + i, region="469005") | {"brand_ids": [BRAND]} for i in range(6)]
    wids = [privacy.worker_id(b["id_number"]) for b in bodies]
    r = await api.post("/v1/events:batch", json={"events": [{"type": "worker.registered", "payload": b}
                                                            for b in bodies]}, headers=WS)
    for item in r.json()["results"]:
        assert (await wait_receipt(api, item["event_id"]))["status"] == "applied"
    for w in wids[:4]:
        await applied(api, await api.post(f"/v1/workers/{w}/trainings", json={
            "name": "文昌鸡烹饪培训", "hours": 40, "completed_on": (start - timedelta(days=30)).isoformat()}, headers=WS))
    for w in wids[:3]:
        await applied(api, await api.post(f"/v1/workers/{w}/certificates", json={
            "kind": "skill_level", "name": "中式烹调师", "level": 4}, headers=WS))
    d = await applied(api, await api.post("/v1/dispatches", json={
        "organizer_id": "ws-469005-01", "brand_id": BRAND, "mode": "directed_interregional",
        "origin_region": "469005", "destination_region": "440300",
        "employer": {"employer_id": EMPLOYER_ID, "name": "深圳某酒楼"}, "departure_date": (start - timedelta(days=2)).isoformat(),
        "worker_ids": wids[:5]}, headers=WS))
    placements = [p["placement_id"] for p in d["placements"]]
    for i, pid in enumerate(placements[:4]):
        await applied(api, await api.post(f"/v1/placements/{pid}/confirm", json={
            "employer_id": EMPLOYER_ID, "position": "厨师", "start_date": start.isoformat(),
            "monthly_wage": f"{5000 + 500 * i}.50", "contract": True, "contract_months": 12}, headers=EMPLOYER))
    await applied(api, await api.post(f"/v1/placements/{placements[4]}/reject", json={
        "employer_id": EMPLOYER_ID, "reason": "未到岗"}, headers=EMPLOYER))
    await applied(api, await api.post(f"/v1/placements/{placements[3]}/end", json={
        "end_date": (start + timedelta(days=30)).isoformat(), "reason": "resigned", "employer_id": EMPLOYER_ID},
        headers=EMPLOYER))
    for i, (pid, problems) in enumerate(((placements[0], ["wage_arrears"]), (placements[1], []))):
        await applied(api, await api.post("/v1/followups", json={
            "placement_id": pid, "date": (start + timedelta(days=20)).isoformat(), "channel": "visit",
            "employment_status": "on_job", "satisfaction": 4 + i, "problems": problems}, headers=WS))

    # 1. The criteria's figures equal a recount from the ledger's rows.
    got = (await api.get(f"/v1/brands/{BRAND}/criteria", headers=BUREAU)).json()
    counted = await recount(pool, BRAND, today)
    assert same(got["evaluation"]["figures"], counted), (got["evaluation"]["figures"], counted)
    assert counted["members"] == 6 and counted["placed"] == 4 and counted["retention_3m_kept"] == 3
    assert counted["wage_arrears_alerts"] == 1 and counted["satisfaction_count"] == 2
    assert got["evaluation"]["region_rule"] == "460000" and got["evaluation"]["met"], got["evaluation"]

    # 2. An entry application carries the evaluated criteria; three experts score; the rule decides entry.
    submitted = await applied(api, await api.post(f"/v1/brands/{BRAND}/applications", json={
        "application_id": "app-e21", "kind": "entry", "note": "申请入库"}, headers=BUREAU))
    assert submitted["application_id"] == "app-e21"
    assert (await api.post(f"/v1/brands/{BRAND}/applications", json={"kind": "entry"},
                           headers=OTHER_BUREAU)).status_code == 404  # not its jurisdiction
    await applied(api, await api.post(f"/v1/brands/{BRAND}/reviewers", json={
        "application_id": "app-e21", "reviewers": EXPERTS}, headers=BUREAU))
    mine = (await api.get("/v1/reviews", params={"status": "open"}, headers=expert("expert-2"))).json()["items"]
    assert [(m["brand_id"], m["application"]["application_id"]) for m in mine] == [(BRAND, "app-e21")]
    assert mine[0]["application"]["evaluation"]["figures"] == got["evaluation"]["figures"]

    def scores(*points: int) -> list[dict[str, Any]]:
        return [{"item": i, "score": n} for i, n in zip(("scale", "skills", "quality", "reputation"), points,
                                                          strict=True)]

    for name, pts in (("expert-1", (20, 20, 18, 22)), ("expert-2", (18, 19, 20, 20))):
        await applied(api, await api.post(f"/v1/brands/{BRAND}/scores", json={
            "application_id": "app-e21", "scores": scores(*pts), "comment": "符合入库标准"}, headers=expert(name)))
    stranger = await api.post(f"/v1/brands/{BRAND}/scores", json={"application_id": "app-e21",
                                                                  "scores": scores(25, 25, 25, 25)},
                              headers=expert("expert-9"))
    assert stranger.status_code == 409 and "expert-9 is not a reviewer" in stranger.text
    assert "不是该申请的评审专家" in stranger.text  # msg_zh, for the console
    batch = (await api.post("/v1/events:batch", json={"events": [{"type": "brand.review_scored", "payload": {
        "brand_id": BRAND, "application_id": "app-e21", "scores": scores(25, 25, 25, 25)}}]},
        headers=expert("expert-9"))).json()["results"][0]
    assert batch["status"] == "rejected" and "expert-9 is not a reviewer" in batch["reason"]  # the same verdict
    assert (await api.post(f"/v1/brands/{BRAND}/scores", json={"application_id": "app-e21", "scores": scores(1, 1, 1, 1)},
                           headers=BUREAU)).status_code == 403  # only an expert scores
    early = await api.post(f"/v1/brands/{BRAND}/decisions", json={"application_id": "app-e21"}, headers=BUREAU)
    assert early.status_code == 409 and "2 of the 3 reviews" in early.text
    await applied(api, await api.post(f"/v1/brands/{BRAND}/scores", json={
        "application_id": "app-e21", "scores": scores(15, 16, 17, 18)}, headers=expert("expert-3")))
    await applied(api, await api.post(f"/v1/brands/{BRAND}/decisions", json={"application_id": "app-e21",
                                                                              "reason": "评审会议"}, headers=BUREAU))
    brand = (await api.get(f"/v1/brands/{BRAND}")).json()
    assert brand["status"] == "listed"
    history = (await api.get(f"/v1/brands/{BRAND}/history")).json()["items"]
    decided = [h for h in history if h["type"] == "brand.application_decided"]
    assert decided and decided[0]["changes"]["status"] == ["candidate", "listed"]
    assert decided[0]["changes"]["mean_score"] == [None, "74.33"]  # (80 + 77 + 66) / 3 ≥ 70 with 3 reviews
    assert [h["type"] for h in history].count("brand.review_scored") == 3

    # 3. Retention falls: two more leave within the first month. The re-check proposes a suspension.
    for pid in placements[1:3]:
        await applied(api, await api.post(f"/v1/placements/{pid}/end", json={
            "end_date": (start + timedelta(days=25)).isoformat(), "reason": "returned_home", "employer_id": EMPLOYER_ID},
            headers=EMPLOYER))
    proposal = (await api.get(f"/v1/brands/{BRAND}/recheck", params={"year": today.year}, headers=BUREAU)).json()
    assert proposal["proposal"] == "suspend", proposal
    assert any("3个月稳岗率 0.2500" in r for r in proposal["reasons"]), proposal["reasons"]
    assert same(proposal["evaluation"]["figures"], await recount(pool, BRAND, today))
    assert proposal["decided"] is None
    await applied(api, await api.post(f"/v1/brands/{BRAND}/rechecks", json={
        "year": today.year, "decision": "suspend", "reason": "稳岗率大幅下降，暂停整改"}, headers=BUREAU))
    assert (await api.get(f"/v1/brands/{BRAND}")).json()["status"] == "suspended"
    history = (await api.get(f"/v1/brands/{BRAND}/history")).json()["items"]
    recheck = [h for h in history if h["type"] == "brand.recheck_decided"]
    assert recheck[0]["changes"]["status"] == ["listed", "suspended"]
    assert recheck[0]["changes"]["proposal"] == [None, "suspend"] and "稳岗率大幅下降" in recheck[0]["changes"]["reason"][1]
    again = await api.post(f"/v1/brands/{BRAND}/rechecks", json={"year": today.year, "decision": "keep",
                                                                 "reason": "再议"}, headers=BUREAU)
    assert again.status_code == 409 and "already decided" in again.text
    assert (await api.get(f"/v1/brands/{BRAND}/recheck", params={"year": today.year},
                          headers=BUREAU)).json()["decided"]["decision"] == "suspend"


async def test_integrity_and_typical_persons(api: httpx.AsyncClient, settings: Settings, ledger: object) -> None:
    await applied(api, await api.post("/v1/brands", json={"brand_id": "e21-yesao", "name": "椰嫂(测试)",
                                                           "region_code": "460000", "category": "service",
                                                           "level": "provincial"}, headers=BUREAU))
    body = person(2200, region="469005") | {"brand_ids": ["e21-yesao"]}
    wid = Privacy(settings).worker_id(body["id_number"])
    await applied(api, await api.post("/v1/workers", json=body, headers=WS))
    for cid, kind, real in (("c1", "complaint", True), ("c2", "complaint", False), ("c3", "dispute", True)):
        await applied(api, await api.post("/v1/brands/e21-yesao/complaints", json={
            "complaint_id": cid, "kind": kind, "summary": "服务投诉", "substantiated": real}, headers=BUREAU))
    rating = (await api.get("/v1/brands/e21-yesao/integrity", headers=expert("expert-1"))).json()
    assert rating["inputs"] == {"complaints": 1, "disputes": 1, "wage_arrears_alerts": 0, "injury_alerts": 0}
    assert (rating["score"], rating["grade"]) == (75, "B")
    await applied(api, await api.post("/v1/brands/e21-yesao/persons", json={
        "person_id": "p-founder", "title": "founder", "name": "符阿姨", "phone": "13800138000"}, headers=BUREAU))
    await applied(api, await api.post("/v1/brands/e21-yesao/persons", json={
        "person_id": "p-face", "title": "ambassador", "worker_id": wid}, headers=BUREAU))
    both = await api.post("/v1/brands/e21-yesao/persons", json={"title": "leader", "worker_id": wid, "name": "x"},
                          headers=BUREAU)
    assert both.status_code == 422
    shown = (await api.get("/v1/brands/e21-yesao/management", headers=WS)).json()
    persons = {p["person_id"]: p for p in shown["persons"]}
    assert persons["p-founder"]["phone_masked"] == "138****8000" and "13800138000" not in str(shown)
    assert persons["p-face"]["name"] == body["name"] and persons["p-face"]["id_number_masked"].endswith("*" * 12)
    assert "phone_enc" not in str(shown)
    # A worker is shown only to whoever sees that worker: not to an employer who never employed them, nor an expert.
    for stranger in (bearer("employer", "emp-other", "440300"), expert("expert-1")):
        seen = {p["person_id"]: p for p in (await api.get("/v1/brands/e21-yesao/management", headers=stranger)).json()[
            "persons"]}
        assert (seen["p-face"]["worker_id"] is None and "name" not in seen["p-face"]) or seen["p-face"]["name"] is None
        assert body["name"] not in str(seen) and seen["p-founder"]["name"] == "符阿姨"
