"""Time migration 0036 (the receipts-from-history index, issue 22) on a history of N rows (one JSON object)::

    python -m benchmarks.history_index postgresql://postgres@127.0.0.1:PORT/laowu [--rows 1000000]

The migration's own statement runs against a twin of ``worker_events`` as it stands before the migration
(``LIKE … INCLUDING DEFAULTS``, no index), filled with N history rows of the ledger's shape (random event ids, a
worker's few events together, a ``changes`` document of a registration's size). So the figure is what the
migration costs a ledger of that size, without touching its tables. The twin is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import asyncpg

MIGRATION = Path(__file__).resolve().parents[1] / "laowu/store/migrations/0036_receipts_from_history.sql"
TWIN = "history_index_timing"


def statement() -> str:
    sql = "\n".join(line for line in MIGRATION.read_text().splitlines() if not line.startswith("--"))
    return sql.replace("worker_events_event", f"{TWIN}_event").replace("ON worker_events", f"ON {TWIN}")


async def main_async(dsn: str, rows: int) -> dict[str, object]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {TWIN}")
        await conn.execute(f"CREATE TABLE {TWIN} (LIKE worker_events INCLUDING DEFAULTS)")
        started = time.perf_counter()
        await conn.execute(
            f"""INSERT INTO {TWIN} (worker_id, event_id, type, occurred_at, recorded_at, source, actor, changes)
                SELECT 'w' || md5((g / 4)::text), gen_random_uuid(), 'worker.registered', now(), now(),
                       'ws-469005-01', NULL,
                       jsonb_build_object('brand_ids', jsonb_build_array(null, jsonb_build_array('wenchang-chef')),
                                          'state', jsonb_build_array(null, 'registered'),
                                          'phone_masked', jsonb_build_array(null, '138****' || (g % 10000)::text))
                  FROM generate_series(1, $1) g""", rows)
        await conn.execute(f"VACUUM ANALYZE {TWIN}")
        fill_s = time.perf_counter() - started
        started = time.perf_counter()
        await conn.execute(statement())
        index_s = time.perf_counter() - started
        size = await conn.fetchval("SELECT pg_relation_size($1::regclass)", f"{TWIN}_event")
        return {"rows": rows, "fill_seconds": round(fill_s, 2), "migration_seconds": round(index_s, 2),
                "index_mb": round(size / 2**20, 1), "statement": " ".join(statement().split())}
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {TWIN}")
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dsn")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args.dsn, args.rows))))


if __name__ == "__main__":
    main()
