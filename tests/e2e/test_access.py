"""Access control: every endpoint × every role, jurisdiction, PII at rest, key rotation, logs, fuzzing."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi.routing import APIRoute

from api.access import RULES
from api.app import create_app
from api.routing import api_routes
from laowu.settings import Settings
from laowu.stack.ports import free_port
from laowu.stack.processes import stop_process

from conftest import running_ledger, serving, spawn_ours
from helpers import bearer, person, wait_decided, wait_receipt

pytestmark = pytest.mark.services

ROLES = {
    "workstation": ("ws-460106-01", "460106"),
    "employer": ("emp-a", "440300"),
    "bureau": ("bureau-460000", "460000"),
    "admin": ("laowu-ops", None),
    "reviewer": ("expert-panel", "460000"),  # issue 21: 评审专家
}
DUMMY = {"worker_id": "w" + "0" * 24, "event_id": "00000000-0000-0000-0000-000000000000", "code": "460000",
         "import_id": "00000000-0000-0000-0000-000000000001"}


def v1_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(env="test"))
    found = sorted({(m, r.path_format) for r in api_routes(app.routes) if isinstance(r, APIRoute)
                    and r.path.startswith("/v1/") for m in r.methods})
    documented = sorted({(m.upper(), p) for p, ops in app.openapi()["paths"].items() if p.startswith("/v1/") for m in ops})
    assert set(documented) <= set(found)
    return found


def test_every_v1_route_has_an_access_rule() -> None:
    routes = v1_routes()
    assert len(routes) >= 40, f"the route walk found only {len(routes)} routes"
    missing = [r for r in routes if r not in RULES]
    assert not missing, f"routes without an access rule (add them to api/access.py RULES): {missing}"
    stale = [r for r in RULES if r not in routes]
    assert not stale, f"rules for routes that do not exist: {stale}"


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: DUMMY.get(m.group(1), "x-1"), path)


async def _status(api: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> int:
    """Only the status line: a live feed never ends, so every answer is read as a stream and closed."""
    async with api.stream(method, url, headers=headers, **kwargs) as r:
        return r.status_code


async def test_status_matrix_every_endpoint_every_role(api: httpx.AsyncClient, settings: Settings) -> None:
    failures = []
    for method, path in v1_routes():
        allowed = RULES[(method, path)]
        url = _url(path)
        kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "PATCH") else {}
        anonymous = await _status(api, method, url, {"Authorization": ""}, kwargs)
        if allowed and anonymous != 401:
            failures.append(f"{method} {path} without credential: {anonymous}")
        for role, (org, region) in ROLES.items():
            status = await _status(api, method, url, bearer(role, org, region, settings), kwargs)
            expected_denied = bool(allowed) and role not in allowed
            if expected_denied and status != 403:
                failures.append(f"{method} {path} as {role}: {status}, expected 403")
            if not expected_denied and status in (401, 403, 500):
                failures.append(f"{method} {path} as {role}: {status}")
    assert not failures, "\n".join(failures)


async def test_bad_and_expired_credentials_are_401_before_anything_else(api: httpx.AsyncClient, settings: Settings) -> None:
    from laowu.auth import issue

    expired = issue(settings, role="admin", org="x", region=None, ttl_s=-10)
    other_keys = Settings(env="test", token_keys="dev1:someone-elses-secret-key-0123456789abcdef")
    forged = issue(other_keys, role="admin", org="x", region=None)
    for header in (f"Bearer {expired}", f"Bearer {forged}", "Bearer not-a-jwt", "Basic abc"):
        r = await api.post("/v1/workers", content=b"{broken json", headers={"Authorization": header})
        assert r.status_code == 401, (header, r.text)
    # Rotation without downtime: a token signed by the previous key still verifies while that key is listed.
    previous = settings.token_keys.get_secret_value()
    rotated = Settings(env="test", token_keys="new1:brand-new-signing-secret-0123456789," + previous)
    from laowu.auth import verify

    assert verify(rotated, issue(settings, role="admin", org="x", region=None)).org == "x"
    assert issue(rotated, role="admin", org="x", region=None) != issue(settings, role="admin", org="x", region=None)


async def _two_counties(api: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings) -> tuple[str, str]:
    ids = []
    workers = []
    for n, county in ((301, "460106"), (302, "460107")):
        body = person(n, region=county)
        r = await api.post("/v1/workers", json=body, headers=bearer("workstation", body["workstation_id"], county, settings))
        assert r.status_code == 202, r.text
        ids.append(r.json()["event_id"])
        workers.append(r.json()["worker_id"])
    await wait_decided(pool, ids)
    return workers[0], workers[1]


async def test_county_bureau_cannot_see_the_neighbouring_county(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any,
                                                                settings: Settings) -> None:
    longhua, qiongshan = await _two_counties(api, pool, settings)
    county = bearer("bureau", "bureau-460106", "460106", settings)
    city = bearer("bureau", "bureau-460100", "460100", settings)
    assert (await api.get(f"/v1/workers/{longhua}", headers=county)).status_code == 200
    assert (await api.get(f"/v1/workers/{qiongshan}", headers=county)).status_code == 404
    assert (await api.get(f"/v1/workers/{qiongshan}/history", headers=county)).status_code == 404
    listed = (await api.get("/v1/workers", headers=county)).json()["items"]
    assert [w["worker_id"] for w in listed] == [longhua]
    assert {w["worker_id"] for w in (await api.get("/v1/workers", headers=city)).json()["items"]} == {longhua, qiongshan}
    r = await api.post(f"/v1/workers/{qiongshan}:reveal", json={"purpose": "核查身份信息"}, headers=county)
    assert r.status_code == 404
    # A workstation cannot register someone for another workstation, nor outside its jurisdiction.
    body = person(303, region="460107")
    r = await api.post("/v1/workers", json=body, headers=bearer("workstation", "ws-460106-01", "460106", settings))
    assert r.status_code == 403


async def test_employer_sees_only_its_own_placements(api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any,
                                                     settings: Settings) -> None:
    longhua, _ = await _two_counties(api, pool, settings)
    r = await api.post("/v1/brands", json={"brand_id": "yesao", "name": "椰嫂", "region_code": "460000",
                                           "category": "service", "level": "provincial"})
    await wait_receipt(api, r.json()["event_id"])
    clerk = bearer("workstation", "ws-460106-01", "460106", settings)
    r = await api.post("/v1/dispatches", headers=clerk, json={
        "organizer_id": "ws-460106-01", "brand_id": "yesao", "mode": "direct_intake", "origin_region": "460106",
        "destination_region": "440300", "employer": {"employer_id": "emp-a", "name": "甲公司"},
        "departure_date": "2026-11-01", "worker_ids": [longhua]})
    assert r.status_code == 202, r.text
    placement = r.json()["placements"][0]["placement_id"]
    await wait_decided(pool, [r.json()["event_id"]])
    mine, theirs = bearer("employer", "emp-a", "440300", settings), bearer("employer", "emp-b", "440300", settings)
    assert (await api.get(f"/v1/placements/{placement}", headers=mine)).status_code == 200
    seen = (await api.get(f"/v1/workers/{longhua}", headers=mine)).json()
    assert "*" in seen["id_number_masked"]
    assert (await api.get(f"/v1/placements/{placement}", headers=theirs)).status_code == 404
    assert (await api.get(f"/v1/workers/{longhua}", headers=theirs)).status_code == 404
    assert (await api.get("/v1/workers", headers=theirs)).json()["items"] == []
    confirm = {"employer_id": "emp-b", "position": "保洁", "start_date": "2026-11-03", "monthly_wage": "5000",
               "contract": True}
    assert (await api.post(f"/v1/placements/{placement}/confirm", json=confirm, headers=theirs)).status_code == 404
    assert (await api.post(f"/v1/workers/{longhua}:reveal", json={"purpose": "查看身份信息"}, headers=mine)).status_code == 403
    r = await api.post(f"/v1/placements/{placement}/confirm", json=confirm | {"employer_id": "emp-a"}, headers=mine)
    assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    receipts_of_other = await api.get(f"/v1/events/{r.json()['event_id']}", headers=theirs)
    assert receipts_of_other.status_code == 404


async def test_the_receiving_bureau_sees_exactly_the_people_sent_into_its_region_while_placed(
        api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings) -> None:
    """输入地 (issue 19): the Shenzhen bureau sees, masked, who was sent to Shenzhen, and no longer once it ended."""
    longhua, qiongshan = await _two_counties(api, pool, settings)
    r = await api.post("/v1/brands", json={"brand_id": "yesao", "name": "椰嫂", "region_code": "460000",
                                           "category": "service", "level": "provincial"})
    await wait_receipt(api, r.json()["event_id"])
    ids, placements = [], {}
    for wid, county, destination in ((longhua, "460106", "440305"), (qiongshan, "460107", "440100")):
        r = await api.post("/v1/dispatches", headers=bearer("workstation", f"ws-{county}-01", county, settings), json={
            "organizer_id": f"ws-{county}-01", "brand_id": "yesao", "mode": "direct_intake", "origin_region": county,
            "destination_region": destination, "employer": {"employer_id": "emp-a", "name": "甲公司"},
            "departure_date": "2026-11-01", "worker_ids": [wid]})
        assert r.status_code == 202, r.text
        ids.append(r.json()["event_id"])
        placements[wid] = r.json()["placements"][0]["placement_id"]
    await wait_decided(pool, ids)
    shenzhen = bearer("bureau", "bureau-440300", "440300", settings)
    listed = (await api.get("/v1/workers", headers=shenzhen)).json()["items"]
    assert [w["worker_id"] for w in listed] == [longhua] and "birth_date" not in listed[0]
    assert (await api.get(f"/v1/workers/{qiongshan}", headers=shenzhen)).status_code == 404
    employer = bearer("employer", "emp-a", "440300", settings)
    r = await api.post(f"/v1/placements/{placements[longhua]}/confirm", headers=employer, json={
        "employer_id": "emp-a", "position": "保洁", "start_date": "2026-11-03", "monthly_wage": "5000", "contract": True})
    await wait_decided(pool, [r.json()["event_id"]])
    assert (await api.get(f"/v1/workers/{longhua}", headers=shenzhen)).status_code == 200
    r = await api.post(f"/v1/placements/{placements[longhua]}/end", headers=employer,
                       json={"end_date": "2026-12-01", "reason": "resigned"})
    await wait_decided(pool, [r.json()["event_id"]])
    assert (await api.get("/v1/workers", headers=shenzhen)).json()["items"] == []
    assert (await api.get(f"/v1/workers/{longhua}", headers=shenzhen)).status_code == 404


async def test_reveal_is_audited_and_key_rotation_keeps_old_records_readable(
    api: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings
) -> None:
    old_body = person(304, region="460106")
    async with running_ledger(settings):
        r = await api.post("/v1/workers", json=old_body)
        old_id = r.json()["worker_id"]
        await wait_decided(pool, [r.json()["event_id"]])
    # Roll-out order matters: consumers get the new key (as a second key) before any API seals with it.

    new_key = base64.b64encode(os.urandom(32)).decode()
    keys = f"k2:{new_key},{settings.encryption_keys.get_secret_value()}"
    rotated = Settings(**{**settings.model_dump(), "encryption_keys": keys})
    async with serving(rotated) as url, running_ledger(rotated), httpx.AsyncClient(
        base_url=url, headers=bearer("admin", "laowu-ops", settings=settings)
    ) as client:
        new_body = person(305, region="460108")
        r = await client.post("/v1/workers", json=new_body)
        new_id = r.json()["worker_id"]
        await wait_decided(pool, [r.json()["event_id"]])
        stored = dict(await pool.fetchrow("SELECT id_number_enc FROM workers WHERE worker_id = $1", new_id))
        assert stored["id_number_enc"].startswith("enc1:k2:")
        bureau = bearer("bureau", "bureau-460000", "460000", settings)
        for wid, body in ((old_id, old_body), (new_id, new_body)):
            r = await client.post(f"/v1/workers/{wid}:reveal", json={"purpose": "劳动争议调查"}, headers=bureau)
            assert r.status_code == 200, r.text
            assert r.json()["id_number"] == body["id_number"] and r.json()["phone"] == body["phone"]
    audit = (await api.get("/v1/audit", params={"worker_id": old_id})).json()["items"]
    assert [(a["action"], a["purpose"], a["role"]) for a in audit] == [("reveal", "劳动争议调查", "bureau")]
    assert (await api.get("/v1/audit", headers=bureau)).status_code == 403
    with pytest.raises(asyncpg.exceptions.RaiseError):
        await pool.execute("DELETE FROM audit_log")


async def test_api_keys_exchange_for_short_lived_tokens(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/credentials", json={"role": "workstation", "org": "ws-460106-01", "region": "460106"})
    assert r.status_code == 201
    key = r.json()["api_key"]
    token = (await api.post("/v1/auth/token", json={"api_key": key}, headers={"Authorization": ""})).json()
    me = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await api.get("/v1/workers", headers=me)).status_code == 200
    assert (await api.post("/v1/auth/token", json={"api_key": key + "x"})).status_code == 401
    assert [a["action"] for a in (await api.get("/v1/audit")).json()["items"]] == ["credential.create"]


async def test_rate_limit_answers_429_with_retry_after(infra: Any, settings: Settings) -> None:
    tight = Settings(**{**settings.model_dump(), "rate_limit_per_s": 1.0, "rate_limit_burst": 3})
    async with serving(tight) as url, httpx.AsyncClient(base_url=url, headers=bearer("admin", "ops", settings=settings)) as c:
        codes = [(await c.get("/v1/brands")).status_code for _ in range(5)]
        last = await c.get("/v1/brands")
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:]
    assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1


async def test_logs_never_hold_an_id_number_or_phone(settings: Settings, pool: asyncpg.Pool, tmp_path: Path) -> None:
    """The API and the consumer as real processes with their real logging; then grep every log line."""
    port = free_port()
    api_log, consumer_log = tmp_path / "api.log", tmp_path / "consumer.log"
    api_proc = spawn_ours(["api"], settings, api_log, LAOWU_API_PORT=str(port))
    consumer = spawn_ours(["consume", "ledger"], settings, consumer_log)
    body = person(306)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                     headers=bearer("admin", "ops", settings=settings)) as c:
            for _ in range(100):
                try:
                    if (await c.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                import asyncio

                await asyncio.sleep(0.1)
            r = await c.post("/v1/workers", json=body)
            await wait_decided(pool, [r.json()["event_id"]])
            wid = r.json()["worker_id"]
            await c.get("/v1/workers", params={"id_number": body["id_number"]})
            await c.get("/v1/workers", params={"id_number": body["id_number"][:17] + "0"})  # 422 echoes nothing to logs
            await c.post("/v1/workers:lookup", json={"id_number": body["id_number"]})
            await c.post(f"/v1/workers/{wid}:reveal", json={"purpose": "日志检查"})
            await c.post("/v1/workers", json=body | {"phone": "12345"})
            token = bearer("admin", "ops", settings=settings)["Authorization"].split()[1]
            # refused (401) off the feed, and still logged masked
            await c.get("/v1/brands", params={"access_token": token}, headers={"Authorization": ""})
    finally:
        for p in (api_proc, consumer):
            stop_process(p)
    logs = api_log.read_text() + consumer_log.read_text()
    assert '"GET /v1/workers" 200' in logs or "/v1/workers" in logs  # the access log is there
    for secret in (body["id_number"], body["phone"], token):
        assert secret not in logs, f"{secret[:6]}… leaked into a log"
