"""Read-your-writes (issue 17): a 202 is a promise a client may build on at once.

The ledger is not running while the requests are made, so every write names things that are accepted and not
applied yet; it starts only once every request was answered, and then everything must apply.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from laowu.domain.lifecycle import placement_id_for
from laowu.intake import Context, Intake, PlacementRef
from laowu.privacy import Privacy
from laowu.publish import PARTITIONER
from laowu.settings import Settings
from schemas.api import PlacementConfirm
from schemas.common import Actor
from schemas.topics import BRANDS

from conftest import running_ledger
from helpers import bearer, person, wait_decided

pytestmark = pytest.mark.services

WS = "ws-469005-01"
WORKSTATION = bearer("workstation", WS, "469005")
BUREAU = bearer("bureau", "hrss-460000", "460000")
EMPLOYER = {"employer_id": "emp-sz-build", "name": "深圳某建筑公司", "uscc": "91440300708461136T"}
EMPLOYER_AUTH = bearer("employer", "emp-sz-build", "440300")
D0 = date.today() - timedelta(days=30)


def brand(brand_id: str, **extra: Any) -> dict[str, Any]:
    return {"brand_id": brand_id, "name": f"品牌{brand_id}", "region_code": "460000", "category": "skilled",
            "level": "provincial"} | extra


def dispatch(dispatch_id: str, brand_id: str, workers: list[str]) -> dict[str, Any]:
    return {"dispatch_id": dispatch_id, "organizer_id": WS, "brand_id": brand_id, "mode": "directed_interregional",
            "origin_region": "469005", "destination_region": "440300", "employer": EMPLOYER,
            "positions": ["钢筋工"], "departure_date": D0.isoformat(), "worker_ids": workers}


CONFIRM = {"employer_id": EMPLOYER["employer_id"], "position": "钢筋工", "start_date": (D0 + timedelta(days=2)).isoformat(),
           "monthly_wage": "7800.00", "contract": True, "contract_months": 12}


def followup(placement_id: str) -> dict[str, Any]:
    return {"placement_id": placement_id, "date": (D0 + timedelta(days=20)).isoformat(), "channel": "phone",
            "employment_status": "on_job", "monthly_wage": "7800", "satisfaction": 4}


def accepted(r: httpx.Response) -> str:
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "accepted"
    return str(r.json()["event_id"])


def batch_accepted(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["accepted"] * len(results), results
    return [str(x["event_id"]) for x in results]


async def applied(settings: Settings, pool: asyncpg.Pool, ids: list[str]) -> None:
    """Start the ledger only now, and wait until every receipt says ``applied``."""
    async with running_ledger(settings):
        decided = await wait_decided(pool, ids)
    assert {i: d["status"] for i, d in decided.items()} == dict.fromkeys(decided, "applied"), decided


async def assert_story(api: httpx.AsyncClient, workers: list[str], placements: dict[str, str], brand_id: str) -> None:
    assert (await api.get(f"/v1/brands/{brand_id}")).json()["status"] == "candidate"
    for w in workers:
        got = (await api.get(f"/v1/workers/{w}")).json()
        assert got["brand_ids"] == [brand_id]
        assert got["state"] == "placed" and got["current_placement_id"] == placements[w]
        assert got["last_followup_at"] == (D0 + timedelta(days=20)).isoformat()
        assert (await api.get(f"/v1/placements/{placements[w]}")).json()["status"] == "confirmed"


async def test_one_request_after_another(api: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool) -> None:
    """The must-show story: brand, members, dispatch, confirmation, follow-up — each at once, every one 202."""
    ids = [accepted(await api.post("/v1/brands", json=brand("ryw-a"), headers=BUREAU))]
    workers = []
    for n in range(3):
        r = await api.post("/v1/workers", json=person(300 + n, region="469005") | {"brand_ids": ["ryw-a"]},
                           headers=WORKSTATION)
        ids.append(accepted(r))
        workers.append(r.json()["worker_id"])
    # A member's certificate, by the organization that registered them, before the registration is applied.
    ids.append(accepted(await api.post(f"/v1/workers/{workers[0]}/certificates", json={
        "kind": "special_operation", "name": "焊工"}, headers=WORKSTATION)))
    r = await api.post("/v1/dispatches", json=dispatch("dsp-ryw-a", "ryw-a", workers), headers=WORKSTATION)
    ids.append(accepted(r))
    assert r.json()["rejected"] == []
    placements = {p["worker_id"]: p["placement_id"] for p in r.json()["placements"]}
    for w in workers:
        ids.append(accepted(await api.post(f"/v1/placements/{placements[w]}/confirm", json=CONFIRM,
                                           headers=EMPLOYER_AUTH)))
        ids.append(accepted(await api.post("/v1/followups", json=followup(placements[w]), headers=WORKSTATION)))
    assert await pool.fetchval("SELECT count(*) FROM workers") == 0  # nothing was applied meanwhile

    await applied(settings, pool, ids)
    await assert_story(api, workers, placements, "ryw-a")
    assert [c["name"] for c in (await api.get(f"/v1/workers/{workers[0]}")).json()["certificates"]] == ["焊工"]


async def test_inside_one_batch(api: httpx.AsyncClient, settings: Settings, pool: asyncpg.Pool) -> None:
    """The same through ``/v1/events:batch``: a brand, its members and their dispatch in one batch; a
    workstation's batch of more members of that (still pending) brand and their dispatch right after; then the
    employer's confirmations and the workstation's follow-ups, naming placements of dispatches not applied yet."""
    privacy = Privacy(settings)
    members = [person(400 + n, region="469005") | {"brand_ids": ["ryw-b"]} for n in range(3)]
    more = [person(500 + n, region="469005") | {"brand_ids": ["ryw-b"]} for n in range(2)]
    first = [privacy.worker_id(b["id_number"]) for b in members]
    fresh = [privacy.worker_id(b["id_number"]) for b in more]
    ids = batch_accepted(await api.post("/v1/events:batch", json={"events": [
        {"type": "brand.registered", "payload": brand("ryw-b")},
        *({"type": "worker.registered", "payload": b} for b in members),
        {"type": "dispatch.created", "payload": dispatch("dsp-ryw-b", "ryw-b", first)},
    ]}))
    ids += batch_accepted(await api.post("/v1/events:batch", json={"events": [
        *({"type": "worker.registered", "payload": b} for b in more),
        {"type": "dispatch.created", "payload": dispatch("dsp-ryw-b2", "ryw-b", fresh)},
    ]}, headers=WORKSTATION))
    placements = {w: placement_id_for("dsp-ryw-b", w) for w in first} | {
        w: placement_id_for("dsp-ryw-b2", w) for w in fresh}
    everyone = first + fresh
    ids += batch_accepted(await api.post("/v1/events:batch", json={"events": [
        {"type": "placement.confirmed", "payload": CONFIRM | {"placement_id": placements[w]}} for w in everyone]},
        headers=EMPLOYER_AUTH))
    ids += batch_accepted(await api.post("/v1/events:batch", json={"events": [
        {"type": "followup.recorded", "payload": followup(placements[w])} for w in everyone]}, headers=WORKSTATION))
    assert await pool.fetchval("SELECT count(*) FROM workers") == 0  # nothing was applied meanwhile

    await applied(settings, pool, ids)
    await assert_story(api, everyone, placements, "ryw-b")


async def test_never_accepted_is_refused_at_once(api: httpx.AsyncClient, settings: Settings) -> None:
    """What was never accepted is refused as before, and another organization does not see a pending worker."""
    r = await api.post("/v1/workers", json=person(600, region="469005") | {"brand_ids": ["no-such-brand"]},
                       headers=WORKSTATION)
    assert r.status_code == 409 and "unknown brand no-such-brand" in r.text
    ids = [accepted(await api.post("/v1/brands", json=brand("ryw-c"), headers=BUREAU))]
    r = await api.post("/v1/workers", json=person(601, region="469005") | {"brand_ids": ["ryw-c"]}, headers=WORKSTATION)
    pending = r.json()["worker_id"]
    ids.append(accepted(r))
    r = await api.post("/v1/dispatches", json=dispatch("dsp-ryw-c", "no-such-brand", [pending]), headers=WORKSTATION)
    assert r.status_code == 409 and "unknown brand" in r.text
    never = "w" + "0" * 24
    r = await api.post("/v1/dispatches", json=dispatch("dsp-ryw-c", "ryw-c", [never]), headers=WORKSTATION)
    assert r.status_code == 409 and "unknown worker" in r.text
    # Another workstation of the same county: the pending registration is not its own.
    other = bearer("workstation", "ws-469005-02", "469005")
    r = await api.post("/v1/dispatches", json=dispatch("dsp-ryw-c", "ryw-c", [pending]) | {"organizer_id": "ws-469005-02"},
                       headers=other)
    assert r.status_code == 409 and "unknown worker" in r.text
    assert (await api.post(f"/v1/workers/{pending}/certificates", json={"kind": "special_operation", "name": "焊工"},
                           headers=other)).status_code == 404
    r = await api.post("/v1/events:batch", json={"events": [
        {"type": "worker.certificate_added", "payload": {"worker_id": pending, "kind": "special_operation", "name": "焊工"}},
        {"type": "dispatch.created", "payload": dispatch("dsp-ryw-c2", "no-such-brand", [pending])},
    ]}, headers=other)
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "rejected"], r.text
    never_placement = placement_id_for("dsp-never", pending)
    assert (await api.post(f"/v1/placements/{never_placement}/confirm", json=CONFIRM,
                           headers=EMPLOYER_AUTH)).status_code == 404
    assert (await api.post("/v1/followups", json=followup(never_placement), headers=WORKSTATION)).status_code == 404
    # A placement of an accepted dispatch is its employer's and organizer's, not another employer's.
    r = await api.post("/v1/dispatches", json=dispatch("dsp-ryw-c3", "ryw-c", [pending]), headers=WORKSTATION)
    ids.append(accepted(r))
    pid = r.json()["placements"][0]["placement_id"]
    stranger = bearer("employer", "emp-other", "440300")
    assert (await api.post(f"/v1/placements/{pid}/confirm", json=CONFIRM | {"employer_id": "emp-other"},
                           headers=stranger)).status_code == 404
    assert (await api.post("/v1/followups", json=followup(pid), headers=other)).status_code == 404


def same_partition(brand_id: str) -> str:
    """Another brand id on the same partition of the brands topic, so the two brands' events keep their order."""
    def part(b: str) -> int:
        return PARTITIONER(b.encode(), list(range(BRANDS.partitions)), list(range(BRANDS.partitions)))
    return next(f"{brand_id}-{n}" for n in range(100) if part(f"{brand_id}-{n}") == part(brand_id))


