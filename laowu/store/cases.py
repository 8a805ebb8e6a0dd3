"""SQL of alert casework (跟踪帮扶, issue 20): cases as the ledger loads and saves them, the sweeper's escalations,
and the reads of the work-lists, the case page and the figures.

A case is an alert (``alerts``) plus its casework (``alert_cases``, migration 0029), which exists from the first
step on. Who sees a case: whoever sees the alert (its regions, through the cover table ``alert_regions``) and the
bureau it was escalated to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from laowu.domain.casework import Case
from laowu.store import bulk
from laowu.store.scope import Viewer, region_prefix, unbounded

CASE_SELECT = """
SELECT a.alert_id, a.kind, a.worker_id, a.placement_id, a.regions, a.due_at, a.raised_at, a.detail,
       a.closed_at AS alert_closed_at, COALESCE(c.state, 'open') AS state, c.assignee, c.team, c.acknowledged_at,
       c.closed_at, c.outcome, c.reopened_at, c.escalated_to, c.escalated_at, COALESCE(c.version, 0) AS version
  FROM alerts a LEFT JOIN alert_cases c ON c.alert_id = a.alert_id
"""
CASE_FIELDS = ("alert_id", "kind", "regions", "raised_at", "alert_closed_at", "state", "assignee", "team",
               "acknowledged_at", "closed_at", "outcome", "reopened_at", "escalated_to", "escalated_at", "version")


def case_of(row: Any) -> Case:
    r = dict(row)
    fields: dict[str, Any] = {k: (list(r[k]) if k == "regions" else r[k]) for k in CASE_FIELDS}
    return Case(**fields)


async def load_cases(conn: asyncpg.Connection, alert_ids: set[str]) -> dict[str, Case]:
    """The ledger's read, locking the case rows this batch changes (the sweeper escalates in its own transaction)."""
    if not alert_ids:
        return {}
    rows = await conn.fetch(CASE_SELECT + " WHERE a.alert_id = ANY($1::text[]) FOR UPDATE OF a", list(alert_ids))
    return {r["alert_id"]: case_of(r) for r in rows}


_SAVE = ("ON CONFLICT (alert_id) DO UPDATE SET state = EXCLUDED.state, assignee = EXCLUDED.assignee, "
         "team = EXCLUDED.team, acknowledged_at = EXCLUDED.acknowledged_at, closed_at = EXCLUDED.closed_at, "
         "outcome = EXCLUDED.outcome, reopened_at = EXCLUDED.reopened_at, version = EXCLUDED.version, "
         "updated_at = now()")


async def save_cases(conn: asyncpg.Connection, cases: Sequence[Case], history: Sequence[dict[str, Any]]) -> None:
    """The ledger's write: its own columns only (the escalation columns are the sweeper's)."""
    rows = [{"alert_id": c.alert_id, "state": c.state, "assignee": c.assignee, "team": c.team,
             "acknowledged_at": c.acknowledged_at, "closed_at": c.closed_at, "outcome": c.outcome,
             "reopened_at": c.reopened_at, "version": c.version} for c in cases]
    await bulk.write(conn, "alert_cases", rows, tail=_SAVE)
    await bulk.write(conn, "alert_case_events", list(history), tail="ON CONFLICT (event_id) DO NOTHING")


async def alert_regions(pool: asyncpg.Pool, alert_ids: list[str]) -> dict[str, list[str]]:
    """For the handlers: the regions that see each alert (its own, and the bureau it escalated to)."""
    rows = await pool.fetch(
        "SELECT a.alert_id, a.regions, c.escalated_to FROM alerts a LEFT JOIN alert_cases c ON c.alert_id = a.alert_id "
        "WHERE a.alert_id = ANY($1::text[])", alert_ids)
    return {r["alert_id"]: [*r["regions"], *([r["escalated_to"]] if r["escalated_to"] else [])] for r in rows}


async def enabled_accounts(pool: asyncpg.Pool, usernames: list[str]) -> dict[str, tuple[str, str | None]]:
    rows = await pool.fetch("SELECT username, role, region FROM accounts WHERE username = ANY($1::text[]) AND enabled",
                            usernames)
    return {r["username"]: (r["role"], r["region"]) for r in rows}


