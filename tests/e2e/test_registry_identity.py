"""Issue 16: a registration elsewhere cannot take a person over, and a masked view cannot be unmasked.

Real API, Kafka, PostgreSQL and ledger consumer. The story: 王小梅's household (户籍地) is 460106 (Haikou,
Longhua); her own workstation registers her. A workstation in Shenzhen (440305) that knows her ID number registers
her again, with its own region and another name.
"""

from __future__ import annotations

import io
from typing import Any

import asyncpg
import httpx
import openpyxl
import pytest
from candidates import count

from laowu.settings import Settings

from helpers import bearer, person, wait_decided, wait_receipt

pytestmark = pytest.mark.services

HOME, AWAY = ("ws-460106-01", "460106"), ("ws-440305-01", "440305")


def _as(role: str, org: str, region: str | None, settings: Settings) -> dict[str, str]:
    return bearer(role, org, region, settings)


async def _registered(api: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, n: int) -> tuple[str, dict[str, Any]]:
    body = person(n, region=HOME[1]) | {"workstation_id": HOME[0]}
    r = await api.post("/v1/workers", json=body, headers=_as("workstation", *HOME, settings))
    assert r.status_code == 202, r.text
    await wait_decided(pool, [r.json()["event_id"]])
    return r.json()["worker_id"], body


async def _taken_over(api: httpx.AsyncClient, pool: asyncpg.Pool, settings: Settings, body: dict[str, Any]) -> None:
    """The other province registers the same person with its own household region and another name."""
    away = _as("workstation", *AWAY, settings)
    again = body | {"workstation_id": AWAY[0], "household_region": AWAY[1], "name": "冒名者",
                    "phone": "13911112222"}
    r = await api.post("/v1/workers", json=again, headers=away)
    assert r.status_code == 202, r.text
    assert (await wait_decided(pool, [r.json()["event_id"]]))[r.json()["event_id"]]["status"] == "applied"


async def test_a_registration_elsewhere_keeps_household_view_and_is_a_discrepancy_for_both(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings
) -> None:
    wid, body = await _registered(api, pool, settings, 401)
    await _taken_over(api, pool, settings, body)
    home_bureau = _as("bureau", "bureau-460100", "460100", settings)
    away_ws = _as("workstation", *AWAY, settings)

    seen = await api.get(f"/v1/workers/{wid}", headers=home_bureau)
    assert seen.status_code == 200, "the original bureau lost the person"
    assert seen.json()["household_region"]["code"] == HOME[1] and seen.json()["name"] == body["name"]
    assert seen.json()["phone_masked"] == "139****2222"  # newest-wins still applies to the phone
    # The newcomer sees the person it registered (API.md), but not as its own: the household stays.
    assert (await api.get(f"/v1/workers/{wid}", headers=away_ws)).json()["household_region"]["code"] == HOME[1]
    assert (await api.get(f"/v1/workers/{wid}", headers=_as("bureau", "bureau-440000", "440000", settings))
            ).status_code == 404

    for who in (home_bureau, away_ws):
        r = await api.get(f"/v1/workers/{wid}/discrepancies", headers=who)
        assert r.status_code == 200, r.text
        assert {(d["field"], d["recorded"], d["declared"], d["workstation_id"]) for d in r.json()["items"]} == {
            ("name", body["name"], "冒名者", AWAY[0]), ("household_region", HOME[1], AWAY[1], AWAY[0])}

    # The stated rule: a workstation that sees a person only because it registered them sees the history of its
    # own registrations (and the current, masked state), not the person's life before; and it cannot reveal.
    mine = (await api.get(f"/v1/workers/{wid}/history", headers=away_ws)).json()["items"]
    assert [(h["type"], h["actor"]["org"]) for h in mine] == [("worker.registered", AWAY[0])]
    full = (await api.get(f"/v1/workers/{wid}/history", headers=home_bureau)).json()["items"]
    assert [h["actor"]["org"] for h in full] == [HOME[0], AWAY[0]]
    r = await api.post(f"/v1/workers/{wid}:reveal", json={"purpose": "核实身份信息"}, headers=away_ws)
    assert r.status_code == 404
    r = await api.post(f"/v1/workers/{wid}:reveal", json={"purpose": "核实身份信息"}, headers=home_bureau)
    assert r.status_code == 200 and r.json()["phone"] == "13911112222" and r.json()["birth_date"] == body["birth_date"]


