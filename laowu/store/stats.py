"""Statistics (统计) in PostgreSQL: the sink's idempotent writes, the recount from the ledger, read queries, the feed.

Streamed figures live in ``stats_figures`` (see :mod:`laowu.domain.statistics` for cells and attribution),
retention at 3 and 6 months too: its cells are keyed by the day a placement becomes due, and a read sums
those due by today. Figures on tables the ledger-change stream does not describe are *queried* here
instead: subsidies accrued (the sweeper accrues them without a ledger change), and per-category figures (a
brand's category may change; a category is the sum of its brands' figures at read time).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeAlias

import asyncpg

from laowu.domain.statistics import (
    BEIJING,
    CONFIRMED,
    FOLLOWUP_WITHIN_DAYS,
    RETENTION_METRICS,
    RETENTION_MONTHS,
    Cell,
    Member,
    Scope,
)
from laowu.store import outbox
from laowu.store.ledger import LAST_FOLLOWUP_AT
from laowu.store.queries import jurisdiction_clause
from laowu.store.scope import Viewer, region_between, region_prefix
from laowu.store.sqltext import in_list
from schemas.topics import DAY_MS, LEDGER_CHANGES

FEED_LOCK = 0x1A0_0F33
"""Advisory lock serialising feed inserts, so feed ids are handed out in commit order."""
STATS_GROUP = "stats"
"""consumer_offsets.group_id under which the sink records the ledger-change offsets it has applied."""

Conn: TypeAlias = asyncpg.Connection | asyncpg.Pool


# ---- the sink (inside its transaction) -------------------------------------------------------------
async def mark_applied(conn: asyncpg.Connection, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Record events as applied; returns those that were not applied before (the others are redeliveries)."""
    if not event_ids:
        return set()
    rows = await conn.fetch(
        "INSERT INTO stats_applied_events (event_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id",
        list(dict.fromkeys(event_ids)),
    )
    return {r["event_id"] for r in rows}


async def add_members(conn: asyncpg.Connection, members: Iterable[Member]) -> list[Member]:
    """Insert memberships; returns the ones that are new (each adds one to its distinct count)."""
    todo = sorted(set(members))
    if not todo:
        return []
    cols = list(zip(*todo, strict=True))
    rows = await conn.fetch(
        """INSERT INTO stats_members (dim, key, month, metric, worker_id)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
           ON CONFLICT DO NOTHING RETURNING dim, key, month, metric, worker_id""",
        *[list(c) for c in cols],
    )
    return [(r["dim"], r["key"], r["month"], r["metric"], r["worker_id"]) for r in rows]


async def add_to_figures(conn: asyncpg.Connection, cells: Mapping[Cell, Decimal]) -> None:
    """Add deltas; rows are touched in key order so two writers can never deadlock on them."""
    todo = sorted((c, v) for c, v in cells.items() if v != 0)
    if not todo:
        return
    await conn.execute(
        """INSERT INTO stats_figures AS f (dim, key, month, metric, value)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[])
           ON CONFLICT (dim, key, month, metric) DO UPDATE SET value = f.value + EXCLUDED.value, updated_at = now()""",
        [c[0] for c, _ in todo], [c[1] for c, _ in todo], [c[2] for c, _ in todo], [c[3] for c, _ in todo],
        [v for _, v in todo],
    )


async def record_offsets(conn: asyncpg.Connection, offsets: Mapping[tuple[str, int], int],
                         group: str = STATS_GROUP) -> None:
    """Next offset per partition a stream sink has applied (for the recount's consistent cut and for lag)."""
    if not offsets:
        return
    items = sorted(offsets.items())
    await conn.execute(
        """INSERT INTO consumer_offsets AS o (group_id, topic, partition, next_offset)
           SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[])
           ON CONFLICT (group_id, topic, partition)
           DO UPDATE SET next_offset = GREATEST(o.next_offset, EXCLUDED.next_offset), updated_at = now()""",
        group, [t for (t, _), _ in items], [p for (_, p), _ in items], [n for _, n in items],
    )


async def applied_offsets(conn: Conn, topic: str, group: str = STATS_GROUP) -> dict[int, int]:
    rows = await conn.fetch("SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
                            group, topic)
    return {r["partition"]: r["next_offset"] for r in rows}


async def figures_of(conn: Conn, scopes: Iterable[Scope], month: str = "") -> dict[Scope, dict[str, Decimal]]:
    """Stored metrics of several scopes for one month ('' = all time)."""
    todo = sorted(set(scopes))
    out: dict[Scope, dict[str, Decimal]] = {s: {} for s in todo}
    if not todo:
        return out
    rows = await conn.fetch(
        """SELECT f.dim, f.key, f.metric, f.value FROM stats_figures f
             JOIN unnest($1::text[], $2::text[]) AS s(dim, key) ON s.dim = f.dim AND s.key = f.key
            WHERE f.month = $3""",
        [s[0] for s in todo], [s[1] for s in todo], month,
    )
    for r in rows:
        out[(r["dim"], r["key"])][r["metric"]] = r["value"]
    return out


async def append_feed(conn: asyncpg.Connection, rows: Sequence[tuple[str, Sequence[str], Mapping[str, Any]]]) -> None:
    """Feed rows (kind, regions, data), last thing before commit: the lock makes ids follow commit order."""
    if not rows:
        return
    await conn.execute("SELECT pg_advisory_xact_lock($1)", FEED_LOCK)
    await conn.execute(
        """INSERT INTO feed_events (kind, regions, data)
           SELECT x.value->>'kind', ARRAY(SELECT jsonb_array_elements_text(x.value->'regions')), x.value->'data'
             FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(value, n) ORDER BY x.n""",
        [{"kind": k, "regions": list(r), "data": d} for k, r, d in rows],
    )


APPLIED_EVENTS_DAYS = LEDGER_CHANGES.retention_ms // DAY_MS + 5
"""How long an applied event id is kept: the ledger-changes topic's retention (a redelivery can come no later)
plus a margin; the topic catalogue holds the retention, so the two cannot drift apart."""


async def prune(conn: Conn, applied_days: int = APPLIED_EVENTS_DAYS, feed_days: int = 7) -> tuple[int, int]:
    """Forget applied-event ids older than the ledger-changes retention plus a margin, and old feed rows."""
    a = await conn.execute("DELETE FROM stats_applied_events WHERE applied_at < now() - make_interval(days => $1)",
                           applied_days)
    f = await conn.execute("DELETE FROM feed_events WHERE created_at < now() - make_interval(days => $1)", feed_days)
    return int(a.split()[-1]), int(f.split()[-1])


# ---- the recount from the ledger ------------------------------------------------------------------
# The same attribution as laowu.domain.statistics, written independently in SQL, so a recount checks the
# stream processor's code as well as its delivery. Its constants are the domain's (Beijing's offset, the
# retention months, the follow-up window, the confirmed statuses), and its date arithmetic is held to the domain's
# (``add_months``, ``followup_covered``) by tests/integration/test_sql_twins.py; a region rolls up through the
# one SQL function ``region_rollup`` (migration 0021), the twin of ``laowu.domain.regions.rollup``.
BEIJING_OFFSET_HOURS = int(BEIJING.utcoffset(None).total_seconds()) // 3600  # type: ignore[union-attr]
CONFIRMED_SQL = in_list(CONFIRMED)


def retention_due_sql(months: int, start: str = "start_date") -> str:
    """The day a placement started on ``start`` becomes due for retention at ``months`` — ``add_months``."""
    return f"({start} + make_interval(months => {int(months)}))::date"


def followup_covered_sql(first: str = "first_followup_date", start: str = "start_date") -> str:
    """A first follow-up within the window of the start — ``followup_covered``'s dates (NULL counts as not)."""
    return f"coalesce({first} <= {start} + {int(FOLLOWUP_WITHIN_DAYS)}, false)"


_RETENTION_COLUMNS = "".join(
    f"""
           to_char({retention_due_sql(n)}, 'YYYY-MM-DD') AS due{n},
           end_date IS NULL OR end_date >= {retention_due_sql(n)} AS kept{n},"""
    for n in RETENTION_MONTHS)
