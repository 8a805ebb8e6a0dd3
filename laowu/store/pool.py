"""Connection pool creation — at start-up, never at import."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg
import orjson


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # amounts stay exact: numeric columns parse the string
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_bytes(value: Any) -> bytes:
    """UTF-8 JSON as stored and published everywhere (Decimals as strings, so amounts stay exact).

    orjson writes datetimes, dates and UUIDs itself (ISO 8601, as ``isoformat`` does); the stdlib encoder was
    the largest single cost of the ledger consumer (15 % of its CPU in a py-spy profile of `make bench`).
    """
    try:
        return orjson.dumps(value, default=_default)
    except TypeError:
        # A mapping with non-string keys (a date, a number), as the stdlib encoder allowed. The option costs
        # 40 % on every call (timeit, a ledger change), so it is only the fallback.
        return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def _jsonb_out(value: Any) -> bytes:
    return b"\x01" + json_bytes(value)  # jsonb's binary form: format version 1, then the text


def _jsonb_in(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Binary codecs, so that json/jsonb columns can also be written with COPY (asyncpg copies in binary only).
    await conn.set_type_codec("jsonb", encoder=_jsonb_out, decoder=_jsonb_in, schema="pg_catalog", format="binary")
    await conn.set_type_codec("json", encoder=json_bytes, decoder=orjson.loads, schema="pg_catalog", format="binary")


# Writers look rows up by arrays of thousands of ids (``worker_id = ANY($1)``). After five executions
# PostgreSQL may settle on a generic plan; one made while a table was still small is a sequential scan that
# compares every row with every id, and it is kept until the next autoanalyze. On a fresh database that
# stalled the ledger for 15-25 s a minute into load (auto_explain: 2 s per batch at 50,000 workers, growing).
# A custom plan sees the array and the table's real size; planning costs well under a millisecond per batch.
WRITER_SETTINGS = {"plan_cache_mode": "force_custom_plan"}


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, writer: bool = False,
                      **kwargs: Any) -> asyncpg.Pool:
    """A pool whose connections speak our JSON codecs; ``writer`` for the batch writers (consumers, sinks)."""
    if writer:
        kwargs["server_settings"] = {**WRITER_SETTINGS, **kwargs.get("server_settings", {})}
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection, **kwargs)
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn
