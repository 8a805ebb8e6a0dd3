"""Repository for organized output: dispatches, placements, follow-ups, alerts, subsidies."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import asyncpg

from laowu.domain.lifecycle import PlacementRecord
from laowu.store import bulk
from laowu.store.ledger import row_of, upsert_tail

PLACEMENT_COLUMNS = [f.name for f in dataclasses.fields(PlacementRecord)]
_SAVE_PLACEMENTS = upsert_tail("placement_id", PLACEMENT_COLUMNS)


async def load_placements(conn: asyncpg.Connection, placement_ids: Iterable[str]) -> dict[str, PlacementRecord]:
    rows = await conn.fetch(
        f"SELECT {', '.join(PLACEMENT_COLUMNS)} FROM placements WHERE placement_id = ANY($1::text[]) "
        "ORDER BY placement_id FOR UPDATE",  # one lock order for every consumer: no deadlock between them
        list(set(placement_ids)),
    )
    return {r["placement_id"]: PlacementRecord(**dict(r)) for r in rows}


async def save_placements(conn: asyncpg.Connection, records: Sequence[PlacementRecord]) -> None:
    if records:
        await bulk.write(conn, "placements", [row_of(r) for r in records], _SAVE_PLACEMENTS)


async def existing_dispatches(conn: asyncpg.Connection, dispatch_ids: Iterable[str]) -> set[str]:
    rows = await conn.fetch("SELECT dispatch_id FROM dispatches WHERE dispatch_id = ANY($1::text[])", list(set(dispatch_ids)))
    return {r["dispatch_id"] for r in rows}


async def insert(conn: asyncpg.Connection, table: str, rows: Sequence[dict[str, Any]], conflict: str = "DO NOTHING") -> None:
    await bulk.write(conn, table, rows, f"ON CONFLICT {conflict}")


async def insert_new(conn: asyncpg.Connection, table: str, key: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert rows whose deterministic ``key`` is not there yet; returns the keys that are new.

    Raising an alert or accruing a subsidy twice is a no-op, and only new ones get a derived event.
    """
    return [r[key] for r in await bulk.write(conn, table, rows, "ON CONFLICT DO NOTHING", returning=key)]


async def raise_alerts(conn: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> list[str]:
    return await insert_new(conn, "alerts", "alert_id", rows)


async def accrue(conn: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> list[str]:
    return await insert_new(conn, "subsidies", "subsidy_id", rows)


async def sweep_candidates(conn: asyncpg.Connection, today: date, unconfirmed_days: int, followup_days: int,
                           min_retention_days: int) -> list[PlacementRecord]:
    """Placements that may owe a deadline alert or a retention subsidy today (the domain decides which)."""
    rows = await conn.fetch(
        f"""
        SELECT {', '.join(PLACEMENT_COLUMNS)} FROM placements p
         WHERE (status = 'dispatched' AND departure_date + $2::int < $1::date
                AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.alert_id = 'unconfirmed_placement:' || p.placement_id))
            OR (status IN ('confirmed', 'ended') AND start_date + $3::int < $1::date
                AND (first_followup_date IS NULL OR first_followup_date > start_date + $3::int)
                AND (end_date IS NULL OR end_date > start_date + $3::int)
                AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.alert_id = 'followup_overdue:' || p.placement_id))
            OR (status IN ('confirmed', 'ended') AND start_date + $4::int <= $1::date
                AND (end_date IS NULL OR end_date >= start_date + $4::int)
                AND NOT EXISTS (SELECT 1 FROM subsidies s WHERE s.subsidy_id = 'employment_service:' || p.placement_id))
         ORDER BY placement_id
         LIMIT 5000
         FOR UPDATE SKIP LOCKED
        """,
        today, unconfirmed_days, followup_days, min_retention_days,
    )
    return [PlacementRecord(**dict(r)) for r in rows]


async def households(conn: asyncpg.Connection, worker_ids: Iterable[str]) -> dict[str, str]:
    rows = await conn.fetch("SELECT worker_id, household_region FROM workers WHERE worker_id = ANY($1::text[])",
                            list(set(worker_ids)))
    return {r["worker_id"]: r["household_region"] for r in rows}


async def placement_facts(conn: asyncpg.Connection, alert_pids: Iterable[str], subsidy_ids: Iterable[str],
                          followup_pids: Iterable[str]) -> tuple[list[asyncpg.Record], set[str], list[asyncpg.Record]]:
    """The alerts of some placements, which of some subsidy ids are accrued, and the follow-ups of some placements,
    in one round trip (the placements are locked by the caller, so the sweeper cannot add to them meanwhile)."""
    rows = await conn.fetch(
        """
        SELECT 'a' AS fact, alert_id AS id, kind, worker_id, placement_id, regions, closed_at, NULL::date AS day,
               NULL::text[] AS problems FROM alerts WHERE placement_id = ANY($1::text[])
        UNION ALL
        SELECT 's', subsidy_id, NULL, NULL, placement_id, NULL, NULL, NULL, NULL FROM subsidies
         WHERE subsidy_id = ANY($2::text[])
        UNION ALL
        SELECT 'f', followup_id, NULL, NULL, placement_id, NULL, NULL, date, problems FROM followups
         WHERE placement_id = ANY($3::text[])
        """,
        list(set(alert_pids)), list(set(subsidy_ids)), list(set(followup_pids)),
    )
    return ([r for r in rows if r["fact"] == "a"], {r["id"] for r in rows if r["fact"] == "s"},
            [r for r in rows if r["fact"] == "f"])


async def set_alert_closures(conn: asyncpg.Connection, closures: dict[str, Any]) -> None:
    """Set ``closed_at`` of existing alerts (``None`` opens one again)."""
    if closures:
        await conn.execute(
            "UPDATE alerts a SET closed_at = u.at FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) "
            "WHERE a.alert_id = u.id",
            list(closures), list(closures.values()),
        )


async def waiting_events(conn: asyncpg.Connection, keys: Iterable[str]) -> list[dict[str, Any]]:
    """Deferred events waiting for any of ``keys`` ('placement:<id>', 'worker:<id>', 'brand:<id>'), oldest first,
    locked."""
    rows = await conn.fetch(
        "SELECT seq, event_id, waits_for, envelope FROM deferred_events WHERE waits_for = ANY($1::text[]) "
        "ORDER BY seq FOR UPDATE",
        list(set(keys)),
    )
    return [dict(r) for r in rows]


async def stale_satisfied_waits(conn: asyncpg.Connection, older_than_s: float, limit: int = 1000) -> set[str]:
    """What deferred events have waited for longer than ``older_than_s`` although it is already in the ledger, or
    its registration was rejected (then what waits for it is rejected in turn, not left waiting).

    A deferral committed just after another consumer applied what it waits for (and looked for waiters) would
    otherwise wait forever; the ledger consumer wakes these now and then.
    """
    rows = await conn.fetch(
        """
        SELECT DISTINCT d.waits_for FROM deferred_events d
         CROSS JOIN LATERAL (SELECT substr(d.waits_for, strpos(d.waits_for, ':') + 1) AS id) k
         WHERE d.deferred_at < now() - make_interval(secs => $1)
           AND CASE split_part(d.waits_for, ':', 1)
                 WHEN 'worker' THEN EXISTS (SELECT 1 FROM workers w WHERE w.worker_id = k.id)
                                 OR EXISTS (SELECT 1 FROM event_receipts r WHERE r.type = 'worker.registered'
                                               AND r.entity_id = k.id AND r.status = 'rejected')
                 WHEN 'brand' THEN EXISTS (SELECT 1 FROM brands b WHERE b.brand_id = k.id)
                                OR EXISTS (SELECT 1 FROM event_receipts r WHERE r.type = 'brand.registered'
                                              AND r.entity_id = k.id AND r.status = 'rejected')
                 WHEN 'placement' THEN EXISTS (SELECT 1 FROM dispatch_workers x
                                                WHERE x.placement_id = k.id)
                 WHEN 'demand' THEN EXISTS (SELECT 1 FROM demands m WHERE m.demand_id = k.id)
                                 OR EXISTS (SELECT 1 FROM event_receipts r WHERE r.type = 'demand.posted'
                                               AND r.entity_id = k.id AND r.status = 'rejected')
                 ELSE false END
         LIMIT $2
        """,
        older_than_s, limit,
    )
    return {r["waits_for"] for r in rows}


async def refusals(conn: asyncpg.Connection, placement_ids: Iterable[str]) -> dict[str, str]:
    """Placements a dispatch refused: events about them can never apply."""
    rows = await conn.fetch(
        "SELECT placement_id, reason FROM dispatch_workers WHERE placement_id = ANY($1::text[]) AND outcome = 'rejected'",
        list(set(placement_ids)),
    )
    return {r["placement_id"]: r["reason"] for r in rows}


async def registrations_in_doubt(conn: asyncpg.Connection, worker_ids: Iterable[str],
                                 brand_ids: Iterable[str]) -> tuple[dict[str, str], set[str]]:
    """For brands and workers the ledger lacks (ask only for those), in one round trip: the registrations that were
    rejected (``{'worker:<id>' | 'brand:<id>': reason}``: what waits for them is rejected with this reason), and
    the workers whose registration is deferred (it waits for a brand: their other events wait behind it; a scan
    of ``deferred_events``, which holds only what waits)."""
    rows = await conn.fetch(
        """
        (SELECT DISTINCT ON (type, entity_id) type, entity_id, reason FROM event_receipts r
          WHERE status = 'rejected' AND ((type = 'worker.registered' AND entity_id = ANY($1::text[]))
                                      OR (type = 'brand.registered' AND entity_id = ANY($2::text[])))
            -- registered again since, and that one still to come: what waits keeps waiting for it
            AND NOT EXISTS (SELECT 1 FROM event_receipts a WHERE a.type = r.type AND a.entity_id = r.entity_id
                                                             AND a.status = 'accepted'
                                                             -- applied: its history row is its receipt (0036)
                                                             AND NOT EXISTS (SELECT 1 FROM worker_events h
                                                                              WHERE h.event_id = a.event_id))
          ORDER BY type, entity_id, decided_at DESC)
        UNION ALL
        (SELECT DISTINCT 'deferred', envelope->'payload'->>'worker_id', NULL FROM deferred_events
          WHERE envelope->>'type' = 'worker.registered' AND envelope->'payload'->>'worker_id' = ANY($1::text[]))
        """,
        list(set(worker_ids)), list(set(brand_ids)),
    )
    refused = {f"{r['type'].split('.')[0]}:{r['entity_id']}": str(r["reason"]) for r in rows if r["type"] != "deferred"}
    return refused, {r["entity_id"] for r in rows if r["type"] == "deferred"}


async def forget_accepted_placements(conn: asyncpg.Connection, event_ids: Sequence[Any]) -> None:
    """The placements the API remembered for these dispatches (migration 0020) count no more once decided."""
    if event_ids:
        await conn.execute("DELETE FROM accepted_placements WHERE event_id = ANY($1::uuid[])", list(event_ids))


async def defer(conn: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> None:
    await insert(conn, "deferred_events", rows)


async def resolve(conn: asyncpg.Connection, event_ids: Sequence[Any]) -> None:
    if event_ids:
        await conn.execute("DELETE FROM deferred_events WHERE event_id = ANY($1::uuid[])", list(event_ids))
