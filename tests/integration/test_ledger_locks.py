"""What the ledger consumer locks: a brand that another transaction holds (a replica applying its status change)
must not stop registrations that only name it. With every brand locked, the two replicas of `make bench`
queued behind each other's transactions on every batch. Nor may a worker another replica is dispatching stop
that worker's follow-up, which only adds to the history."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from laowu.domain.lifecycle import placement_id_for
from laowu.intake import Intake, PlacementRef
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.store import queries
from laowu.store.scope import SYSTEM
from schemas.api import BrandCreate, DispatchCreate, FollowUpCreate, PlacementConfirm, WorkerCreate

from conftest import running_ledger
from helpers import person, produce, wait_decided

pytestmark = pytest.mark.services


async def test_a_locked_brand_does_not_hold_up_its_members(settings: Settings, pool: asyncpg.Pool) -> None:
    intake = Intake(Privacy(settings))
    brand = intake.register_brand(BrandCreate(brand_id="yesao", name="椰嫂", region_code="460000",
                                              category="service", level="provincial"))
    members = [intake.register_worker(WorkerCreate.model_validate(person(n) | {"brand_ids": ["yesao"]}))
               for n in range(3)]
    async with running_ledger(settings):
        await produce(settings, [brand])
        assert (await wait_decided(pool, [str(brand.event_id)]))[str(brand.event_id)]["status"] == "applied"
        async with pool.acquire() as other, other.transaction():
            await other.execute("SELECT 1 FROM brands WHERE brand_id = 'yesao' FOR UPDATE")
            await produce(settings, members)
            decided = await wait_decided(pool, [str(e.event_id) for e in members], timeout=15)
        assert {d["status"] for d in decided.values()} == {"applied"}
    rows = await pool.fetch("SELECT brand_ids FROM workers")
    assert [list(r["brand_ids"]) for r in rows] == [["yesao"]] * 3


def _people_and_dispatch(intake: Intake, dispatch_id: str, organizer: str, employer: str, first: int
                         ) -> tuple[list[Any], Any]:
    brand = intake.register_brand(BrandCreate(brand_id=f"b-{dispatch_id}", name="椰嫂", region_code="469005",
                                              category="service", level="county"))
    regs = [brand] + [intake.register_worker(WorkerCreate.model_validate(person(first + n, region="469005")))
                      for n in range(2)]
    workers = [e.key for e in regs[1:]]
    dispatch = intake.create_dispatch(DispatchCreate(
        dispatch_id=dispatch_id, organizer_id=organizer, brand_id=f"b-{dispatch_id}", mode="cooperation", origin_region="469005",
        destination_region="440300", employer={"employer_id": employer, "name": "农业公司"},  # type: ignore[arg-type]
        departure_date=date(2026, 12, 20), worker_ids=workers), workers)
    return regs, dispatch


async def test_an_organization_a_dispatch_only_names_is_not_locked(settings: Settings, pool: asyncpg.Pool) -> None:
    """Every dispatch names the same few organizers and employers: the replicas must not queue on them."""
    intake = Intake(Privacy(settings))
    regs, first = _people_and_dispatch(intake, "lk-1", "ws-469005-01", "emp-lk", 300)
    more, second = _people_and_dispatch(intake, "lk-2", "ws-469005-01", "emp-lk", 310)
    async with running_ledger(settings):
        await produce(settings, [*regs, *more, first])
        assert {d["status"] for d in (await wait_decided(pool, [str(first.event_id)])).values()} == {"applied"}
        async with pool.acquire() as other, other.transaction():
            await other.execute("SELECT 1 FROM organizations WHERE org_id IN ('ws-469005-01', 'emp-lk') FOR UPDATE")
            await produce(settings, [second])
            decided = await wait_decided(pool, [str(second.event_id)], timeout=15)
        assert decided[str(second.event_id)]["status"] == "applied"


async def test_an_organization_a_batch_creates_is_created_once(settings: Settings, pool: asyncpg.Pool) -> None:
    """A first use and a registration of the same organization, by two replicas at once, must not both create it:
    the right to create it is taken (a transaction-scoped advisory lock) before the registry is read again."""
    intake = Intake(Privacy(settings))
    regs, dispatch = _people_and_dispatch(intake, "lk-3", "ws-469005-02", "emp-new", 320)
    async with running_ledger(settings):
        await produce(settings, regs)
        await wait_decided(pool, [str(e.event_id) for e in regs])
        async with pool.acquire() as other:
            async with other.transaction():
                await other.execute("SELECT pg_advisory_xact_lock(hashtextextended('organization:emp-new', 0))")
                await produce(settings, [dispatch])
                await asyncio.sleep(2)
                held = await pool.fetchval("SELECT status FROM event_receipts WHERE event_id = $1", dispatch.event_id)
                assert held is None, "the dispatch created its employer while another transaction held the right"
                # What the other replica created meanwhile is what the waiting batch must find.
                await other.execute(
                    "INSERT INTO organizations (org_id, kind, name, region_code, status, registered_at, version) "
                    "VALUES ('emp-new', 'employer', '先登记的公司', '440300', 'verified', now(), 1)")
            decided = await wait_decided(pool, [str(dispatch.event_id)], timeout=15)
        assert decided[str(dispatch.event_id)]["status"] == "applied"
    row = await pool.fetchrow("SELECT name, status, version FROM organizations WHERE org_id = 'emp-new'")
    assert dict(row) == {"name": "先登记的公司", "status": "verified", "version": 1}


async def test_a_followup_neither_waits_for_nor_rewrites_its_worker(settings: Settings, pool: asyncpg.Pool) -> None:
    """跟踪服务 is the placement's record (issue 22): applied while another transaction holds the worker's row (a
    replica dispatching them), the worker row untouched (same row version, same ``version``), its newest follow-up
    read from the placements."""
    intake = Intake(Privacy(settings))
    regs, dispatch = _people_and_dispatch(intake, "lk-4", "ws-469005-01", "emp-lk4", 330)
    wid = regs[1].key
    ref = PlacementRef(placement_id_for("lk-4", wid), wid, "emp-lk4")
    start = date(2026, 12, 21)
    confirm = intake.confirm_placement(ref, PlacementConfirm(employer_id="emp-lk4", position="保洁", start_date=start,
                                                             monthly_wage="4500", contract=True))  # type: ignore[arg-type]
    followups = [intake.record_followup(ref, FollowUpCreate(
        placement_id=ref.placement_id, date=start + timedelta(days=days), channel="visit", employment_status="on_job"))
        for days in (30, 10)]
    async with running_ledger(settings):
        await produce(settings, [*regs, dispatch, confirm])
        assert (await wait_decided(pool, [str(confirm.event_id)]))[str(confirm.event_id)]["status"] == "applied"
        row = "SELECT xmin::text AS xmin, version FROM workers WHERE worker_id = $1"
        before = dict(await pool.fetchrow(row, wid))
        async with pool.acquire() as other, other.transaction():
            await other.execute("SELECT 1 FROM workers WHERE worker_id = $1 FOR UPDATE", wid)
            await produce(settings, followups)
            decided = await wait_decided(pool, [str(e.event_id) for e in followups], timeout=15)
        assert {d["status"] for d in decided.values()} == {"applied"}
    assert dict(await pool.fetchrow(row, wid)) == before
    shown = await queries.worker(pool, wid, SYSTEM)
    assert shown["last_followup_at"] == (start + timedelta(days=30)).isoformat()
    history = await pool.fetch("SELECT type FROM worker_events WHERE worker_id = $1 ORDER BY seq", wid)
    assert [r["type"] for r in history][-2:] == ["followup.recorded", "followup.recorded"]