async def test_accepted_then_rejected_ends_rejected(api: httpx.AsyncClient, settings: Settings,
                                                   pool: asyncpg.Pool) -> None:
    """What waits for a registration the ledger rejects is rejected with the reason, not deferred for ever; and
    once rejected, naming it is refused at once again."""
    long_ago = datetime.now(UTC) - timedelta(days=2)
    setup = [accepted(await api.post("/v1/brands", json=brand("ryw-d", occurred_at=long_ago.isoformat()),
                                     headers=BUREAU)),
             accepted(await api.post("/v1/brands", json=brand("ryw-e"), headers=BUREAU))]
    async with running_ledger(settings):
        await wait_decided(pool, setup)
    # With the ledger stopped: ryw-d is suspended (dated before what follows), then a brand on the same partition is
    # registered, and a member of both. The API still sees ryw-d open, so it takes the member; the ledger applies the
    # suspension first, and the member (waiting for the new brand) is then rejected: a suspended brand takes none.
    suspension = accepted(await api.post("/v1/brands/ryw-d/status", json={
        "status": "suspended", "reason": "整改", "occurred_at": (long_ago + timedelta(hours=1)).isoformat()},
        headers=BUREAU))
    later = same_partition("ryw-d")
    registered = accepted(await api.post("/v1/brands", json=brand(later), headers=BUREAU))
    r = await api.post("/v1/workers", json=person(700, region="469005") | {"brand_ids": ["ryw-d", later]},
                       headers=WORKSTATION)
    doomed_registration = accepted(r)
    doomed = r.json()["worker_id"]
    certificate = accepted(await api.post(f"/v1/workers/{doomed}/certificates", json={
        "kind": "special_operation", "name": "焊工"}, headers=WORKSTATION))
    r = await api.post("/v1/dispatches", json=dispatch("dsp-ryw-d", "ryw-e", [doomed]), headers=WORKSTATION)
    dispatched = accepted(r)
    pid = r.json()["placements"][0]["placement_id"]
    confirmation = accepted(await api.post(f"/v1/placements/{pid}/confirm", json=CONFIRM, headers=EMPLOYER_AUTH))
    report = accepted(await api.post("/v1/followups", json=followup(pid), headers=WORKSTATION))

    async with running_ledger(settings):
        decided = await wait_decided(pool, [suspension, registered, doomed_registration, certificate, dispatched,
                                            confirmation, report], timeout=30)
    assert decided[suspension]["status"] == decided[registered]["status"] == "applied"
    assert decided[doomed_registration]["status"] == "rejected"
    assert "ryw-d is suspended" in decided[doomed_registration]["reason"]
    for waiter in (certificate, dispatched):
        assert decided[waiter]["status"] == "rejected", decided[waiter]
        assert f"worker {doomed}'s registration was refused" in decided[waiter]["reason"]
    for waiter in (confirmation, report):
        assert decided[waiter]["status"] == "rejected", decided[waiter]
        assert "registration was refused" in decided[waiter]["reason"]
    assert await pool.fetchval("SELECT count(*) FROM deferred_events") == 0
    assert await pool.fetchval("SELECT count(*) FROM accepted_placements") == 0
    # No longer pending: naming it now is refused at once, as for what was never accepted.
    r = await api.post("/v1/dispatches", json=dispatch("dsp-ryw-d2", "ryw-e", [doomed]), headers=WORKSTATION)
    assert r.status_code == 409 and "unknown worker" in r.text
    assert (await api.post(f"/v1/workers/{doomed}/certificates", json={"kind": "special_operation", "name": "焊工"},
                           headers=WORKSTATION)).status_code == 404
    assert (await api.post(f"/v1/placements/{pid}/confirm", json=CONFIRM, headers=EMPLOYER_AUTH)).status_code == 404


