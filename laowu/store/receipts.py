"""Event receipts (回执): accepted → applied | rejected, so a workstation knows what became of what it sent."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

ReceiptRow = tuple[uuid.UUID, str, str, str]


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
        "SELECT event_id, status, reason, type, source, entity_id, accepted_at, decided_at FROM event_receipts "
        "WHERE event_id = $1",
        event_id,
    )
    return dict(row) if row else None


async def sent_by(pool: asyncpg.Pool, source: str | None, *, status: str | None, type_: str | None,
                  after: tuple[datetime.datetime, uuid.UUID] | None, limit: int) -> list[dict[str, Any]]:
    """The receipts of what ``source`` (an organization; ``None``: every sender) sent, newest first.

    Keyset on ``(accepted_at, event_id)`` descending (index ``event_receipts_by_source``), so a page costs the
    same on the thousandth page as on the first.
    """
    args: list[Any] = []
    where = ["TRUE"]
    for column, value in (("source", source), ("status", status), ("type", type_)):
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if after is not None:
        args += [after[0], after[1]]
        where.append(f"(accepted_at, event_id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows = await pool.fetch(
        "SELECT event_id, type, status, reason, entity_id, accepted_at, decided_at FROM event_receipts "
        f"WHERE {' AND '.join(where)} ORDER BY accepted_at DESC, event_id DESC LIMIT ${len(args)}",
        *args,
    )
    return [dict(r) for r in rows]
