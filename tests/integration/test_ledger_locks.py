"""What the ledger consumer locks: a brand that another transaction holds (a replica applying its status change)
must not stop registrations that only name it. With every brand locked, the two replicas of `make bench`
queued behind each other's transactions on every batch."""

from __future__ import annotations

import asyncpg
import pytest

from laowu.intake import Intake
from laowu.privacy import Privacy
from laowu.settings import Settings
from schemas.api import BrandCreate, WorkerCreate

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
