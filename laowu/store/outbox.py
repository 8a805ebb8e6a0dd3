"""Transactional outbox (发件箱): derived events committed with the change they describe, relayed to Kafka later.

One row per writing transaction, not per event: the batch's messages are framed back to back in one bytea.
With a row per event the outbox was the database's largest cost in `make bench` — an insert, an index entry,
a delete and a dead tuple for every message, 3 KB of WAL per ledger event, and a relay whose ``ORDER BY id
LIMIT`` walked over the dead rows of the queue's head (4 ms a call).

Frame: ``>HHI`` (topic length, key length, value length), then topic, key and value bytes. The value is the
exact JSON published; PostgreSQL never parses it and the relay never re-encodes it.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg

from laowu.store.pool import json_bytes

Message = tuple[str, bytes, bytes]  # topic, key, value: what the relay publishes
_HEADER = struct.Struct(">HHI")


def pack(messages: Sequence[tuple[str, str, dict[str, Any]]]) -> tuple[bytes, dict[str, int]]:
    """Frames of (topic, key, envelope) in order, and how many of each event type they hold."""
    parts: list[bytes] = []
    topics: dict[str, bytes] = {}
    for topic, key, envelope in messages:
        t = topics.get(topic)
        if t is None:
            t = topics[topic] = topic.encode()
        k = key.encode()
        v = json_bytes(envelope)
        parts += (_HEADER.pack(len(t), len(k), len(v)), t, k, v)
    return b"".join(parts), dict(Counter(str(m[2].get("type")) for m in messages))


def unpack(frames: bytes) -> Iterator[Message]:
    view, at, end, size = memoryview(frames), 0, len(frames), _HEADER.size
    names: dict[bytes, str] = {}
    while at < end:
        lt, lk, lv = _HEADER.unpack_from(view, at)
        at += size
        raw = bytes(view[at:at + lt])
        topic = names.get(raw) or names.setdefault(raw, raw.decode())
        at += lt
        key = bytes(view[at:at + lk])
        at += lk
        yield topic, key, bytes(view[at:at + lv])
        at += lv


async def enqueue(conn: asyncpg.Connection, messages: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
    """Add (topic, key, envelope) messages to the outbox inside the caller's transaction."""
    if messages:
        frames, counts = pack(messages)
        await conn.execute("INSERT INTO outbox (messages, counts) VALUES ($1, $2)", frames, counts)


async def claim(conn: asyncpg.Connection, rows: int = 8) -> list[tuple[int, bytes]]:
    """Lock the oldest outbox rows; the caller publishes them, then deletes them in the same transaction."""
    found = await conn.fetch("SELECT id, messages FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", rows)
    return [(r["id"], r["messages"]) for r in found]


async def delete(conn: asyncpg.Connection, ids: Sequence[int]) -> None:
    await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", list(ids))


async def pending(conn: asyncpg.Connection, event_type: str | None = None) -> int:
    """Messages committed but not yet relayed (of one event type, when given)."""
    if event_type is None:
        return int(await conn.fetchval(
            "SELECT coalesce(sum(value::int), 0) FROM outbox, jsonb_each_text(counts)"))
    return int(await conn.fetchval("SELECT coalesce(sum((counts->>$1)::int), 0) FROM outbox", event_type))


async def depth(pool: asyncpg.Pool) -> tuple[int, float]:
    """Unpublished rows and the age in seconds of the oldest (0 when none): what ``laowu_outbox_*`` report."""
    row = await pool.fetchrow(
        "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age FROM outbox")
    return int(row["n"]), float(row["age"])