_RETENTION_KEYS = "".join(f", due{n}, kept{n}" for n in RETENTION_MONTHS)
_RETENTION_SUMS = "".join(
    f"""
    UNION ALL SELECT dim, key, due{n}, 'retention_{n}m_due', n FROM pg WHERE conf
    UNION ALL SELECT dim, key, due{n}, 'retention_{n}m_kept', n FROM pg WHERE conf AND kept{n}"""
    for n in RETENTION_MONTHS)


def _fan_out(source: str, columns: str) -> str:
    """Each row of ``source`` once per scope it counts in: overall, every region its origin rolls up to, its brand,
    and (for placements) every region its destination rolls up to. UNION ALL: the scopes of one row are distinct."""
    if source == "workers":
        return f"""
    SELECT 'all'::text AS dim, ''::text AS key, {columns} FROM wg
    UNION ALL SELECT 'region', x, {columns} FROM wg, unnest(region_rollup(r)) x
    UNION ALL SELECT 'brand', b, {columns} FROM wg, unnest(brand_ids) b"""
    return f"""
    SELECT 'all'::text AS dim, ''::text AS key, {columns} FROM {source}
    UNION ALL SELECT 'region', x, {columns} FROM {source}, unnest(region_rollup(o)) x
    UNION ALL SELECT 'brand', brand_id, {columns} FROM {source}
    UNION ALL SELECT 'destination', x, {columns} FROM {source}, unnest(region_rollup(d)) x"""


_PLACEMENT_COLUMNS = f"""worker_id, origin_region AS o, destination_region AS d, brand_id, status, monthly_wage,
           to_char(departure_date, 'YYYY-MM') AS dm, to_char(start_date, 'YYYY-MM') AS sm,
           to_char(end_date, 'YYYY-MM') AS em,
           status IN {CONFIRMED_SQL} AND start_date IS NOT NULL AS conf,{_RETENTION_COLUMNS}
           {followup_covered_sql()} AS covered"""
_PLACEMENT_KEYS = "o, d, brand_id, status, dm, sm, em, conf, covered" + _RETENTION_KEYS

