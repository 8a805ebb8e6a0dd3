"""A client-chosen event id belongs to the credential that chose it: another organisation cannot pre-empt it."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from laowu.settings import Settings

from helpers import bearer, person, wait_decided, wait_receipt

pytestmark = pytest.mark.services


def _item(body: dict, event_id: uuid.UUID | None = None) -> dict:
    item: dict = {"type": "worker.registered", "payload": body}
    if event_id is not None:
        item["event_id"] = str(event_id)
    return item


async def test_an_event_id_chosen_by_one_workstation_does_not_swallow_anothers_write(
        api: httpx.AsyncClient, ledger: object, settings: Settings) -> None:
    chosen = uuid.uuid4()
    mine, theirs = person(301), person(302)
    attacker = bearer("workstation", mine["workstation_id"], mine["household_region"], settings=settings)
    victim = bearer("workstation", theirs["workstation_id"], theirs["household_region"], settings=settings)

    first = await api.post("/v1/events:batch", json={"events": [_item(mine, chosen)]}, headers=attacker)
    assert first.status_code == 200 and first.json()["results"][0]["status"] == "accepted", first.text
    # the victim's terminal happened to choose (or the attacker learnt) the same id
    second = await api.post("/v1/events:batch", json={"events": [_item(theirs, chosen)]}, headers=victim)
    assert second.status_code == 200 and second.json()["results"][0]["status"] == "accepted", second.text

    stored = [first.json()["results"][0]["event_id"], second.json()["results"][0]["event_id"]]
    async with asyncpg.create_pool(settings.database_url, min_size=1, max_size=2) as pool:
        decided = await wait_decided(pool, stored)
    assert {r["status"] for r in decided.values()} == {"applied"}
    seen = await api.get(f"/v1/workers/{second.json()['results'][0]['worker_id']}", headers=victim)
    assert seen.status_code == 200, "the victim's registration vanished as a duplicate of the attacker's"
    assert stored[0] != stored[1]

    # each sender finds its receipt by the id it chose, and not the other's
    for headers, own in ((attacker, stored[0]), (victim, stored[1])):
        receipt = await wait_receipt(WithCredential(api, headers), str(chosen))
        assert receipt["status"] == "applied"
        assert receipt["event_id"] == own


async def test_a_retry_with_the_same_chosen_id_is_still_one_event(
        api: httpx.AsyncClient, ledger: object, settings: Settings) -> None:
    chosen = uuid.uuid4()
    body = person(303)
    clerk = bearer("workstation", body["workstation_id"], body["household_region"], settings=settings)
    answers = [await api.post("/v1/events:batch", json={"events": [_item(body, chosen)]}, headers=clerk) for _ in range(2)]
    ids = {a.json()["results"][0]["event_id"] for a in answers}
    assert len(ids) == 1


async def test_an_id_derived_from_another_credentials_idempotency_key_cannot_be_taken(
        api: httpx.AsyncClient, ledger: object, settings: Settings) -> None:
    """Idempotency-derived ids come from a namespace in the code: anyone can compute them. Sending one as a chosen
    id must not pre-empt the write it would have named."""
    from api.writes import event_id_for

    victim_body, attacker_body = person(304), person(305)
    victim = bearer("workstation", victim_body["workstation_id"], victim_body["household_region"], settings=settings)
    attacker = bearer("workstation", attacker_body["workstation_id"], attacker_body["household_region"], settings=settings)
    predicted = event_id_for(f"workstation:{victim_body['workstation_id']}", "sync-2026-12-04", 0)
    r = await api.post("/v1/events:batch", json={"events": [_item(attacker_body, predicted)]}, headers=attacker)
    assert r.json()["results"][0]["status"] == "accepted"
    r = await api.post("/v1/events:batch", json={"events": [_item(victim_body)]},
                       headers=victim | {"Idempotency-Key": "sync-2026-12-04"})
    result = r.json()["results"][0]
    assert result["status"] == "accepted"
    async with asyncpg.create_pool(settings.database_url, min_size=1, max_size=2) as pool:
        decided = await wait_decided(pool, [result["event_id"]])
    assert decided[result["event_id"]]["status"] == "applied"
    assert (await api.get(f"/v1/workers/{result['worker_id']}", headers=victim)).status_code == 200


class WithCredential:
    """The shared client with another credential, for helpers that take a client."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    async def get(self, url: str) -> httpx.Response:
        return await self.client.get(url, headers=self.headers)
