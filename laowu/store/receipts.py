"""Event receipts (回执): accepted → applied | rejected, so a workstation knows what became of what it sent.

The API writes ``accepted`` before it answers 202; the ledger writes ``rejected``, and ``applied`` only for events
without a history row of their own (``OUTCOMES`` reads the rest from ``worker_events``, issue 22)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

ReceiptRow = tuple[uuid.UUID, str, str, str]

RECEIPT_OUTCOMES = """
    SELECT r.event_id, r.type, CASE WHEN h.applied_at IS NULL THEN r.status ELSE 'applied' END AS status, r.reason,
           r.source, r.entity_id, r.accepted_at, COALESCE(r.decided_at, h.applied_at) AS decided_at
      FROM event_receipts r
      LEFT JOIN LATERAL (SELECT min(w.applied_at) AS applied_at FROM worker_events w
                          WHERE r.status = 'accepted' AND w.event_id = r.event_id) h ON TRUE
"""
"""What became of the events with a receipt row: an ``accepted`` one whose history row exists was applied then
(issue 22: the ledger writes no ``applied`` receipt for a worker or placement event; its history row is the
receipt, ``laowu.ledger.rule.Rule.receipt_from_history``)."""

OUTCOMES = f"""
    {RECEIPT_OUTCOMES}
    UNION ALL
    SELECT w.event_id, min(w.type), 'applied', NULL, min(w.source), min(w.worker_id), min(w.recorded_at),
           min(w.applied_at)
      FROM worker_events w
     WHERE NOT EXISTS (SELECT 1 FROM event_receipts r WHERE r.event_id = w.event_id)
     GROUP BY w.event_id
"""
"""Every event's outcome: the receipts, and applied events that never had one (sent to Kafka directly, not
through the API, which writes the ``accepted`` receipt before it answers 202); those count as accepted when they
were recorded. Select from it with a condition on ``event_id``: it reaches both arms, each by an index."""


async def accept(pool: asyncpg.Pool, rows: Sequence[ReceiptRow]) -> None:
    """(event_id, type, source, entity_id); a receipt the consumer already decided is left alone.

    In event_id order, as the ledger writes its decisions (``laowu.store.ledger.decide``): one order for both
    writers of a key, or each may wait for the other."""
    if not rows:
        return
    await pool.execute(
        """
        INSERT INTO event_receipts (event_id, type, status, source, entity_id)
        SELECT e, t, 'accepted', s, k FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS u(e, t, s, k)
        ORDER BY e
        ON CONFLICT (event_id) DO NOTHING
        """,
        [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
    )


async def get(pool: asyncpg.Pool, event_id: uuid.UUID) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        f"SELECT event_id, status, reason, type, source, entity_id, accepted_at, decided_at FROM ({OUTCOMES}) o "
        "WHERE event_id = $1",
        event_id,
    )
    return dict(row) if row else None


async def outcomes(pool: asyncpg.Pool | asyncpg.Connection, event_ids: Sequence[uuid.UUID | str]
                   ) -> dict[str, dict[str, Any]]:
    """``{event_id (text): {status, reason}}`` of these events, for those with an outcome or receipt."""
    rows = await pool.fetch(f"SELECT event_id::text AS id, status, reason FROM ({OUTCOMES}) o "
                            "WHERE event_id = ANY($1::uuid[])", [uuid.UUID(str(i)) for i in event_ids])
    return {r["id"]: {"status": r["status"], "reason": r["reason"]} for r in rows}


async def sent_by(pool: asyncpg.Pool, source: str | None, *, status: str | None, type_: str | None,
                  after: tuple[datetime.datetime, uuid.UUID] | None, limit: int) -> list[dict[str, Any]]:
    """The receipts of what ``source`` (an organization; ``None``: every sender) sent, newest first.

    Keyset on ``(accepted_at, event_id)`` descending (index ``event_receipts_by_source``), so a page costs the
    same on the thousandth page as on the first.
    """
    args: list[Any] = []
    where = ["TRUE"]
    for column, value in (("r.source", source), ("r.type", type_)):
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if after is not None:
        args += [after[0], after[1]]
        where.append(f"(r.accepted_at, r.event_id) < (${len(args) - 1}, ${len(args)})")
    outer = "TRUE"
    if status is not None:  # on the outcome, which an applied worker event's receipt row does not hold
        args.append(status)
        outer = f"status = ${len(args)}"
    args.append(limit)
    rows = await pool.fetch(
        f"SELECT event_id, type, status, reason, entity_id, accepted_at, decided_at FROM ({RECEIPT_OUTCOMES} "
        f"WHERE {' AND '.join(where)}) o WHERE {outer} ORDER BY accepted_at DESC, event_id DESC LIMIT ${len(args)}",
        *args,
    )
    return [dict(r) for r in rows]