# ---- the sweeper ---------------------------------------------------------------------------------------------------
async def escalation_candidates(conn: asyncpg.Connection, kinds: Sequence[str], since: datetime) -> list[Case]:
    """Cases of ``kinds`` raised since ``since`` that have not escalated (locked, skipped if another replica has them)."""
    rows = await conn.fetch(
        CASE_SELECT + " WHERE a.kind = ANY($1::text[]) AND a.raised_at >= $2 AND c.escalated_to IS NULL "
        "FOR UPDATE OF a SKIP LOCKED", list(kinds), since)
    return [case_of(r) for r in rows]


async def escalate(conn: asyncpg.Connection, escalations: Sequence[tuple[str, str, datetime]]) -> list[str]:
    """Set (alert, bureau, when) where nobody did yet; returns the alerts escalated now."""
    if not escalations:
        return []
    rows = await conn.fetch(
        """INSERT INTO alert_cases (alert_id, escalated_to, escalated_at)
           SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
           ON CONFLICT (alert_id) DO UPDATE SET escalated_to = EXCLUDED.escalated_to,
                  escalated_at = EXCLUDED.escalated_at, updated_at = now()
            WHERE alert_cases.escalated_to IS NULL
           RETURNING alert_id""",
        [e[0] for e in escalations], [e[1] for e in escalations], [e[2] for e in escalations])
    return [r["alert_id"] for r in rows]


# ---- reads ---------------------------------------------------------------------------------------------------------
def seen_clause(viewer: Viewer, args: list[Any]) -> str:
    """Cases ``viewer`` sees: the alert's regions under its own, or escalated to a bureau under it."""
    if unbounded(viewer):
        return "TRUE"
    if viewer.role == "employer" or not viewer.region:
        return "FALSE"
    args.append(viewer.region)
    args.append(region_prefix(viewer.region) + "%")
    n = len(args)
    return (f"(EXISTS (SELECT 1 FROM alert_regions ar WHERE ar.alert_id = a.alert_id AND ar.code = ${n - 1})"
            f" OR c.escalated_to LIKE ${n})")


async def cases(pool: asyncpg.Pool, viewer: Viewer, *, region: str | None = None, assignee: str | None = None,
                team: str | None = None, kind: str | None = None, escalated_to: str | None = None,
                open_only: bool = False, limit: int = 500) -> list[Case]:
    args: list[Any] = []
    where = [seen_clause(viewer, args)]
    if region:
        args.append(region)
        where.append(f"EXISTS (SELECT 1 FROM alert_regions rr WHERE rr.alert_id = a.alert_id AND rr.code = ${len(args)})")
    for column, value in (("c.assignee", assignee), ("c.team", team), ("a.kind", kind),
                          ("c.escalated_to", escalated_to)):
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if open_only:
        where.append("COALESCE(c.state, 'open') <> 'closed' AND (a.closed_at IS NULL OR c.reopened_at > a.closed_at)")
    args.append(limit)
    rows = await pool.fetch(f"{CASE_SELECT} WHERE {' AND '.join(where)} ORDER BY a.raised_at, a.alert_id "
                            f"LIMIT ${len(args)}", *args)
    return [case_of(r) for r in rows]


async def case_rows(pool: asyncpg.Pool, viewer: Viewer, alert_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The case as a row (with the alert's worker and placement) and its people's steps, oldest first."""
    args: list[Any] = [alert_id]
    row = await pool.fetchrow(f"{CASE_SELECT} WHERE a.alert_id = $1 AND {seen_clause(viewer, args)}", *args)
    if row is None:
        return None
    steps = await pool.fetch("SELECT event_id, type, occurred_at, actor, detail, changes FROM alert_case_events "
                             "WHERE alert_id = $1 ORDER BY occurred_at, seq", alert_id)
    return dict(row), [dict(s) for s in steps]


async def last_steps(pool: asyncpg.Pool, alert_ids: Iterable[str]) -> dict[str, datetime]:
    rows = await pool.fetch("SELECT alert_id, max(occurred_at) AS at FROM alert_case_events "
                            "WHERE alert_id = ANY($1::text[]) GROUP BY alert_id", list(alert_ids))
    return {r["alert_id"]: r["at"] for r in rows}
