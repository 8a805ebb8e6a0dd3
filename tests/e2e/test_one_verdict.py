"""One rule, one verdict, whatever the door (issue 17): the same bad write through its single route and through
``/v1/events:batch`` is refused with the same reason; only the rendering differs (a status code and its detail, a
rejected item). Nothing here needs the ledger: everything named was accepted and not applied (read-your-writes)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from laowu.domain.lifecycle import eligibility

from helpers import bearer, person, wait_decided

pytestmark = pytest.mark.services

WS = "ws-469005-01"
WORKSTATION = bearer("workstation", WS, "469005")
BUREAU = bearer("bureau", "hrss-460000", "460000")
EMPLOYER = {"employer_id": "emp-verdict", "name": "深圳某建筑公司"}
EMPLOYER_AUTH = bearer("employer", "emp-verdict", "440300")
D0 = date.today() - timedelta(days=10)
CONFIRM = {"employer_id": EMPLOYER["employer_id"], "position": "钢筋工", "start_date": D0.isoformat(),
           "monthly_wage": "7800.00", "contract": False}


def brand(brand_id: str) -> dict[str, Any]:
    return {"brand_id": brand_id, "name": f"品牌{brand_id}", "region_code": "460000", "category": "skilled",
            "level": "provincial"}


async def one_item(api: httpx.AsyncClient, headers: dict[str, str], type: str, payload: dict[str, Any]) -> str:
    r = await api.post("/v1/events:batch", json={"events": [{"type": type, "payload": payload}]}, headers=headers)
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert result["status"] == "rejected", result
    return str(result["reason"])


def dispatch(dispatch_id: str, brand_id: str, workers: list[str]) -> dict[str, Any]:
    return {"dispatch_id": dispatch_id, "organizer_id": WS, "brand_id": brand_id, "mode": "directed_interregional",
            "origin_region": "469005", "destination_region": "440300", "employer": EMPLOYER,
            "departure_date": D0.isoformat(), "worker_ids": workers}


async def test_the_same_reason_through_the_single_route_and_the_batch(api: httpx.AsyncClient) -> None:
    assert (await api.post("/v1/brands", json=brand("verdict"), headers=BUREAU)).status_code == 202
    r = await api.post("/v1/workers", json=person(4100, region="469005") | {"brand_ids": ["verdict"]},
                       headers=WORKSTATION)
    assert r.status_code == 202, r.text
    wid = r.json()["worker_id"]
    r = await api.post("/v1/dispatches", headers=WORKSTATION, json=dispatch("dsp-verdict", "verdict", [wid]))
    assert r.status_code == 202, r.text
    [placement] = r.json()["placements"]
    pid = placement["placement_id"]

    # The employer confirms in another employer's name: 403, and the same words for the batch item.
    r = await api.post(f"/v1/placements/{pid}/confirm", json=CONFIRM | {"employer_id": "emp-other"},
                       headers=EMPLOYER_AUTH)
    assert r.status_code == 403
    reason = await one_item(api, EMPLOYER_AUTH, "placement.confirmed",
                            CONFIRM | {"employer_id": "emp-other", "placement_id": pid})
    assert reason == r.json()["detail"] == "employer_id must be your own organization (emp-verdict)"

    # Another employer: the placement does not exist for it (404; the batch names what is unknown).
    other = bearer("employer", "emp-other", "440300")
    r = await api.post(f"/v1/placements/{pid}/confirm", json=CONFIRM | {"employer_id": "emp-other"}, headers=other)
    assert r.status_code == 404
    reason = await one_item(api, other, "placement.confirmed", CONFIRM | {"employer_id": "emp-other",
                                                                          "placement_id": pid})
    assert reason == f"unknown placement {pid}"

    # A member of a brand nobody registered: 409 with the reason the batch item gives.
    body = person(4101, region="469005") | {"brand_ids": ["no-such-verdict"]}
    r = await api.post("/v1/workers", json=body, headers=WORKSTATION)
    assert r.status_code == 409
    [detail] = r.json()["detail"]
    assert detail["loc"] == ["body", "brand_ids"]
    assert await one_item(api, WORKSTATION, "worker.registered", body) == detail["msg"]


async def test_dispatch_eligibility_has_the_same_words_at_once_and_from_the_ledger(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any
) -> None:
    """A worker on an active placement: the single route leaves them out at once; a batch item keeps them and the
    ledger refuses them, both in ``lifecycle.eligibility``'s words."""
    assert (await api.post("/v1/brands", json=brand("verdict-d"), headers=BUREAU)).status_code == 202
    r = await api.post("/v1/workers", json=person(4110, region="469005") | {"brand_ids": ["verdict-d"]},
                       headers=WORKSTATION)
    wid = r.json()["worker_id"]
    r = await api.post("/v1/dispatches", headers=WORKSTATION, json=dispatch("dsp-vd-1", "verdict-d", [wid]))
    assert r.status_code == 202, r.text
    [first] = r.json()["placements"]
    await wait_decided(pool, [r.json()["event_id"]])
    expected = eligibility("dispatched", first["placement_id"])

    r = await api.post("/v1/dispatches", headers=WORKSTATION, json=dispatch("dsp-vd-2", "verdict-d", [wid]))
    assert r.status_code == 409
    assert r.json()["detail"][0]["msg"] == expected

    r = await api.post("/v1/events:batch", headers=WORKSTATION, json={"events": [
        {"type": "dispatch.created", "payload": dispatch("dsp-vd-3", "verdict-d", [wid])}]})
    [result] = r.json()["results"]
    assert result["status"] == "accepted", result
    await wait_decided(pool, [result["event_id"]])
    [worker] = (await api.get("/v1/dispatches/dsp-vd-3")).json()["workers"]
    assert worker["outcome"] == "rejected" and worker["reason"] == expected
