"""Ledger repository for the consumers: load and save records, history, receipts and offsets.

Everything here runs inside the caller's transaction; a batch is applied in one, together with the
offsets it consumed, so a crash at any point neither loses nor double-applies an event.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from laowu.domain.brands import BrandRecord
from laowu.domain.workers import DERIVED_FIELDS, WorkerRecord
from laowu.ledger.rows import row_of
from laowu.store import bulk

WORKER_COLUMNS = [f.name for f in dataclasses.fields(WorkerRecord) if f.name not in DERIVED_FIELDS]
"""The columns of ``workers``: the record less what is derived on read."""
LAST_FOLLOWUP_AT = ("(SELECT to_char(max(p.last_followup_date), 'YYYY-MM-DD') FROM placements p "
                    "WHERE p.worker_id = w.worker_id) AS last_followup_at")
"""``WorkerRecord.last_followup_at`` of ``workers w``: the newest follow-up of the worker's placements (each keeps
its own, whatever order follow-ups arrived in). Every reader of the worker selects it from here."""
BRAND_COLUMNS = [f.name for f in dataclasses.fields(BrandRecord)]


def upsert_tail(key: str, columns: list[str]) -> str:
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != key)
    return f"ON CONFLICT ({key}) DO UPDATE SET {updates}, updated_at = now()"


_SAVE_WORKERS = upsert_tail("worker_id", WORKER_COLUMNS)
_SAVE_BRANDS = upsert_tail("brand_id", BRAND_COLUMNS)


async def load_workers(conn: asyncpg.Connection, worker_ids: Iterable[str], *,
                       lock: bool = True) -> dict[str, WorkerRecord]:
    """The workers' stored records (``last_followup_at`` left unset: ``last_followups`` reads it where needed)."""
    rows = await conn.fetch(
        f"SELECT {', '.join(WORKER_COLUMNS)} FROM workers WHERE worker_id = ANY($1::text[]) ORDER BY worker_id"
        + (" FOR UPDATE" if lock else ""),  # one lock order for every consumer: no deadlock between them
        list(set(worker_ids)),
    )
    return {r["worker_id"]: WorkerRecord(**dict(r)) for r in rows}


async def last_followups(conn: asyncpg.Connection, worker_ids: Iterable[str]) -> dict[str, str | None]:
    """``LAST_FOLLOWUP_AT`` of these workers: asked only for those a batch's follow-ups name, as the only rule
    that reads it is the follow-up's own (deriving it for every worker loaded was one more index probe each)."""
    rows = await conn.fetch(f"SELECT w.worker_id, {LAST_FOLLOWUP_AT} FROM unnest($1::text[]) AS w(worker_id)",
                            list(set(worker_ids)))
    return {r["worker_id"]: r["last_followup_at"] for r in rows}


async def save_workers(conn: asyncpg.Connection, records: Sequence[WorkerRecord]) -> None:
    if records:
        rows = [row_of(r) for r in records]
        for row in rows:
            for name in DERIVED_FIELDS:
                del row[name]
        await bulk.write(conn, "workers", rows, _SAVE_WORKERS)


async def load_brands(conn: asyncpg.Connection, brand_ids: Iterable[str], *, lock: bool = True) -> dict[str, BrandRecord]:
    rows = await conn.fetch(
        f"SELECT {', '.join(BRAND_COLUMNS)} FROM brands WHERE brand_id = ANY($1::text[])"
        + (" FOR UPDATE" if lock else ""),
        list(set(brand_ids)),
    )
    return {r["brand_id"]: BrandRecord(**dict(r)) for r in rows}


async def save_brands(conn: asyncpg.Connection, records: Sequence[BrandRecord]) -> None:
    if records:
        await bulk.write(conn, "brands", [row_of(r) for r in records], _SAVE_BRANDS)


async def append_history(conn: asyncpg.Connection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """``worker_events`` / ``brand_events``: rows with entity id, event_id, type, times, source, actor, changes."""
    await bulk.write(conn, table, rows)


async def decided_events(conn: asyncpg.Connection, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Events already applied or rejected: a replayed or re-published copy must be a no-op. Applied worker and
    placement events have no receipt row of their own: their history row says it (migration 0036)."""
    if not event_ids:
        return set()
    rows = await conn.fetch(
        "SELECT event_id FROM event_receipts WHERE event_id = ANY($1::uuid[]) AND status <> 'accepted' "
        "UNION SELECT event_id FROM worker_events WHERE event_id = ANY($1::uuid[])",
        list(event_ids),
    )
    return {r["event_id"] for r in rows}


async def decide(conn: asyncpg.Connection, receipts: Sequence[dict[str, Any]]) -> None:
    """Record ``applied`` / ``rejected`` receipts (the API may have written ``accepted`` first, or not yet); an
    applied event whose history row is its receipt is not among them (``Decision.stored_receipts``).

    In event_id order, as the API writes its ``accepted`` ones (``laowu.store.receipts.accept``): the API may be
    writing the same receipts at that moment, and two inserts of the same keys in different orders each wait for
    the other (a deadlock: `make bench`'s freshness phase got a 500 from it, two ledger replicas beside the API)."""
    await bulk.write(conn, "event_receipts", receipts, computed={"decided_at": "now()"}, order_by="event_id", tail=(
        "ON CONFLICT (event_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, "
        "decided_at = EXCLUDED.decided_at WHERE event_receipts.status = 'accepted'"))


async def lock_offsets(conn: asyncpg.Connection, group: str, partitions: Sequence[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """Lock this group's offset rows for the batch and return them (-1 where none is stored yet).

    The row lock fences a consumer that lost its partition in a rebalance but is still finishing a batch:
    whoever commits second sees the other's offset and skips what was already applied.
    """
    topics = [t for t, _ in partitions]
    parts = [p for _, p in partitions]
    await conn.execute(
        """
        INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
        SELECT $1, t, p, -1 FROM unnest($2::text[], $3::int[]) AS u(t, p)
        ON CONFLICT DO NOTHING
        """,
        group, topics, parts,
    )
    rows = await conn.fetch(
        """
        SELECT topic, partition, next_offset FROM consumer_offsets
         WHERE group_id = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))
         ORDER BY topic, partition FOR UPDATE
        """,
        group, topics, parts,
    )
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def store_offsets(conn: asyncpg.Connection, group: str, offsets: dict[tuple[str, int], int]) -> None:
    """Never backwards: a consumer finishing a batch fetched before a rebalance must not rewind the new owner."""
    await conn.execute(
        """
        UPDATE consumer_offsets c SET next_offset = GREATEST(c.next_offset, u.o), updated_at = now()
          FROM unnest($2::text[], $3::int[], $4::bigint[]) AS u(t, p, o)
         WHERE c.group_id = $1 AND c.topic = u.t AND c.partition = u.p
        """,
        group, [t for t, _ in offsets], [p for _, p in offsets], list(offsets.values()),
    )


async def stored_offsets(conn: asyncpg.Connection | asyncpg.Pool, group: str) -> dict[tuple[str, int], int]:
    rows = await conn.fetch("SELECT topic, partition, next_offset FROM consumer_offsets WHERE group_id = $1", group)
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}
