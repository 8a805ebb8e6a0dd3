"""Issue 19's story between Hainan and Shenzhen: the receiving region (输入地), a cooperation agreement (劳务协作) and
the flows (劳务流向), through the real API, Kafka, PostgreSQL, the ledger consumer and the faust worker.

Hainan sends people to Shenzhen (some under the 琼深 agreement), to Guangzhou and inside Haikou. The Shenzhen
bureau sees exactly the people sent into Shenzhen, masked, and no longer once a placement ended; a workstation
posted to Shenzhen (驻外工作站) sees them too; the agreement's progress, seen by both sides, and the flow figures equal
a recount.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook

from laowu.settings import Settings
from laowu.store import flows as flow_store

from helpers import bearer, person, wait_decided
from workload import converge, streams_worker

pytestmark = pytest.mark.services

BRAND = "wenchang-chef"
AGREEMENT = "hn-sz-2026"
EMPLOYER = {"employer_id": "emp-sz-hotel", "name": "深圳某酒店"}


def _as(settings: Settings, role: str, org: str, region: str | None) -> dict[str, str]:
    return bearer(role, org, region, settings)


async def _applied(pool: asyncpg.Pool, *responses: httpx.Response) -> None:
    for r in responses:
        assert r.status_code == 202, r.text
    done = await wait_decided(pool, [r.json()["event_id"] for r in responses])
    assert {d["status"] for d in done.values()} == {"applied"}, done


async def _dispatch(api: httpx.AsyncClient, settings: Settings, county: str, destination: str, workers: list[str],
                    departure: str, agreement: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {
        "organizer_id": f"ws-{county}-01", "brand_id": BRAND, "mode": "cooperation", "origin_region": county,
        "destination_region": destination, "employer": EMPLOYER, "departure_date": departure, "worker_ids": workers}
    if agreement:
        body["agreement_id"] = agreement
    return await api.post("/v1/dispatches", json=body, headers=_as(settings, "workstation", f"ws-{county}-01", county))


async def test_hainan_to_shenzhen_receiving_view_agreement_progress_and_flows(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings, tmp_path: Path
) -> None:
    hainan = _as(settings, "bureau", "bureau-460000", "460000")
    shenzhen = _as(settings, "bureau", "bureau-440300", "440300")
    with streams_worker(settings, tmp_path / "streams.log") as worker:
        await _applied(pool, await api.post("/v1/brands", json={
            "brand_id": BRAND, "name": "文昌鸡师傅", "region_code": "469005", "category": "service", "level": "municipal"}))
        people = {n: person(n, region=county) for n, county in
                  ((1901, "469005"), (1902, "469005"), (1903, "469005"), (1904, "460106"), (1905, "460106"))}
        regs = [await api.post("/v1/workers", json=b | {"brand_ids": [BRAND]},
                               headers=_as(settings, "workstation", b["workstation_id"], b["household_region"]))
                for b in people.values()]
        await _applied(pool, *regs)
        w = {n: r.json()["worker_id"] for n, r in zip(people, regs, strict=True)}

        # ---- the agreement: signed by one side's bureau, naming itself; the other side cannot sign for it
        signing = {"agreement_id": AGREEMENT, "name": "琼深劳务协作2026", "origin_region": "460000",
                   "destination_region": "440300", "origin_bureau_id": "bureau-460000",
                   "destination_bureau_id": "bureau-440300", "start_date": "2026-01-01", "end_date": "2026-12-31",
                   "target_headcount": 4, "brand_ids": [BRAND]}
        forged = await api.post("/v1/agreements", json=signing | {"destination_bureau_id": "bureau-440000"},
                                headers=shenzhen)
        assert forged.status_code == 403, forged.text
        bad = await api.post("/v1/agreements", json=signing | {"end_date": "2025-12-31"}, headers=hainan)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "end_date"]
        await _applied(pool, await api.post("/v1/agreements", json=signing, headers=hainan))
        # the other door: the same rules through /v1/events:batch (the Shenzhen bureau raises the target)
        batch = await api.post("/v1/events:batch", headers=shenzhen, json={"events": [
            {"type": "agreement.updated", "payload": {"agreement_id": AGREEMENT, "target_headcount": 5}},
            {"type": "agreement.updated", "payload": {"agreement_id": "no-such", "target_headcount": 5}}]})
        results = batch.json()["results"]
        assert [r["status"] for r in results] == ["accepted", "rejected"], results
        assert results[1]["reason"] == "unknown agreement no-such"
        await wait_decided(pool, [results[0]["event_id"]])

        # ---- dispatches: two to Nanshan under the agreement, one to Futian without, one to Guangzhou, one in Haikou
        outside = await _dispatch(api, settings, "469005", "440100", [w[1903]], "2026-03-01", AGREEMENT)
        assert outside.status_code == 409, outside.text
        assert outside.json()["detail"][0]["loc"] == ["body", "agreement_id"]
        assert "not in the agreement's destination region 440300" in outside.json()["detail"][0]["msg"]
        under = await _dispatch(api, settings, "469005", "440305", [w[1901], w[1902]], "2026-03-01", AGREEMENT)
        futian = await _dispatch(api, settings, "460106", "440304", [w[1904]], "2026-03-15")
        guangzhou = await _dispatch(api, settings, "469005", "440100", [w[1903]], "2026-04-02")
        haikou = await _dispatch(api, settings, "460106", "460108", [w[1905]], "2026-04-20")
        await _applied(pool, under, futian, guangzhou, haikou)
        placement = {wid: p["placement_id"] for r in (under, futian, guangzhou, haikou) for p in r.json()["placements"]
                     for wid in [p["worker_id"]]}
        employer = _as(settings, "employer", EMPLOYER["employer_id"], "440300")
        confirm = {"employer_id": EMPLOYER["employer_id"], "position": "厨师", "start_date": "2026-03-03",
                   "monthly_wage": "6800", "contract": True}
        await _applied(pool, await api.post(f"/v1/placements/{placement[w[1901]]}/confirm", json=confirm,
                                            headers=employer))

        # ---- the receiving region: exactly the people sent into Shenzhen, masked
        async def received(headers: dict[str, str]) -> set[str]:
            r = await api.get("/v1/received", headers=headers)
            assert r.status_code == 200, r.text
            for item in r.json()["items"]:
                assert item["id_number_masked"].endswith("*" * 12) and len(item["birth_month"]) == 7
                assert "birth_date" not in item and "phone" not in item and "id_number" not in item
                assert item["destination_region"].startswith("4403")
            return {i["worker_id"] for i in r.json()["items"]}

        sent_to_shenzhen = {w[1901], w[1902], w[1904]}
        assert await received(shenzhen) == sent_to_shenzhen
        listed = (await api.get("/v1/workers", headers=shenzhen, params={"limit": 500})).json()["items"]
        assert {i["worker_id"] for i in listed} == sent_to_shenzhen
        assert all("birth_date" not in i and i["id_number_masked"].endswith("*" * 12) for i in listed)
        assert (await api.get(f"/v1/workers/{w[1903]}", headers=shenzhen)).status_code == 404  # sent to Guangzhou
        assert (await api.get(f"/v1/workers/{w[1901]}", headers=shenzhen)).status_code == 200
        reveal = await api.post(f"/v1/workers/{w[1901]}:reveal", json={"purpose": "核实身份"}, headers=shenzhen)
        assert reveal.status_code in (403, 404)  # the receiving region has no jurisdiction
        nanshan = (await api.get("/v1/received", headers=shenzhen, params={"region": "440305"})).json()["items"]
        assert {i["worker_id"] for i in nanshan} == {w[1901], w[1902]}
        assert {i["agreement_id"] for i in nanshan} == {AGREEMENT}
        assert (await api.get("/v1/received", headers=shenzhen, params={"region": "440100"})).status_code == 404

        # ---- a workstation posted to Shenzhen (驻外工作站) by the Shenzhen bureau sees them too
        posted = _as(settings, "workstation", "ws-469005-sz", "469005")
        assert await received(posted) == set()
        assert (await api.get(f"/v1/workers/{w[1904]}", headers=posted)).status_code == 404
        r = await api.put("/v1/postings/ws-469005-sz", json={"posted_region": "440300", "note": "驻深圳工作站"},
                          headers=hainan)
        assert r.status_code == 403  # only the bureau of the region posted to (or an admin)
        r = await api.put("/v1/postings/ws-469005-sz", json={"posted_region": "440300", "note": "驻深圳工作站"},
                          headers=shenzhen)
        assert r.status_code == 200, r.text
        assert await received(posted) == sent_to_shenzhen
        assert (await api.get(f"/v1/workers/{w[1904]}", headers=posted)).status_code == 200  # not its own person
        assert (await api.get(f"/v1/workers/{w[1905]}", headers=posted)).status_code == 404  # stayed in Haikou

        # ---- a placement ends: the receiving region no longer sees that person
        await _applied(pool, await api.post(f"/v1/placements/{placement[w[1904]]}/confirm", headers=employer,
                                            json=confirm | {"start_date": "2026-03-17"}))
        assert w[1904] in await received(shenzhen)  # confirmed is still active
        await _applied(pool, await api.post(f"/v1/placements/{placement[w[1904]]}/end", headers=employer,
                                            json={"end_date": "2026-05-01", "reason": "resigned"}))
        assert await received(shenzhen) == {w[1901], w[1902]}
        assert await received(posted) == {w[1901], w[1902]}
        assert (await api.get(f"/v1/workers/{w[1904]}", headers=shenzhen)).status_code == 404
        assert (await api.delete("/v1/postings/ws-469005-sz", headers=shenzhen)).status_code == 204
        assert await received(posted) == set()

        # ---- the agreement's progress, seen by both sides, equals a recount from the ledger
        expected = dict(await pool.fetchrow(
            """SELECT count(DISTINCT d.dispatch_id) AS dispatches, count(DISTINCT dw.worker_id) AS dispatched,
                      count(DISTINCT p.worker_id) FILTER (WHERE p.status IN ('confirmed', 'ended')
                                                          AND p.start_date IS NOT NULL) AS confirmed
                 FROM dispatches d JOIN dispatch_workers dw ON dw.dispatch_id = d.dispatch_id
                 JOIN placements p ON p.placement_id = dw.placement_id
                WHERE d.agreement_id = $1 AND d.status = 'applied' AND dw.outcome = 'dispatched'""", AGREEMENT))
        assert expected == {"dispatches": 1, "dispatched": 2, "confirmed": 1}
        for side in (hainan, shenzhen, _as(settings, "bureau", "bureau-440000", "440000")):
            got = (await api.get(f"/v1/agreements/{AGREEMENT}", headers=side)).json()
            assert {k: got["progress"][k] for k in expected} == expected, got
            assert (got["target_headcount"], got["progress"]["share"]) == (5, 0.4)
        assert (await api.get(f"/v1/agreements/{AGREEMENT}", headers=_as(settings, "bureau", "bureau-450000", "450000"))
                ).status_code == 404
        assert [a["agreement_id"] for a in (await api.get("/v1/agreements", headers=shenzhen)).json()["items"]] == [
            AGREEMENT]

        # ---- ended early: later departures are no longer covered, earlier ones still count
        await _applied(pool, await api.post(f"/v1/agreements/{AGREEMENT}/end", headers=shenzhen,
                                            json={"end_date": "2026-06-30", "reason": "双方协商提前终止"}))
        late = await _dispatch(api, settings, "469005", "440305", [w[1903]], "2026-07-02", AGREEMENT)
        assert late.status_code == 409 and "outside the agreement's period" in late.text

        # ---- flows: streamed, equal to a recount, by distance class, with drill-down
        report = await converge(settings, worker=worker)
        assert report.consistent_cut and report.drift == [], report.as_dict()
        assert report.flows["consistent_cut"] and report.flows["drift_count"] == 0, report.flows
        stored = await flow_store.stored(pool)
        assert stored == await flow_store.recount(pool) and stored

        province = (await api.get("/v1/flows", headers=hainan, params={"level": "province"})).json()
        assert province["totals"] == {"cross_province": 4, "cross_city": 0, "cross_county": 1, "in_county": 0,
                                      "all": 5}
        by_pair = {(i["origin_region"], i["destination_region"], i["distance_class"]): (i["sent"], i["confirmed"])
                   for i in province["items"]}
        assert by_pair == {("460000", "440000", "cross_province"): (4, 2), ("460000", "460000", "cross_county"): (1, 0)}
        # drill-down: Guangdong's cities, then Shenzhen's districts, as the receiving bureau sees them
        cities = (await api.get("/v1/flows", headers=shenzhen,
                                params={"level": "city", "side": "destination"})).json()["items"]
        assert {(i["origin_region"], i["destination_region"], i["sent"]) for i in cities} == {
            ("469005", "440300", 2), ("460100", "440300", 1)}
        counties = (await api.get("/v1/flows", params={"level": "county", "region": "440300", "by_month": "true",
                                                       "side": "destination"})).json()["items"]
        assert {(i["destination_region"], i["month"], i["sent"], i["distance_label"]) for i in counties} == {
            ("440305", "2026-03", 2, "跨省"), ("440304", "2026-03", 1, "跨省")}
        assert (await api.get("/v1/flows", headers=shenzhen, params={"region": "460000"})).status_code == 404

        # ---- the statistics export carries the flows
        r = await api.get("/v1/export/stats.xlsx", headers=hainan)
        assert r.status_code == 200
        sheet = load_workbook(io.BytesIO(r.content), read_only=True)["劳务流向"]
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:5] == ("输出地代码", "输出地", "输入地代码", "输入地", "流向类别")
        assert sum(int(row[7]) for row in rows[1:]) == 5
