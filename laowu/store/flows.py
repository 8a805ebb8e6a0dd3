"""Labour flows (劳务流向) in PostgreSQL (``flow_figures``, ``flow_applied_events``; migration 0028): the SQL of the
flow agent (``streams.flows``), of its recount, and of the reads (``GET /v1/flows``, the statistics export).

The flow sink applies each chunk in one transaction: the event ids of its placement changes into
``flow_applied_events`` (only the new ones count), the deltas into ``flow_figures``, its offsets under consumer
group ``flows`` in ``consumer_offsets``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeAlias

import asyncpg

from laowu.domain import flows
from laowu.domain.flows import FlowCell
from laowu.store import stats
from laowu.store.scope import region_prefix
from laowu.store.stats import APPLIED_EVENTS_DAYS

Conn: TypeAlias = asyncpg.Pool | asyncpg.Connection
GROUP = "flows"
"""consumer_offsets.group_id under which the flow agent records the ledger-change offsets it has applied."""
_KEY = ("origin_region", "destination_region", "month", "brand_id", "distance_class", "metric")


async def mark_applied(conn: asyncpg.Connection, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Record events as applied; returns those that were not applied before (the others are redeliveries)."""
    if not event_ids:
        return set()
    rows = await conn.fetch(
        "INSERT INTO flow_applied_events (event_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id",
        list(dict.fromkeys(event_ids)))
    return {r["event_id"] for r in rows}


async def add(conn: asyncpg.Connection, cells: Mapping[FlowCell, Decimal]) -> None:
    if not cells:
        return
    items = sorted(cells.items())  # one lock order for every writer
    columns = list(zip(*(cell for cell, _ in items), strict=True))
    await conn.execute(
        f"""INSERT INTO flow_figures AS f ({', '.join(_KEY)}, value)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[])
            ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET value = f.value + EXCLUDED.value, updated_at = now()""",
        *[list(c) for c in columns], [v for _, v in items])


async def record_offsets(conn: asyncpg.Connection, offsets: Mapping[tuple[str, int], int]) -> None:
    """The flow agent's positions, beside the statistics sink's (the same table, its own group)."""
    await stats.record_offsets(conn, offsets, GROUP)


async def applied_offsets(conn: Conn, topic: str) -> dict[int, int]:
    return await stats.applied_offsets(conn, topic, GROUP)


async def prune(conn: Conn, days: int = APPLIED_EVENTS_DAYS) -> int:
    done = await conn.execute("DELETE FROM flow_applied_events WHERE applied_at < now() - make_interval(days => $1)",
                              days)
    return int(done.split()[-1])


# ---- the recount ------------------------------------------------------------------------------------------------
async def lock(conn: asyncpg.Connection) -> None:
    """Hold the flow agent off while a recount compares and corrects (taken before the recount's snapshot)."""
    await conn.execute("LOCK TABLE flow_figures IN EXCLUSIVE MODE")


async def recount(conn: Conn) -> dict[FlowCell, Decimal]:
    """The flow cells from the placements table: the same :func:`flows.contribution` the agent adds, per group of
    placements that contribute alike."""
    rows = await conn.fetch(
        """SELECT origin_region, destination_region, departure_date, brand_id,
                  status IN ('confirmed', 'ended') AND start_date IS NOT NULL AS confirmed, count(*) AS n
             FROM placements GROUP BY 1, 2, 3, 4, 5""")
    out: dict[FlowCell, Decimal] = {}
    for r in rows:
        view = {"origin_region": r["origin_region"], "destination_region": r["destination_region"],
                "departure_date": r["departure_date"], "brand_id": r["brand_id"],
                "status": "confirmed" if r["confirmed"] else "dispatched",
                "start_date": r["departure_date"] if r["confirmed"] else None}
        for cell, value in flows.contribution(view).items():
            out[cell] = out.get(cell, Decimal(0)) + value * r["n"]
    return out


async def stored(conn: Conn) -> dict[FlowCell, Decimal]:
    rows = await conn.fetch(f"SELECT {', '.join(_KEY)}, value FROM flow_figures WHERE value <> 0")
    return {tuple(r[k] for k in _KEY): r["value"] for r in rows}  # type: ignore[misc]


async def correct(conn: asyncpg.Connection, expected: Mapping[FlowCell, Decimal], drift: Iterable[FlowCell]) -> None:
    for cell in drift:
        await conn.execute(
            f"""INSERT INTO flow_figures ({', '.join(_KEY)}, value) VALUES ($1, $2, $3, $4, $5, $6, $7)
                ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET value = EXCLUDED.value, updated_at = now()""",
            *cell, expected.get(cell, Decimal(0)))


# ---- reads ------------------------------------------------------------------------------------------------------
async def cells(conn: Conn, *, region: str | None, side: str, first: str | None, last: str | None,
                brand_id: str | None, origin: str | None = None, destination: str | None = None
                ) -> list[dict[str, Any]]:
    """Flow cells with the origin (``side`` origin), the destination (destination) or either (both) under
    ``region`` (None: everywhere), departing in months ``first``..``last``, of one brand or all; ``origin`` and
    ``destination`` narrow each end further (a drill-down)."""
    args: list[Any] = []
    where = ["value <> 0"]
    if region:
        args.append(region_prefix(region) + "%")
        p = f"${len(args)}"
        where.append({"origin": f"origin_region LIKE {p}", "destination": f"destination_region LIKE {p}"}.get(
            side, f"(origin_region LIKE {p} OR destination_region LIKE {p})"))
    for column, code in (("origin_region", origin), ("destination_region", destination)):
        if code:
            args.append(region_prefix(code) + "%")
            where.append(f"{column} LIKE ${len(args)}")
    for op, value in ((">=", first), ("<=", last)):
        if value:
            args.append(value)
            where.append(f"month {op} ${len(args)}")
    if brand_id:
        args.append(brand_id)
        where.append(f"brand_id = ${len(args)}")
    rows = await conn.fetch(f"SELECT {', '.join(_KEY)}, value FROM flow_figures WHERE {' AND '.join(where)}", *args)
    return [dict(r) for r in rows]
