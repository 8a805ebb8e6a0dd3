"""The read-your-writes half of every pre-check is an index probe, not a walk of the receipts (issue 17).

``laowu.store.known`` adds an arm for "accepted, not yet decided" to the API's existing lookups; ``event_receipts``
holds a row for every event ever sent, so that arm must use the registrations index of migration 0020.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from laowu.settings import Settings
from laowu.store import known
from schemas.common import Actor


class Capture:
    """Stands in for the pool: keeps the statement a ``known`` lookup would run."""

    def __init__(self) -> None:
        self.sql = ""
        self.args: tuple[Any, ...] = ()

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        self.sql, self.args = sql, args
        return []


async def _plan(conn: asyncpg.Connection, lookup: Any) -> str:
    capture = Capture()
    await lookup(capture)
    rows = await conn.fetch("EXPLAIN " + capture.sql, *capture.args)
    return "\n".join(r[0] for r in rows)


async def test_pending_arms_probe_indexes(settings: Settings) -> None:
    assert settings.database_url
    conn = await asyncpg.connect(settings.database_url)
    try:
        # Many decided receipts of every kind, a few accepted ones: the shape of a ledger that has run a while.
        types = ["worker.registered", "worker.updated", "placement.confirmed", "followup.recorded", "brand.registered",
                 "dispatch.created"]
        await conn.execute(
            """INSERT INTO event_receipts (event_id, type, status, source, entity_id)
               SELECT gen_random_uuid(), ($1::text[])[1 + i % 6], CASE WHEN i % 500 = 0 THEN 'accepted' ELSE 'applied' END,
                      'ws-' || (i % 50), 'e' || i
                 FROM generate_series(1, 60000) i""", types)
        await conn.execute(
            """INSERT INTO accepted_placements (placement_id, event_id, dispatch_id, worker_id, employer_id, organizer_id)
               SELECT 'pl-' || i, gen_random_uuid(), 'd' || i, 'w' || i, 'emp', 'ws' FROM generate_series(1, 20000) i""")
        await conn.execute("ANALYZE event_receipts; ANALYZE accepted_placements")
        ws = Actor(role="workstation", org="ws-1", region="469005")
        ids = [f"e{i}" for i in range(1, 40)]
        plans = {
            "brands": await _plan(conn, lambda p: known.brand_statuses(p, ids)),
            "workers": await _plan(conn, lambda p: known.acting_workers(p, ids, ws)),
            "placements": await _plan(conn, lambda p: known.placement_refs(p, [f"pl-{i}" for i in range(9)], ws)),
        }
    finally:
        await conn.close()
    for name, plan in plans.items():
        assert "Seq Scan on event_receipts" not in plan, (name, plan)
        assert "Seq Scan on accepted_placements" not in plan, (name, plan)
    assert "event_receipts_registrations" in plans["brands"] and "event_receipts_registrations" in plans["workers"]
    assert "accepted_placements_pkey" in plans["placements"]
