"""Batch writes through binary COPY: rows → a session-local staging table → one ``INSERT … SELECT``.

The ledger writes thousands of rows per batch into a handful of tables. Sending them as one JSON document
(``jsonb_populate_recordset``) made PostgreSQL parse every batch as text, and that parse was the largest
share of the database's time in `make bench`. Binary COPY ships typed values and needs no parse; the
staging table lets the final statement keep ``ON CONFLICT`` and ``RETURNING``.

Values may arrive as ISO strings where a column is a date, timestamp, number or UUID (payload fields are
JSON); they are parsed here, per column type, since binary COPY accepts only the Python type.
"""

from __future__ import annotations

import operator
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

_PARSE: dict[str, Callable[[str], Any]] = {
    "date": date.fromisoformat,
    "timestamptz": datetime.fromisoformat,
    "timestamp": datetime.fromisoformat,
    "numeric": Decimal,
    "uuid": uuid.UUID,
    "int2": int,
    "int4": int,
    "int8": int,
}


@dataclass(frozen=True)
class _Stage:
    name: str
    create: str
    columns: tuple[str, ...]
    parsers: tuple[Callable[[str], Any] | None, ...]


_STAGES: dict[tuple[str, tuple[str, ...]], _Stage] = {}


async def _stage(conn: asyncpg.Connection, table: str, columns: tuple[str, ...]) -> _Stage:
    found = _STAGES.get((table, columns))
    if found is None:
        cols = ", ".join(columns)
        attrs = (await conn.prepare(f"SELECT {cols} FROM {table} LIMIT 0")).get_attributes()
        name = f"stage_{table}_{zlib.crc32(cols.encode()):08x}"
        # A temp table lives as long as the session; ON COMMIT DELETE ROWS empties it at every commit. Not to be
        # dropped for the DELETE that already empties it: autovacuum never visits temp tables, the deleted rows stay
        # as dead tuples and every later write scans them (tried 2026-12-04: the truncation at COMMIT is 4 % of the
        # database's busy samples at 700-event batches, but without it `make bench`'s mixed segment lost 10 %).
        create = (f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "
                  f"SELECT {cols} FROM {table} WITH NO DATA")
        found = _STAGES[(table, columns)] = _Stage(name, create, columns,
                                                  tuple(_PARSE.get(a.type.name) for a in attrs))
    await conn.execute(found.create)
    return found


def _typed(stage: _Stage, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    get = operator.itemgetter(*stage.columns)
    records = [get(r) if len(stage.columns) > 1 else (get(r),) for r in rows]
    parse = [(i, p) for i, p in enumerate(stage.parsers) if p is not None]
    if not parse or not records:
        return records
    out = []
    for rec in records:
        if any(isinstance(rec[i], str) for i, _ in parse):
            values = list(rec)
            for i, p in parse:
                if isinstance(values[i], str):
                    values[i] = p(values[i])
            rec = tuple(values)
        out.append(rec)
    return out


async def write(conn: asyncpg.Connection, table: str, rows: Sequence[dict[str, Any]], tail: str = "",
                returning: str = "", computed: dict[str, str] | None = None, order_by: str = "") -> list[asyncpg.Record]:
    """``INSERT INTO table (<keys of rows[0]>) <rows> <tail> [RETURNING …]`` via COPY; all rows share their keys.

    ``tail`` is the conflict clause (``ON CONFLICT … DO …``); ``returning`` a RETURNING list; ``computed``
    more columns set by SQL expressions (``{"decided_at": "now()"}``); ``order_by`` the order the rows are
    inserted in (the key, where another writer inserts the same keys: one order, no deadlock). Runs inside the
    caller's transaction.
    """
    if not rows:
        return []
    stage = await _stage(conn, table, tuple(rows[0]))
    await conn.copy_records_to_table(stage.name, records=_typed(stage, rows), columns=list(stage.columns))
    cols = ", ".join(stage.columns)
    extra = computed or {}
    into = ", ".join([*stage.columns, *extra])
    select = ", ".join([*stage.columns, *extra.values()])
    # Consuming the staged rows in the same statement leaves the stage empty for a second write in this batch.
    order = f"ORDER BY {order_by}" if order_by else ""
    sql = (f"WITH s AS (DELETE FROM {stage.name} RETURNING {cols}) "
           f"INSERT INTO {table} ({into}) SELECT {select} FROM s {order} {tail}")
    if returning:
        return await conn.fetch(f"{sql} RETURNING {returning}")
    await conn.execute(sql)
    return []
