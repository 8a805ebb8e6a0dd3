"""HTTP in, ledger out: real API, real Kafka, real PostgreSQL, the real ledger consumer."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from laowu.settings import Settings

from helpers import bearer, person, wait_decided, wait_receipt

pytestmark = pytest.mark.services

BRAND = {"brand_id": "wenchang-chicken-chef", "name": "文昌鸡师傅", "region_code": "469005",
         "category": "service", "level": "municipal", "industry": "特色餐饮", "occupation_code": "4-03-02-01"}


async def _brand(api: httpx.AsyncClient, body: dict = BRAND) -> None:
    r = await api.post("/v1/brands", json=body)
    assert r.status_code == 202, r.text
    assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"


async def test_register_and_read_back_masked(api: httpx.AsyncClient, ledger: object) -> None:
    await _brand(api)
    body = person(1) | {"brand_ids": ["wenchang-chicken-chef"], "priority_groups": ["poverty_alleviated"]}
    clerk = bearer("workstation", body["workstation_id"], body["household_region"])
    r = await api.post("/v1/workers", json=body, headers=clerk)
    assert r.status_code == 202, r.text
    accepted = r.json()
    assert accepted["status"] == "accepted" and accepted["worker_id"].startswith("w")
    receipt = await wait_receipt(api, accepted["event_id"])
    assert receipt["status"] == "applied"

    w = (await api.get(f"/v1/workers/{accepted['worker_id']}")).json()
    number = body["id_number"]
    assert w["id_number_masked"] == number[:6] + "*" * 12 and w["birth_month"] == body["birth_date"][:7]
    assert w["phone_masked"] == body["phone"][:3] + "****" + body["phone"][-4:]
    assert w["household_region"]["code"] == body["household_region"] and w["household_region"]["name"]
    assert w["brand_ids"] == ["wenchang-chicken-chef"] and w["state"] == "registered"
    assert number not in r.text + str(w)

    by_number = (await api.get("/v1/workers", params={"id_number": number})).json()
    assert [i["worker_id"] for i in by_number["items"]] == [accepted["worker_id"]]
    twin = (await api.post("/v1/workers:lookup", json={"id_number": number})).json()
    assert twin == by_number
    brand = (await api.get("/v1/brands/wenchang-chicken-chef")).json()
    assert brand["member_count"] == 1 and brand["status"] == "candidate" and brand["region_name"]
    history = (await api.get(f"/v1/workers/{accepted['worker_id']}/history")).json()["items"]
    assert [h["type"] for h in history] == ["worker.registered"] and history[0]["source"] == body["workstation_id"]
    assert history[0]["actor"]["role"] == "workstation"


async def test_validation_is_field_level(api: httpx.AsyncClient) -> None:
    body = person(2)
    wrong = body["id_number"][:17] + ("0" if body["id_number"][17] != "0" else "1")
    r = await api.post("/v1/workers", json=body | {"id_number": wrong})
    assert r.status_code == 422
    [err] = r.json()["detail"]
    assert err["loc"] == ["body", "id_number"] and err["type"] == "check_digit"
    assert err["msg"] == f"check digit should be {body['id_number'][17]}"

    r = await api.post("/v1/workers", json=body | {"sex": "F" if body["sex"] == "M" else "M", "household_region": "999999"})
    fields = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert r.status_code == 422 and fields == {("body", "sex"), ("body", "household_region")}

    r = await api.post("/v1/workers", json=body | {"category": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "category"]
    r = await api.post("/v1/workers", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    [err] = r.json()["detail"]
    assert err["type"] == "json_invalid" and err["loc"] == ["body", 1]
    # Not JSON either, though Python's json module reads it: it must not reach validation as a float.
    r = await api.post("/v1/events:batch", content=b'{"events": [{"type": "worker.updated", "payload": {"x": NaN}}]}',
                       headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "json_invalid"
    r = await api.post("/v1/workers", content=b"x" * (1 << 20 + 1), headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = await api.get("/v1/workers", params={"id_number": "123"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "id_number"]


async def test_idempotency_key_returns_first_answer_and_publishes_once(
    api: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool
) -> None:
    body = person(3)
    headers = {"Idempotency-Key": "terminal-7-request-42"}
    first = await api.post("/v1/workers", json=body, headers=headers)
    again = await api.post("/v1/workers", json=body, headers=headers)
    assert first.status_code == again.status_code == 202 and first.json() == again.json()
    other = await api.post("/v1/workers", json=body | {"name": "别人"}, headers=headers)
    assert other.status_code == 409

    consumer = AIOKafkaConsumer(settings.topic("laowu.workers.v1"), bootstrap_servers=settings.kafka_bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        got = await consumer.getmany(timeout_ms=3000)
        messages = [m for batch in got.values() for m in batch]
    finally:
        await consumer.stop()
    assert len(messages) == 1
    assert body["id_number"].encode() not in messages[0].value and body["id_number"].encode() not in messages[0].key
    assert body["phone"].encode() not in messages[0].value


async def test_thousand_registrations_of_nine_hundred_people(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object) -> None:
    await _brand(api)
    await _brand(api, BRAND | {"brand_id": "sanya-captain", "name": "三亚船长", "region_code": "460200"})
    people = [person(n) for n in range(900)]
    events = [{"type": "worker.registered", "payload": p | {"brand_ids": ["wenchang-chicken-chef"]}} for p in people]
    # 100 of them register again at another workstation, into another brand.
    events += [{"type": "worker.registered",
                "payload": p | {"workstation_id": "ws-460200-09", "brand_ids": ["sanya-captain"]}} for p in people[:100]]
    ids: list[str] = []
    for start in range(0, len(events), 250):
        r = await api.post("/v1/events:batch", json={"events": events[start:start + 250]})
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert all(x["status"] == "accepted" for x in results), results[:3]
        ids += [x["event_id"] for x in results]
    decided = await wait_decided(pool, ids)
    assert {d["status"] for d in decided.values()} == {"applied"}
    assert await pool.fetchval("SELECT count(*) FROM workers") == 900
    assert await pool.fetchval("SELECT count(*) FROM workers WHERE brand_ids @> ARRAY['sanya-captain']") == 100
    assert await pool.fetchval("SELECT count(*) FROM workers WHERE cardinality(workstation_ids) = 2") == 100
    assert await pool.fetchval("SELECT count(*) FROM worker_events") == 1000
    brands = (await api.get("/v1/brands")).json()["items"]
    assert {b["brand_id"]: b["member_count"] for b in brands} == {"wenchang-chicken-chef": 900, "sanya-captain": 100}

    page1 = (await api.get("/v1/workers", params={"region": "460000", "limit": 50})).json()
    page2 = (await api.get("/v1/workers", params={"region": "460000", "limit": 50, "cursor": page1["next_cursor"]})).json()
    assert len(page1["items"]) == 50 and page1["next_cursor"]
    assert page1["items"][-1]["worker_id"] < page2["items"][0]["worker_id"]
    hainan = await pool.fetchval("SELECT count(*) FROM workers WHERE household_region LIKE '46%'")
    city = await pool.fetchval("SELECT count(*) FROM workers WHERE household_region LIKE '4601%'")
    listed = 0
    cursor = None
    while True:
        params = {"region": "460100", "limit": 500} | ({"cursor": cursor} if cursor else {})
        page = (await api.get("/v1/workers", params=params)).json()
        listed += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert listed == city and 0 < city < hainan < 900


async def test_newest_occurred_at_wins_not_arrival(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object) -> None:
    body = person(4)
    r = await api.post("/v1/workers", json=body | {"occurred_at": "2026-01-01T08:00:00+08:00"})
    wid = r.json()["worker_id"]
    await wait_receipt(api, r.json()["event_id"])
    newer = await api.patch(f"/v1/workers/{wid}", json={"name": "新名字", "occurred_at": "2026-03-01T08:00:00+08:00"})
    older = await api.patch(f"/v1/workers/{wid}", json={"name": "旧名字", "occupation_code": "4-03-02-01",
                                                         "occurred_at": "2026-02-01T08:00:00+08:00"})
    # A late registration from an offline workstation, older than everything above.
    late = await api.post("/v1/workers", json=body | {"name": "最早", "workstation_id": "ws-offline",
                                                       "occurred_at": "2025-12-01T08:00:00+08:00"})
    for r in (newer, older, late):
        assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    w = (await api.get(f"/v1/workers/{wid}")).json()
    assert w["name"] == "新名字"  # newest by event time, although it arrived before the older one
    assert w["occupation_code"] == "4-03-02-01"  # the older event still wins the field nobody newer touched
    assert w["registered_at"].startswith("2025-12-01")
    assert len((await api.get(f"/v1/workers/{wid}/history")).json()["items"]) == 4


async def test_rejections_get_receipts_and_leave_ledger_untouched(api: httpx.AsyncClient, pool: asyncpg.Pool,
                                                                 ledger: object) -> None:
    await _brand(api)
    ghost = "w" + "0" * 24
    r = await api.patch(f"/v1/workers/{ghost}", json={"name": "无此人"})
    receipt = await wait_receipt(api, r.json()["event_id"])
    assert receipt["status"] == "rejected" and "unknown worker" in receipt["reason"]

    r = await api.post("/v1/brands/wenchang-chicken-chef/status", json={"status": "demonstration", "reason": "跳级"})
    assert r.status_code == 409 and "candidate → demonstration" in r.json()["detail"][0]["msg"]
    for status in ("listed", "demonstration", "revoked"):
        r = await api.post("/v1/brands/wenchang-chicken-chef/status", json={"status": status, "reason": "评审"})
        assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    r = await api.post("/v1/workers", json=person(5) | {"brand_ids": ["wenchang-chicken-chef"]})
    assert r.status_code == 409 and "revoked" in r.json()["detail"][0]["msg"]
    r = await api.post("/v1/workers", json=person(5) | {"brand_ids": ["no-such-brand"]})
    assert r.status_code == 409
    assert await pool.fetchval("SELECT count(*) FROM workers") == 0
    assert (await api.get(f"/v1/events/{uuid.uuid4()}")).status_code == 404
    assert (await api.get(f"/v1/workers/{ghost}")).status_code == 404


async def test_batch_decides_each_item(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: object) -> None:
    good = person(6)
    events = [
        {"type": "worker.registered", "payload": good},
        {"type": "worker.registered", "payload": good | {"birth_date": "2019-01-01"}},
        {"type": "stats.updated", "payload": {}},
        {"type": "worker.updated", "payload": {"name": "x"}},
        {"type": "brand.registered", "payload": {k: v for k, v in BRAND.items() if k != "brand_id"}},
    ]
    r = await api.post("/v1/events:batch", json={"events": events})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["accepted", "rejected", "rejected", "rejected", "accepted"]
    assert "birth_date" in results[1]["reason"] and "worker_id" in results[3]["reason"]
    assert results[4]["brand_id"].startswith("brand-")
    await wait_decided(pool, [results[0]["event_id"], results[4]["event_id"]])
    r = await api.post("/v1/events:batch", json={"events": events * 201})
    assert r.status_code == 413
    await asyncio.sleep(0)


async def test_metrics_show_request_rates_latencies_and_consumer_lag(api: httpx.AsyncClient, settings: Settings) -> None:
    r = await api.post("/v1/workers", json=person(7))
    assert r.status_code == 202
    assert (await api.get("/metrics")).status_code == 401  # per-route activity is not public
    assert (await api.get("/metrics", headers={"authorization": "Bearer not-the-token"})).status_code == 401
    scrape = {"authorization": f"Bearer {settings.metrics_token.get_secret_value()}"} if settings.metrics_token else {}
    text = (await api.get("/metrics", headers=scrape)).text
    assert 'laowu_http_requests_total{method="POST",route="/v1/workers",status="202"}' in text
    assert "laowu_http_request_seconds_bucket" in text
    workers_topic = settings.topic("laowu.workers.v1")
    lag = [line for line in text.splitlines() if line.startswith("laowu_consumer_lag{") and workers_topic in line]
    assert len(lag) == 6 and sum(float(line.rsplit(" ", 1)[1]) for line in lag) == 1.0  # nobody consumed it yet
