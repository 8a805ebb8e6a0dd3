"""The API's ``accepted`` receipts and the ledger's decisions may be written for the same events at the same moment
(the ledger is quicker than the API's bookkeeping after the brokers' acknowledgement). Both write in event_id
order: in different orders each insert waited for the other's uncommitted rows and PostgreSQL broke the deadlock
by failing one — the API's, a 500 for a batch already published (`make bench`, freshness under 2,000/s)."""

from __future__ import annotations

import asyncio
import random
import uuid

import asyncpg
import pytest

from laowu.store import ledger, receipts

pytestmark = pytest.mark.services


async def test_the_api_and_the_ledger_write_the_same_receipts_without_deadlock(pool: asyncpg.Pool) -> None:
    rng = random.Random(22)
    for _ in range(12):
        ids = [uuid.uuid4() for _ in range(3_000)]
        api_order, ledger_order = ids[:], ids[:]
        rng.shuffle(api_order)
        rng.shuffle(ledger_order)
        decided = [{"event_id": e, "type": "worker.registered", "status": "applied", "reason": None,
                    "source": "ws-469005-01", "entity_id": f"w{e.hex[:8]}"} for e in ledger_order]

        async def ledger_batch(decided: list[dict[str, object]]) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await ledger.decide(conn, decided)
                await asyncio.sleep(0.05)  # the rest of the batch's transaction

        async def api_accepts(order: list[uuid.UUID]) -> None:
            await receipts.accept(pool, [(e, "worker.registered", "ws-469005-01", f"w{e.hex[:8]}") for e in order])

        await asyncio.gather(ledger_batch(decided), api_accepts(api_order))  # a deadlock raises DeadlockDetectedError here
        statuses = await pool.fetch("SELECT status, count(*) AS n FROM event_receipts WHERE event_id = ANY($1::uuid[]) "
                                    "GROUP BY status", ids)
        assert {r["status"]: r["n"] for r in statuses} == {"applied": 3_000}  # the ledger's word stands