async def test_household_region_changes_only_by_a_move_from_its_current_jurisdiction(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings
) -> None:
    wid, body = await _registered(api, pool, settings, 402)
    await _taken_over(api, pool, settings, body)
    home_ws = _as("workstation", *HOME, settings)

    r = await api.patch(f"/v1/workers/{wid}", json={"household_region": "460107"}, headers=home_ws)
    assert r.status_code == 422, r.text
    [err] = r.json()["detail"]
    assert err["loc"] == ["body", "household_region"] and "/v1/workers/{worker_id}/household" in err["msg"]
    r = await api.post("/v1/events:batch", headers=home_ws, json={"events": [
        {"type": "worker.updated", "payload": {"worker_id": wid, "household_region": "460107"}}]})
    assert r.json()["results"][0]["status"] == "rejected" and "household" in r.json()["results"][0]["reason"]

    move = {"household_region": "460107", "reason": "婚嫁迁入琼山区"}
    # Seeing the person is not jurisdiction over the household: the newcomer is refused, a stranger sees nothing.
    r = await api.post(f"/v1/workers/{wid}/household", json=move, headers=_as("workstation", *AWAY, settings))
    assert r.status_code == 403, r.text
    r = await api.post(f"/v1/workers/{wid}/household", json=move,
                       headers=_as("workstation", "ws-460108-01", "460108", settings))
    assert r.status_code == 404
    r = await api.post(f"/v1/workers/{wid}/household", json=move | {"household_region": HOME[1]}, headers=home_ws)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "household_region"]

    r = await api.post(f"/v1/workers/{wid}/household", json=move, headers=home_ws)
    assert r.status_code == 202, r.text
    assert (await wait_receipt(api, r.json()["event_id"]))["status"] == "applied"
    assert (await api.get(f"/v1/workers/{wid}")).json()["household_region"]["code"] == "460107"
    last = (await api.get(f"/v1/workers/{wid}/history")).json()["items"][-1]
    assert last["type"] == "worker.household_moved" and last["actor"]["org"] == HOME[0]
    assert last["changes"] == {"household_region": [HOME[1], "460107"], "reason": [None, move["reason"]]}
    # The county left behind no longer has jurisdiction; the workstation that registered her still sees her.
    assert (await api.get(f"/v1/workers/{wid}", headers=_as("bureau", "b-460106", "460106", settings))).status_code == 404
    assert (await api.get(f"/v1/workers/{wid}", headers=home_ws)).status_code == 200

    # The batch door: the same rule, now from the new region's bureau (the old one's is refused).
    item = {"type": "worker.household_moved", "payload": {"worker_id": wid, "household_region": "460108",
                                                          "reason": "投靠子女"}}
    r = await api.post("/v1/events:batch", json={"events": [item]}, headers=home_ws)
    assert r.json()["results"][0]["status"] == "rejected" and "jurisdiction" in r.json()["results"][0]["reason"]
    r = await api.post("/v1/events:batch", json={"events": [item]},
                       headers=_as("bureau", "b-460107", "460107", settings))
    result = r.json()["results"][0]
    assert result["status"] == "accepted", result
    assert (await wait_receipt(api, result["event_id"]))["status"] == "applied"
    assert (await api.get(f"/v1/workers/{wid}")).json()["household_region"]["code"] == "460108"


