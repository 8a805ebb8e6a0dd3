"""Organized-output events delivered twice, late, and out of order across batches end in the same ledger.

The same story is fed to two private worlds: once in the order it happened, once with every event twice,
follow-ups reversed, profile updates swapped, and placement events sent *before* their dispatch (they
travel on another topic, so a replay can deliver them first). The ledgers must be equal, row for row.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from laowu.domain.lifecycle import placement_id_for
from laowu.intake import Intake, PlacementRef
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.stack.kafka import TopicSpec, create_topics
from laowu.store import receipts
from laowu.store.ledger import LAST_FOLLOWUP_AT
from schemas import api as bodies
from schemas.envelope import Envelope
from schemas.topics import CATALOGUE, topic_for

from conftest import Infra, new_database, running_ledger
from helpers import person, wait_decided

pytestmark = [pytest.mark.services, pytest.mark.timeout(240)]
T0 = datetime(2026, 2, 1, 9, tzinfo=UTC)
EMP = "emp-replay"

TABLES = {
    "workers": "SELECT worker_id, name, household_region, brand_ids, state, current_placement_id, "
               f"{LAST_FOLLOWUP_AT}, field_times, version FROM workers w ORDER BY worker_id",
    "placements": "SELECT placement_id, worker_id, status, start_date, monthly_wage, end_date, end_reason, reject_reason, "
                  "first_followup_date, last_followup_date, version FROM placements ORDER BY placement_id",
    "followups": "SELECT followup_id, placement_id, date, problems FROM followups ORDER BY followup_id",
    "alerts": "SELECT alert_id, kind, raised_at, closed_at FROM alerts ORDER BY alert_id",
    "subsidies": "SELECT subsidy_id, kind, amount, rule_version, accrued_at FROM subsidies ORDER BY subsidy_id",
    "history": "SELECT worker_id, type, count(*) FROM worker_events GROUP BY 1, 2 ORDER BY 1, 2",
}


def story(settings: Settings) -> tuple[list[Envelope], list[Envelope]]:
    """(the events in the order they happened, the placement/follow-up subset for reordering)."""
    intake = Intake(Privacy(settings))
    at = lambda days: T0 + timedelta(days=days)  # noqa: E731
    out = [intake.register_brand(bodies.BrandCreate(brand_id="rp", name="热带新农人", region_code="460000",
                                                    category="agriculture", level="provincial", occurred_at=at(0)))]
    regs = [intake.register_worker(bodies.WorkerCreate.model_validate(
        person(2000 + n, region="469005") | {"brand_ids": ["rp"], "occurred_at": at(1),
                                             "priority_groups": ["relocated"] if n % 3 == 0 else []}))
        for n in range(8)]
    out += regs
    workers = [e.key for e in regs]
    dispatch = intake.create_dispatch(bodies.DispatchCreate(
        dispatch_id="rp-1", organizer_id="ws-469005-01", brand_id="rp", mode="cooperation", origin_region="469005",
        destination_region="440300", employer={"employer_id": EMP, "name": "农业公司"},  # type: ignore[arg-type]
        departure_date=date(2026, 2, 10), worker_ids=workers, occurred_at=at(9)), workers)
    out.append(dispatch)
    later: list[Envelope] = []
    for n, w in enumerate(workers):
        ref = PlacementRef(placement_id_for("rp-1", w), w, EMP)
        if n == 7:
            later.append(intake.reject_placement(ref, bodies.PlacementReject(employer_id=EMP, reason="未到岗",
                                                                             occurred_at=at(11))))
            continue
        later.append(intake.confirm_placement(ref, bodies.PlacementConfirm(
            employer_id=EMP, position="种植", start_date=date(2026, 2, 12), monthly_wage="4800", contract=True,
            occurred_at=at(11))))
        visits = [(20, ["wage_arrears"] if n == 0 else []), (40, []), (60, ["injury"] if n == 1 else [])]
        for k, (day, problems) in enumerate(visits):
            later.append(intake.record_followup(ref, bodies.FollowUpCreate(
                followup_id=f"fu-{n}-{k}", placement_id=ref.placement_id, date=date(2026, 2, 12) + timedelta(days=day),
                channel="phone", employment_status="on_job", problems=problems, occurred_at=at(11 + day))))
        if n in (2, 3):
            later.append(intake.end_placement(ref, bodies.PlacementEnd(
                end_date=date(2026, 2, 12) + timedelta(days=15 if n == 2 else 70), reason="resigned",
                occurred_at=at(11 + (15 if n == 2 else 70)))))
    updates = [intake.update_worker(workers[4], bodies.WorkerPatch(name="新名", occurred_at=at(30))),
               intake.update_worker(workers[4], bodies.WorkerPatch(name="旧名", occurred_at=at(20))),
               intake.move_household(workers[4], bodies.HouseholdMove(household_region="469006", reason="投靠子女",
                                                                      occurred_at=at(20)), "469005")]
    return out + later + updates, later


async def world(infra: Infra, settings: Settings) -> Settings:
    other = Settings(**{**settings.model_dump(), "database_url": await new_database(infra),
                        "topic_prefix": f"t{uuid.uuid4().hex[:10]}.", "consumer_batch_max": 3})
    await create_topics(infra.bootstrap, [TopicSpec(other.topic(t.name), t.partitions, t.kafka_config()) for t in CATALOGUE])
    return other


async def feed(settings: Settings, envelopes: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for e in envelopes:  # one by one: the order on each partition is the order given here
            await producer.send_and_wait(settings.topic(topic_for(e.type).name), e.to_bytes(), key=e.key.encode())
    finally:
        await producer.stop()


async def ledger_of(settings: Settings, envelopes: list[Envelope]) -> dict[str, Any]:
    assert settings.database_url
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        async with running_ledger(settings):
            try:
                decided = await wait_decided(pool, [str(e.event_id) for e in envelopes], timeout=60)
            except AssertionError:
                waiting = await pool.fetch("SELECT waits_for, envelope->>'type' AS t FROM deferred_events ORDER BY seq")
                got = set(await receipts.outcomes(pool, [e.event_id for e in envelopes]))
                missing = sorted({e.type for e in envelopes if str(e.event_id) not in got})
                raise AssertionError(f"still waiting: {[tuple(r) for r in waiting]}; missing {missing}; "
                                     f"prefix {settings.topic_prefix}") from None
        assert await pool.fetchval("SELECT count(*) FROM deferred_events") == 0
        return {"receipts": sorted((k, v["status"], v["reason"]) for k, v in decided.items())} | {
            name: [tuple(r) for r in await pool.fetch(sql)] for name, sql in TABLES.items()}
    finally:
        await pool.close()


async def test_duplicates_late_and_out_of_order_end_in_the_same_ledger(infra: Infra, settings: Settings) -> None:
    events, later = story(settings)
    in_order = await world(infra, settings)
    await feed(in_order, events)

    shuffled = await world(infra, settings)
    followups = [e for e in later if e.type == "followup.recorded"]
    others = [e for e in events if e not in followups]
    placement_first = [e for e in others if e.type.startswith("placement.")]
    rest = [e for e in others if not e.type.startswith("placement.")]
    messy = placement_first + rest + followups[::-1]  # confirmations before their dispatch, follow-ups reversed
    swap = [e for e in messy if e.type == "worker.updated"]  # and the two profile updates swapped
    messy = [e for e in messy if e.type != "worker.updated"] + swap[::-1]
    await feed(shuffled, messy + messy[::3])  # and a third of everything again

    a, b = await asyncio.gather(ledger_of(in_order, events), ledger_of(shuffled, events))
    assert {(s, r) for _, s, r in a["receipts"]} == {("applied", None)}
    for name in ("receipts", *TABLES):
        assert a[name] == b[name], name
    assert len(a["placements"]) == 8 and len(a["followups"]) == 21
    assert {r[1] for r in a["alerts"]} == {"wage_arrears", "injury", "early_separation"}
