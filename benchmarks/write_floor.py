"""The ledger's write floor: the rows a ledger run left, written again the cheapest way PostgreSQL offers.

``pg_copy_rows_per_s`` says how fast one table takes rows; this says how fast the *ledger's own* writes could
go if the consumer cost nothing. Every ledger table is copied out, then, in one transaction, COPYed into an
empty twin with the same indexes (``LIKE … INCLUDING ALL``), and each table gets as many updates as the run
made that moved the row (``pg_stat_user_tables``: updates less HOT updates, which rewrite no index entry),
as set-based bumps of a column no index covers. Far cheaper than the real writes:

* no reads (the consumer's lookups), no conflicts, no per-batch commits, no outbox, receipts of the deferral
  table or offsets;
* HOT updates count as free; a row that changed five times is copied once and updated at most four times,
  by set, never changing an indexed value (the real updates move workers between states and brands).

So the figure is an upper bound on what any ledger writing these rows could do on this machine, with one
database core. ``make bench`` measures it right after its mixed segment; for a kept database::

    python -m benchmarks.write_floor DSN EVENTS   # EVENTS: how many events wrote what the tables hold
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import time
from collections.abc import Callable
from typing import Any

import asyncpg

# The tables the ledger consumer writes and keeps (the outbox and deferrals are emptied again).
LEDGER_TABLES = ("workers", "worker_events", "event_receipts", "placements", "dispatches", "dispatch_workers",
                 "followups", "subsidies", "alerts", "brands", "brand_events")


async def table_writes(conn: asyncpg.Connection) -> dict[str, dict[str, int]]:
    """Rows inserted, updated (and of those, HOT-updated) and deleted so far, per table (cumulative counters)."""
    rows = await conn.fetch(
        "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables")
    return {r["relname"]: {"ins": r["n_tup_ins"], "upd": r["n_tup_upd"], "hot": r["n_tup_hot_upd"],
                           "del": r["n_tup_del"]} for r in rows}


def moved(writes: dict[str, dict[str, int]]) -> dict[str, int]:
    """Updates that wrote new index entries (not HOT), per ledger table: what the floor replays."""
    return {t: writes[t]["upd"] - writes[t]["hot"] for t in LEDGER_TABLES if t in writes}


async def settled_writes(conn: asyncpg.Connection, tries: int = 20) -> dict[str, dict[str, int]]:
    """The counters once a stopped process's backends have reported theirs (they do as they exit)."""
    last = await table_writes(conn)
    for _ in range(tries):
        await asyncio.sleep(0.25)
        now = await table_writes(conn)
        if now == last:
            return now
        last = now
    return last


def writes_between(before: dict[str, dict[str, int]], after: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    out = {}
    for table, counts in after.items():
        d = {k: v - before.get(table, {}).get(k, 0) for k, v in counts.items()}
        if any(d.values()):
            out[table] = d
    return out


async def floor(conn: asyncpg.Connection, events: int, updates: dict[str, int],
                postgres_cpu: Callable[[], float] | None = None) -> dict[str, Any]:
    """Write the ledger tables' rows again into indexed twins, plus ``updates`` per table; time it."""
    dumps: dict[str, io.BytesIO] = {}
    keys: dict[str, str] = {}
    for table in LEDGER_TABLES:
        buf = io.BytesIO()
        await conn.copy_from_table(table, output=buf, format="binary")
        buf.seek(0)
        dumps[table] = buf
        keys[table] = await conn.fetchval(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = i.indkey[0] WHERE i.indrelid = $1::regclass AND i.indisprimary", table)
        await conn.execute(f"DROP TABLE IF EXISTS floor_{table}; CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
    copied: dict[str, int] = {}
    updated: dict[str, int] = {}
    cpu0 = postgres_cpu() if postgres_cpu else 0.0
    t0 = time.perf_counter()
    try:
        async with conn.transaction():
            for table, buf in dumps.items():
                status = await conn.copy_to_table(f"floor_{table}", source=buf, format="binary")
                copied[table] = int(status.split()[-1])
            t1 = time.perf_counter()
            for table, n in updates.items():
                if table not in dumps or not copied[table] or n <= 0:
                    continue
                await bump(conn, f"floor_{table}", keys[table], copied[table], n)
                updated[table] = n
        seconds = time.perf_counter() - t0
        cpu = (postgres_cpu() - cpu0) if postgres_cpu else None
    finally:
        for table in LEDGER_TABLES:
            await conn.execute(f"DROP TABLE IF EXISTS floor_{table}")
    return {"events": events, "rows_copied": sum(copied.values()), "rows_updated": sum(updated.values()),
            "copied": {t: n for t, n in copied.items() if n}, "updated": updated,
            "copy_s": round(t1 - t0, 2), "update_s": round(seconds - (t1 - t0), 2), "seconds": round(seconds, 2),
            "events_per_s": round(events / seconds, 1),
            "postgres_cpu_us_per_event": round(cpu / events * 1e6, 1) if cpu is not None else None}


async def bump(conn: asyncpg.Connection, table: str, key: str, rows: int, updates: int) -> None:
    """``updates`` row updates of ``table`` (``rows`` rows), whole-table passes then part of one."""
    # SET key = key changes no indexed value: the cheapest update there is (HOT where the page has room).
    left = updates
    while left >= rows:
        await conn.execute(f"UPDATE {table} SET {key} = {key}")
        left -= rows
    if left:
        await conn.execute(f"UPDATE {table} SET {key} = {key} "
                           f"WHERE ctid = ANY (ARRAY(SELECT ctid FROM {table} LIMIT {left}))")


async def main_async(dsn: str, events: int) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return await floor(conn, events, moved(await table_writes(conn)))  # everything since the database was made
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dsn")
    parser.add_argument("events", type=int, help="how many events wrote what the ledger tables hold")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args.dsn, args.events))))


if __name__ == "__main__":
    main()