# Figures that are sums are counted from GROUPS of like rows (workers alike in region, brands, priority and month;
# placements alike in every attribute a figure reads), fanned out to their scopes afterwards: 1,000,000 workers are a
# few thousand groups. Only the distinct counts (a worker once per cell) need rows per worker. (One statement over a
# fact per worker and scope took 84 s for 1,000,000 workers and no placement; ``python -m benchmarks.recount``.)
_SUM_FACTS = f"""
WITH wg AS (
    SELECT household_region AS r, brand_ids, cardinality(priority_groups) > 0 AS prio,
           to_char((registered_at AT TIME ZONE 'UTC') + make_interval(hours => {BEIJING_OFFSET_HOURS}), 'YYYY-MM') AS m,
           count(*)::numeric AS n
      FROM workers GROUP BY 1, 2, 3, 4
),
ws AS ({_fan_out("workers", "prio, m, n")}
),
pr AS (SELECT {_PLACEMENT_COLUMNS} FROM placements),
pa AS (
    SELECT {_PLACEMENT_KEYS}, count(*)::numeric AS n, coalesce(sum(monthly_wage), 0) AS wage,
           count(monthly_wage)::numeric AS waged
      FROM pr GROUP BY {_PLACEMENT_KEYS}
),
pg AS ({_fan_out("pa", _PLACEMENT_KEYS + ", n, wage, waged")}
),
facts AS (
    SELECT dim, key, mm AS month, 'registered' AS metric, n AS value FROM ws, unnest(ARRAY['', m]) mm
    UNION ALL SELECT dim, key, mm, 'priority_members', n FROM ws, unnest(ARRAY['', m]) mm WHERE prio
    UNION ALL SELECT dim, key, mm, 'outputs', n FROM pg, unnest(ARRAY['', dm]) mm
    UNION ALL SELECT dim, key, mm, 'placements_rejected', n FROM pg, unnest(ARRAY['', dm]) mm WHERE status = 'rejected'
    UNION ALL SELECT dim, key, mm, 'placements_confirmed', n FROM pg, unnest(ARRAY['', sm]) mm WHERE conf
    UNION ALL SELECT dim, key, mm, 'followup_covered', n FROM pg, unnest(ARRAY['', sm]) mm WHERE conf AND covered
    UNION ALL SELECT dim, key, mm, 'wage_sum', wage FROM pg, unnest(ARRAY['', sm]) mm WHERE conf AND waged > 0
    UNION ALL SELECT dim, key, mm, 'wage_count', waged FROM pg, unnest(ARRAY['', sm]) mm WHERE conf AND waged > 0
    UNION ALL SELECT dim, key, '', 'currently_employed', n FROM pg WHERE status = 'confirmed'
    UNION ALL SELECT dim, key, mm, 'separations', n FROM pg, unnest(ARRAY['', em]) mm
               WHERE status = 'ended' AND em IS NOT NULL{_RETENTION_SUMS}
)
"""
# The distinct counts: a worker once per cell, however many placements put them there.
_DISTINCT_FACTS = f"""
WITH pr AS (SELECT {_PLACEMENT_COLUMNS} FROM placements),
pd AS ({_fan_out("pr", "worker_id, dm, sm, conf")}
),
facts AS (
    SELECT dim, key, mm AS month, 'dispatched' AS metric, worker_id FROM pd, unnest(ARRAY['', dm]) mm
    UNION ALL SELECT dim, key, mm, 'confirmed', worker_id FROM pd, unnest(ARRAY['', sm]) mm WHERE conf
)
"""
_RECOUNT_SUMS = _SUM_FACTS + """
SELECT dim, key, month, metric, sum(value) AS value FROM facts GROUP BY dim, key, month, metric
"""
_RECOUNT_DISTINCT = _DISTINCT_FACTS + """
SELECT dim, key, month, metric, count(*)::numeric AS value
  FROM (SELECT DISTINCT dim, key, month, metric, worker_id FROM facts) d
 GROUP BY dim, key, month, metric
"""
_RECOUNT = _RECOUNT_SUMS + _RECOUNT_DISTINCT  # the text tests look for the domain's constants in
_MEMBERS = _DISTINCT_FACTS + """
INSERT INTO stats_members (dim, key, month, metric, worker_id)
SELECT DISTINCT dim, key, month, metric, worker_id FROM facts
"""


async def recount(conn: Conn) -> dict[Cell, Decimal]:
    """Every streamed figure recomputed from the ledger tables."""
    rows = [*await conn.fetch(_RECOUNT_SUMS), *await conn.fetch(_RECOUNT_DISTINCT)]
    return {(r["dim"], r["key"], r["month"], r["metric"]): r["value"] for r in rows if r["value"] != 0}


async def stored(conn: Conn) -> dict[Cell, Decimal]:
    rows = await conn.fetch("SELECT dim, key, month, metric, value FROM stats_figures WHERE value <> 0")
    return {(r["dim"], r["key"], r["month"], r["metric"]): r["value"] for r in rows}


async def lock_figures(conn: asyncpg.Connection) -> None:
    """Hold the sink off (its upserts wait) while a recount compares and corrects; the API can still read.

    In the order the sink writes them (memberships, then figures; ``streams.sink``): the other order let a sink
    chunk holding ``stats_members`` wait for ``stats_figures`` while the recount held it and waited for
    ``stats_members`` — a deadlock PostgreSQL broke by failing one of them (seen in the e2e test under load).
    """
    await conn.execute("LOCK TABLE stats_members, stats_figures IN EXCLUSIVE MODE")


async def pending_ledger_changes(conn: Conn) -> int:
    """Ledger changes committed but not yet relayed to Kafka (still in the outbox)."""
    return await outbox.pending(conn, "ledger.changed")


