"""The load generator, without services: determinism, proportions, and every registration valid per Intake."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from laowu.domain.identity import parse_id_number
from laowu.domain.lifecycle import placement_id_for
from laowu.intake import Intake, InvalidRequest
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.simulate import Generator, KafkaEncoder, SimConfig, validate_registration
from laowu.store.scope import region_prefix
from schemas.envelope import Envelope

ANCHOR = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def privacy() -> Privacy:
    return Privacy(Settings(env="test"))


def make(privacy: Privacy, seed: int = 7, workers: int = 4_500, total: int = 12_000, lag: int = 400) -> Generator:
    return Generator(SimConfig(workers=workers, seed=seed, total=total, lag=lag, anchor=ANCHOR), privacy.worker_id)


@pytest.fixture(scope="module")
def stream(privacy: Privacy) -> tuple[Generator, list]:
    gen = make(privacy)
    return gen, gen.take(12_000)


def test_same_seed_same_stream(privacy: Privacy, stream: tuple[Generator, list]) -> None:
    _, events = stream
    again = make(privacy).take(3_000)
    assert [(e.event_id, e.type, e.payload, e.sender) for e in again] == \
        [(e.event_id, e.type, e.payload, e.sender) for e in events[:3_000]]
    other = make(privacy, seed=8).take(3_000)
    assert [e.payload for e in other] != [e.payload for e in events[:3_000]]
    assert len({e.event_id for e in events}) == len(events)


def test_brands_from_the_seeds_come_first(stream: tuple[Generator, list]) -> None:
    _, events = stream
    brands = [e.payload for e in events[:8]]
    assert all(e.type == "brand.registered" for e in events[:8])
    names = {b["name"] for b in brands}
    assert {"文昌鸡师傅", "三亚船长", "椰嫂", "琼筑劳务", "热带新农人", "海南粽师"} <= names
    assert {b["region_code"][:2] for b in brands} == {"46", "50"}
    assert next(b for b in brands if b["name"] == "文昌鸡师傅")["region_code"] == "469005"


def test_proportions_are_plausible(stream: tuple[Generator, list]) -> None:
    gen, events = stream
    kinds = Counter(e.type for e in events)
    n = len(events)
    assert 0.25 < kinds["worker.registered"] / n < 0.36
    regs = [e for e in events if e.type == "worker.registered" and not e.malformed]
    assert 0.03 < sum(e.duplicate for e in regs) / len(regs) < 0.07
    decided = kinds["placement.confirmed"] + kinds["placement.rejected"]
    assert 0.86 < kinds["placement.confirmed"] / decided < 0.94
    assert kinds["followup.recorded"] > 0 and kinds["placement.ended"] > 0
    people = {e.payload["id_number"]: e.payload for e in regs}
    priority = sum(1 for p in people.values() if p["priority_groups"]) / len(people)
    assert 0.20 < priority < 0.30
    assert 0 < sum(e.malformed for e in events) < n * 0.003
    groups = [len(e.payload["worker_ids"]) for e in events if e.type == "dispatch.created"]
    assert groups and min(groups) >= 5 and max(groups) <= 30
    hainan = sum(1 for p in people.values() if p["household_region"].startswith("46"))
    assert hainan / len(people) > 0.6
    assert gen.summary()["people"] == len(people)


def test_every_registration_is_valid_per_intake(privacy: Privacy, stream: tuple[Generator, list]) -> None:
    _, events = stream
    intake = Intake(privacy)
    regs = [e for e in events if e.type == "worker.registered"]
    for e in regs:
        if e.malformed:
            with pytest.raises(InvalidRequest):
                validate_registration(intake, e)
        else:
            validate_registration(intake, e)
            info = parse_id_number(e.payload["id_number"])
            assert info.sex == e.payload["sex"] and info.birth_date.isoformat() == e.payload["birth_date"]
            assert info.region_code == e.payload["household_region"]
            # the sending workstation's jurisdiction covers the person (API scoping rule)
            role, org, region = e.sender
            assert role == "workstation" and org == e.payload["workstation_id"]
            assert region is not None and e.payload["household_region"].startswith(region_prefix(region))


def test_events_come_after_what_they_need(stream: tuple[Generator, list]) -> None:
    _, events = stream
    lag = 400
    registered: dict[str, int] = {}
    placements: dict[str, int] = {}
    for i, e in enumerate(events):
        p = e.payload
        if e.type == "worker.registered" and not e.malformed and not e.duplicate:
            registered.setdefault(p["id_number"], i)
        if e.type == "dispatch.created":
            for wid in p["worker_ids"]:
                placements[placement_id_for(p["dispatch_id"], wid)] = i
        if e.type.startswith("placement.") or e.type == "followup.recorded":
            assert p["placement_id"] in placements, "a placement event before its dispatch"
            if e.type in ("placement.confirmed", "placement.rejected"):
                assert i - placements[p["placement_id"]] >= lag * 0.9
        if "occurred_at" in p:
            assert datetime.fromisoformat(p["occurred_at"]) < ANCHOR


def test_occurred_at_spreads_over_months(stream: tuple[Generator, list]) -> None:
    _, events = stream
    times = [datetime.fromisoformat(e.payload["occurred_at"]) for e in events if e.type == "worker.registered"]
    assert (max(times) - min(times)).days > 90


def test_kafka_encoding_matches_the_api(privacy: Privacy, stream: tuple[Generator, list]) -> None:
    _, events = stream
    enc = KafkaEncoder(Intake(privacy), lambda name: "t." + name)
    seen = Counter()
    for e in events[:3_000]:
        topic, key, value, expect = enc.encode(e)
        if e.malformed:
            seen["malformed"] += 1
            continue
        env = Envelope.from_bytes(value)
        assert expect and env.event_id == e.event_id and env.key.encode() == key
        assert topic.startswith("t.laowu.")
        if env.type == "worker.registered":
            raw = json.loads(value)["payload"]
            assert "id_number" not in raw and raw["id_number_enc"].startswith("enc1:")
            assert privacy.cipher.decrypt(raw["id_number_enc"], "id_number") == e.payload["id_number"]
            assert env.actor is not None and env.actor.org == e.payload["workstation_id"]
        seen[env.type] += 1
    assert seen["dispatch.created"] and seen["placement.confirmed"]


def test_dispatch_only_mode(privacy: Privacy) -> None:
    gen = Generator(SimConfig(workers=600, seed=3, total=5_000, lag=100, anchor=ANCHOR, registration_share=1.0),
                    privacy.worker_id)
    gen.fillers = False
    prelude = gen.take(614)
    assert Counter(e.type for e in prelude)["worker.registered"] == 600
    gen.registrations = False
    rest = gen.take(2_000)
    assert rest and {e.type for e in rest} <= {"dispatch.created", "placement.confirmed", "placement.rejected",
                                              "placement.ended", "followup.recorded"}