async def test_lookup_is_for_registering_roles_limited_and_audited(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings
) -> None:
    wid, body = await _registered(api, pool, settings, 403)
    number = body["id_number"]
    employer = _as("employer", "emp-a", "440300", settings)
    assert (await api.get("/v1/workers", params={"id_number": number}, headers=employer)).status_code == 403
    assert (await api.post("/v1/workers:lookup", json={"id_number": number}, headers=employer)).status_code == 403

    clerk = _as("workstation", *HOME, settings)
    r = await api.post("/v1/workers:lookup", json={"id_number": number}, headers=clerk)
    assert [w["worker_id"] for w in r.json()["items"]] == [wid]
    entries = await pool.fetch("SELECT action, org, worker_id, detail::text AS detail FROM audit_log "
                               "WHERE action = 'lookup' ORDER BY seq")
    assert [(e["action"], e["org"], e["worker_id"]) for e in entries] == [("lookup", HOME[0], wid)]
    assert number not in str([dict(e) for e in entries])

    statuses = [(await api.get("/v1/workers", params={"id_number": number}, headers=clerk)).status_code
                for _ in range(settings.lookup_burst)]
    assert statuses[-1] == 429 and statuses.count(200) == settings.lookup_burst - 1  # one was spent above
    other = _as("workstation", "ws-460106-02", HOME[1], settings)  # the budget is per credential
    assert (await api.post("/v1/workers:lookup", json={"id_number": number}, headers=other)).status_code == 200


async def test_every_roles_masked_view_leaves_at_least_1000_candidates(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings
) -> None:
    wid, body = await _registered(api, pool, settings, 404)
    r = await api.post("/v1/brands", json={"brand_id": "yesao", "name": "椰嫂", "region_code": "460000",
                                           "category": "service", "level": "provincial"})
    await wait_receipt(api, r.json()["event_id"])
    r = await api.post("/v1/dispatches", headers=_as("workstation", *HOME, settings), json={
        "organizer_id": HOME[0], "brand_id": "yesao", "mode": "direct_intake", "origin_region": HOME[1],
        "destination_region": "440300", "employer": {"employer_id": "emp-a", "name": "甲公司"},
        "departure_date": "2026-11-01", "worker_ids": [wid]})
    assert r.status_code == 202, r.text
    await wait_decided(pool, [r.json()["event_id"]])

    number, region = body["id_number"], body["household_region"]
    for role, org, where in (("workstation", *HOME), ("bureau", "bureau-460000", "460000"),
                             ("employer", "emp-a", "440300"), ("admin", "laowu-ops", None),
                             ("bureau", "bureau-440300", "440300")):  # the receiving bureau (输入地) of the placement
        who = _as(role, org, where, settings)
        views = {"record": (await api.get(f"/v1/workers/{wid}", headers=who)).json()}
        listed = (await api.get("/v1/workers", headers=who)).json()["items"]
        views["list"] = listed[0] if listed else {}
        if role != "employer":
            found = (await api.post("/v1/workers:lookup", json={"id_number": number}, headers=who)).json()["items"]
            views["lookup"] = found[0] if found else {}
        for name, view in views.items():
            assert view.get("worker_id") == wid, (org, name, view)
            assert count(view, region) >= 1000, (org, name, view)
            assert number not in str(view), (org, name)
            assert "birth_date" not in view and view["birth_month"] == body["birth_date"][:7], (org, name)
    # The receiving bureau sees the person it receives, masked: no reveal, no history but its own, no writes.
    receiving = _as("bureau", "bureau-440300", "440300", settings)
    assert (await api.post(f"/v1/workers/{wid}:reveal", json={"purpose": "核实身份信息"}, headers=receiving)
            ).status_code == 404
    assert (await api.get(f"/v1/workers/{wid}/history", headers=receiving)).json()["items"] == []
    r = await api.post(f"/v1/workers/{wid}/household", json={"household_region": "440305", "reason": "落户"},
                       headers=receiving)
    assert r.status_code == 403
    history = (await api.get(f"/v1/workers/{wid}/history")).json()["items"]
    assert all("birth_date" not in h["changes"] for h in history) and history[0]["changes"]["birth_month"][1]

    # The export is a masked view as well, from the same masking function.
    r = await api.get("/v1/export/workers.xlsx", headers=_as("bureau", "bureau-460000", "460000", settings))
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active.iter_rows(values_only=True))
    head, [row] = rows[0], rows[1:]
    exported = dict(zip(head, row, strict=True))
    assert "出生日期" not in exported and exported["出生年月"] == body["birth_date"][:7]
    view = {"id_number_masked": exported["身份证号(脱敏)"], "birth_month": exported["出生年月"],
            "sex": "M" if exported["性别"] == "男" else "F"}
    assert count(view, region) >= 1000