async def test_followup_does_not_overtake_a_deferred_confirmation(api: httpx.AsyncClient, settings: Settings,
                                                                 pool: asyncpg.Pool, ledger: Any) -> None:
    """A placement's confirmation and follow-up travel in order on the worker's partition, and both wait for the
    dispatch together. But with two ledger replicas, the confirmation may be deferred by one just after the other
    applied the dispatch (it then waits for the repair, seconds later): the follow-up behind it must wait too,
    not be refused as "not confirmed yet"."""
    setup = [accepted(await api.post("/v1/brands", json=brand("ryw-f"), headers=BUREAU))]
    r = await api.post("/v1/workers", json=person(800, region="469005") | {"brand_ids": ["ryw-f"]}, headers=WORKSTATION)
    setup.append(accepted(r))
    wid = r.json()["worker_id"]
    r = await api.post("/v1/dispatches", json=dispatch("dsp-ryw-f", "ryw-f", [wid]), headers=WORKSTATION)
    setup.append(accepted(r))
    pid = r.json()["placements"][0]["placement_id"]
    await wait_decided(pool, setup)
    # The confirmation a replica deferred after losing that race, as it left it (and as the API accepted it).
    confirmation = Intake(Privacy(settings)).confirm_placement(
        PlacementRef(pid, wid, EMPLOYER["employer_id"]), PlacementConfirm.model_validate(CONFIRM),
        Context(actor=Actor(role="employer", org=EMPLOYER["employer_id"], region="440300")))
    await pool.execute("INSERT INTO event_receipts (event_id, type, status, source, entity_id) "
                       "VALUES ($1, 'placement.confirmed', 'accepted', $2, $3)", confirmation.event_id,
                       confirmation.source, wid)
    await pool.execute("INSERT INTO deferred_events (event_id, waits_for, envelope) VALUES ($1, $2, $3)",
                       confirmation.event_id, f"placement:{pid}", json.loads(confirmation.to_bytes()))
    report = accepted(await api.post("/v1/followups", json=followup(pid), headers=WORKSTATION))
    decided = await wait_decided(pool, [str(confirmation.event_id), report], timeout=20)
    assert [d["status"] for d in decided.values()] == ["applied", "applied"], decided
    assert (await api.get(f"/v1/placements/{pid}")).json()["status"] == "confirmed"