async def correct(conn: asyncpg.Connection, expected: Mapping[Cell, Decimal], drift: Iterable[Cell]) -> None:
    """Set drifted cells to the recount and rebuild the memberships from the ledger (inside the locked transaction)."""
    cells = sorted(drift)
    if cells:
        await conn.execute(
            """INSERT INTO stats_figures AS f (dim, key, month, metric, value)
               SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[])
               ON CONFLICT (dim, key, month, metric) DO UPDATE SET value = EXCLUDED.value, updated_at = now()""",
            [c[0] for c in cells], [c[1] for c in cells], [c[2] for c in cells], [c[3] for c in cells],
            [expected.get(c, Decimal(0)) for c in cells],
        )
    await conn.execute("DELETE FROM stats_members")
    await conn.execute(_MEMBERS)


# ---- read queries (API) ---------------------------------------------------------------------------
async def series(conn: Conn, scope: Scope, first: str, last: str) -> dict[str, dict[str, Decimal]]:
    """Monthly metrics of one scope, ``first``..``last`` (YYYY-MM) inclusive."""
    rows = await conn.fetch(
        # length 7: months only; retention's cells are keyed by day ('YYYY-MM-DD' sorts between the months).
        "SELECT month, metric, value FROM stats_figures WHERE dim = $1 AND key = $2 AND month BETWEEN $3 AND $4 "
        "AND length(month) = 7",
        scope[0], scope[1], first, last,
    )
    out: dict[str, dict[str, Decimal]] = {}
    for r in rows:
        out.setdefault(r["month"], {})[r["metric"]] = r["value"]
    return out


async def region_keys(conn: Conn, dim: str, prefix: str) -> list[str]:
    """Region (or destination) codes with figures under a prefix ('' = all)."""
    rows = await conn.fetch(
        "SELECT DISTINCT key FROM stats_figures WHERE dim = $1 AND month = '' AND key LIKE $2 AND value <> 0 ORDER BY key",
        dim, prefix + "%",
    )
    return [r["key"] for r in rows]


def _subsidy_scope(scope: Scope, args: list[Any]) -> str:
    """A scope over ``subsidies``, by the origin region and brand of the placement each was accrued from."""
    dim, key = scope
    if dim == "all":
        return "TRUE"
    if dim == "brand":
        args.append(key)
        return f"s.brand_id = ${len(args)}"
    if dim != "region":
        raise ValueError(f"no subsidies figure for a {dim} scope")
    # With LIKE $n a county's sum read every subsidy once the plan turned generic (9.6 ms for 113,537 rows
    # against 0.23 ms, benchmarks/stats_queries.py).
    return region_between("s.origin_region", key, args)


async def retention(conn: Conn, scope: Scope, today: date) -> dict[str, Any]:
    """Retention (稳岗) at 3 and 6 months: of confirmed placements started at least that long ago, the share
    still employed then — the streamed cells keyed by due date (see laowu.domain.statistics), summed up to today.

    It used to be counted from placements at every read: 47 ms for a province after `make bench`'s ledger run
    (221,626 placements), growing with the ledger; a scope has at most a few thousand due dates."""
    rows = await conn.fetch(
        """SELECT metric, sum(value) AS value FROM stats_figures
            WHERE dim = $1 AND key = $2 AND metric = ANY($3::text[]) AND month <> '' AND month <= $4
            GROUP BY metric""",
        scope[0], scope[1], list(RETENTION_METRICS), today.isoformat(),
    )
    got = {r["metric"]: int(r["value"]) for r in rows}
    return {"due3": got.get("retention_3m_due", 0), "kept3": got.get("retention_3m_kept", 0),
            "due6": got.get("retention_6m_due", 0), "kept6": got.get("retention_6m_kept", 0)}


async def subsidies(conn: Conn, scope: Scope) -> tuple[Decimal, int]:
    """Subsidies accrued (补贴) for placements in the scope: queried from the subsidies table."""
    args: list[Any] = []
    where = _subsidy_scope(scope, args)
    # Each row carries its placement's origin region and brand (migration 0014): joining placements instead
    # took 97 ms for a province after `make bench`'s ledger run, the largest part of /v1/stats/overview.
    row = await conn.fetchrow(f"SELECT coalesce(sum(s.amount), 0) AS amount, count(*) AS n FROM subsidies s WHERE {where}",
                              *args)
    assert row is not None
    return row["amount"], row["n"]


