"""退出品牌 (``worker.brand_left``) through ``/v1/events:batch``: the event type issue 17 added through its catalogue
entry, its domain rule and its contract alone."""

from __future__ import annotations

import httpx
import pytest

from laowu.privacy import Privacy
from laowu.settings import Settings

from helpers import bearer, person, wait_receipt

pytestmark = pytest.mark.services

WS = bearer("workstation", "ws-469005-01", "469005")
OTHER_WS = bearer("workstation", "ws-500101-01", "500101")
BRAND = {"brand_id": "left-b", "name": "椰乡工匠", "region_code": "460000", "category": "skilled", "level": "provincial"}


async def batch(api: httpx.AsyncClient, events: list[dict[str, object]], headers: dict[str, str]) -> list[dict[str, object]]:
    r = await api.post("/v1/events:batch", json={"events": events}, headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


async def test_a_worker_leaves_a_brand(api: httpx.AsyncClient, settings: Settings, ledger: object) -> None:
    body = person(700, region="469005") | {"brand_ids": ["left-b"]}
    wid = Privacy(settings).worker_id(body["id_number"])
    assert (await api.post("/v1/brands", json=BRAND)).status_code == 202
    leave = {"type": "worker.brand_left", "payload": {"worker_id": wid, "brand_id": "left-b", "reason": "转行从事物流"}}
    # Registered and left in one batch, before either is applied (a 202 is a promise).
    results = await batch(api, [{"type": "worker.registered", "payload": body}, leave], WS)
    assert [r["status"] for r in results] == ["accepted", "accepted"], results
    receipts = [await wait_receipt(api, str(r["event_id"])) for r in results]
    assert [r["status"] for r in receipts] == ["applied", "applied"], receipts
    worker = (await api.get(f"/v1/workers/{wid}", headers=WS)).json()
    assert worker["brand_ids"] == []

    again = (await batch(api, [leave], WS))[0]
    assert again["status"] == "accepted"
    decided = await wait_receipt(api, str(again["event_id"]))
    assert (decided["status"], decided["reason"]) == ("rejected", "the worker is not a member of brand left-b")
    # Another jurisdiction's workstation cannot reach the worker; a field the contract lacks is refused at once.
    foreign = (await batch(api, [leave], OTHER_WS))[0]
    assert foreign["status"] == "rejected" and "unknown worker" in str(foreign["reason"])
    no_reason = (await batch(api, [{"type": "worker.brand_left", "payload": {"worker_id": wid, "brand_id": "left-b"}}],
                             WS))[0]
    assert no_reason["status"] == "rejected" and "payload.reason" in str(no_reason["reason"])
