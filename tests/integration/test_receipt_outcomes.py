"""An applied worker or placement event's receipt is its history row (issue 22): ``laowu.store.receipts`` reads
what became of an event from the receipts and ``worker_events`` together, by index, with the statuses, reasons
and times a receipt row gave before."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from laowu.settings import Settings
from laowu.store import receipts

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


async def _history(conn: asyncpg.Connection, event_id: uuid.UUID, worker_id: str, applied_at: datetime) -> None:
    await conn.execute(
        "INSERT INTO worker_events (worker_id, event_id, type, occurred_at, recorded_at, applied_at, source, changes) "
        "VALUES ($1, $2, 'worker.registered', $3, $3, $4, 'ws-1', '{}')", worker_id, event_id, T0, applied_at)


async def test_outcomes_read_the_history_where_the_ledger_wrote_no_receipt(settings: Settings) -> None:
    assert settings.database_url
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        through_api, straight, pending, refused = (uuid.uuid4() for _ in range(4))
        await receipts.accept(pool, [(e, "worker.registered", "ws-1", f"w-{n}")
                                     for n, e in enumerate((through_api, pending, refused))])
        async with pool.acquire() as conn:
            await _history(conn, through_api, "w-0", T0 + timedelta(seconds=3))
            await _history(conn, straight, "w-9", T0 + timedelta(seconds=5))  # sent to Kafka directly: no receipt
            await conn.execute("UPDATE event_receipts SET status = 'rejected', reason = '身份证号无效', decided_at = $2 "
                               "WHERE event_id = $1", refused, T0)

        got = {e: await receipts.get(pool, e) for e in (through_api, straight, pending, refused)}
        assert {e: (g["status"], g["reason"]) for e, g in got.items() if g} == {
            through_api: ("applied", None), straight: ("applied", None), pending: ("accepted", None),
            refused: ("rejected", "身份证号无效")}
        assert got[through_api]["decided_at"] == T0 + timedelta(seconds=3)
        assert (got[straight]["source"], got[straight]["entity_id"], got[straight]["accepted_at"],
                got[straight]["decided_at"]) == ("ws-1", "w-9", T0, T0 + timedelta(seconds=5))
        assert await receipts.get(pool, uuid.uuid4()) is None

        def listed(rows: list[dict[str, object]]) -> set[object]:
            return {r["event_id"] for r in rows}

        page = await receipts.sent_by(pool, "ws-1", status=None, type_=None, after=None, limit=10)
        assert listed(page) == {through_api, pending, refused}  # what went through the API
        assert listed(await receipts.sent_by(pool, "ws-1", status="applied", type_=None, after=None, limit=10)) == {
            through_api}
        assert listed(await receipts.sent_by(pool, "ws-1", status="accepted", type_=None, after=None, limit=10)) == {
            pending}
        assert (await receipts.outcomes(pool, [straight, pending]) == {
            str(straight): {"status": "applied", "reason": None}, str(pending): {"status": "accepted", "reason": None}})
    finally:
        await pool.close()


async def test_an_outcome_is_two_index_probes(settings: Settings) -> None:
    """The receipts hold a row for every event sent through the API and the history one for every event applied:
    the lookup must reach each by its index (generic plan, as the API's prepared statement runs)."""
    assert settings.database_url
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute(
            """INSERT INTO event_receipts (event_id, type, status, source, entity_id)
               SELECT gen_random_uuid(), 'worker.registered', 'accepted', 'ws-' || (i % 50), 'e' || i
                 FROM generate_series(1, 30000) i""")
        await conn.execute(
            """INSERT INTO worker_events (worker_id, event_id, type, occurred_at, recorded_at, source, changes)
               SELECT 'w' || i, gen_random_uuid(), 'worker.registered', now(), now(), 'ws-1', '{}'
                 FROM generate_series(1, 30000) i""")
        await conn.execute("ANALYZE event_receipts; ANALYZE worker_events")
        # $1 stays a parameter (as in the API's prepared statement): the text goes through EXECUTE, as asyncpg's
        # extended protocol would want a value for it
        await conn.execute(
            "CREATE FUNCTION pg_temp.explain_generic(q text) RETURNS SETOF text LANGUAGE plpgsql AS "
            "$$ BEGIN RETURN QUERY EXECUTE 'EXPLAIN (GENERIC_PLAN) ' || q; END $$")
        sql = f"SELECT event_id, status FROM ({receipts.OUTCOMES}) o WHERE event_id = $1::uuid"
        plan = "\n".join(r[0] for r in await conn.fetch("SELECT pg_temp.explain_generic($1)", sql))
        assert "Seq Scan" not in plan, plan
        assert "worker_events_event" in plan and "event_receipts_pkey" in plan, plan
    finally:
        await conn.close()
