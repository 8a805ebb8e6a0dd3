"""Time ``laowu stats recount``'s query against a database (one JSON object), e.g. one kept by
``LAOWU_BENCH_KEEP=1 make bench`` with 1,000,000 workers::

    python -m benchmarks.recount postgresql://postgres@127.0.0.1:PORT/laowu
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import asyncpg

from laowu.store import stats as store


async def main_async(dsn: str) -> dict[str, object]:
    conn = await asyncpg.connect(dsn)
    try:
        counts = {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in ("workers", "placements")}
        started = time.perf_counter()
        cells = await store.recount(conn)
        return {"recount_seconds": round(time.perf_counter() - started, 2), "cells": len(cells), **counts}
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dsn")
    print(json.dumps(asyncio.run(main_async(parser.parse_args().dsn))))


if __name__ == "__main__":
    main()