async def brand(conn: Conn, brand_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT brand_id, name, region_code, category, level, status FROM brands WHERE brand_id = $1",
                              brand_id)
    return dict(row) if row else None


async def brands_in(conn: Conn, region: str | None) -> list[dict[str, Any]]:
    """Brands of the resource library (资源库) whose region the given one covers (all when None)."""
    rows = await conn.fetch(
        "SELECT brand_id, name, region_code, category, level, status FROM brands WHERE region_code LIKE $1 ORDER BY brand_id",
        (region_prefix(region) if region else "") + "%",
    )
    return [dict(r) for r in rows]


# Open alerts of a region are counted one of two ways. Scanning the open alerts (partial index alerts_open) and
# testing each one's regions costs the same for every region: 58 ms with 60,000 open alerts. Joining the
# region's rows of ``alert_regions`` (migration 0016) costs what the region has ever had: 0.8 ms for a county
# with 12, but 83 ms for a province with 187,000. The cover is used while it is smaller than this; counting up
# to it costs a province 4-5 ms (`python -m benchmarks.stats_queries DSN` on 300,000 alerts).
COVERED_OPEN_ALERTS = 50_000


async def open_alerts(conn: Conn, region: str | None) -> dict[str, int]:
    if not region:
        rows = await conn.fetch("SELECT kind, count(*) AS n FROM alerts WHERE closed_at IS NULL GROUP BY kind")
    elif await conn.fetchval("SELECT count(*) FROM (SELECT 1 FROM alert_regions WHERE code = $1 LIMIT $2) c",
                             region, COVERED_OPEN_ALERTS) < COVERED_OPEN_ALERTS:
        rows = await conn.fetch(
            "SELECT a.kind, count(*) AS n FROM alert_regions c JOIN alerts a ON a.alert_id = c.alert_id "
            "WHERE c.code = $1 AND a.closed_at IS NULL GROUP BY a.kind", region)
    else:
        rows = await conn.fetch(
            "SELECT kind, count(*) AS n FROM alerts WHERE closed_at IS NULL "
            "AND EXISTS (SELECT 1 FROM unnest(regions) r WHERE r LIKE $1) GROUP BY kind", region_prefix(region) + "%")
    return {r["kind"]: r["n"] for r in rows}


# ---- the feed -------------------------------------------------------------------------------------
async def feed_after(conn: Conn, after: int, limit: int = 500) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, kind, regions, data, created_at FROM feed_events WHERE id > $1 ORDER BY id LIMIT $2", after, limit
    )
    return [dict(r) for r in rows]


async def feed_tail(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM feed_events"))


# ---- export ---------------------------------------------------------------------------------------
EXPORT_COLUMNS = f"""
    w.worker_id, w.id_number_masked, w.name, w.sex, w.birth_date, w.phone_masked, w.household_region, w.brand_ids,
    w.priority_groups, w.occupation_code, w.state, w.current_placement_id, {LAST_FOLLOWUP_AT}, w.registered_at
"""


async def export_workers(conn: Conn, *, brand_id: str | None, region: str | None, viewer: Viewer | None,
                         after: str, limit: int) -> list[dict[str, Any]]:
    """A page of the real-name ledger (实名制台账) for a spreadsheet: masked columns only."""
    args: list[Any] = []
    where = [await jurisdiction_clause(conn, viewer, after, args)]
    if brand_id:
        args.append([brand_id])
        where.append(f"w.brand_ids @> ${len(args)}::text[]")
    if region:
        args.append(region_prefix(region) + "%")
        where.append(f"w.household_region LIKE ${len(args)}")
    args.append(after)
    where.append(f"w.worker_id > ${len(args)}")
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT {EXPORT_COLUMNS} FROM workers w WHERE {' AND '.join(where)} ORDER BY w.worker_id LIMIT ${len(args)}",
        *args,
    )
    return [dict(r) for r in rows]
