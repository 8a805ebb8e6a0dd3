"""SQL of priority-group monitoring (务工监测, issue 20): the facts the monthly records are derived from, read two
independent ways — from the stream worker's own tables (``monitoring_*``, migration 0030: what the API shows) and from
the ledger's tables (what the recount and the sweeper trust) — and the stream worker's writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import asyncpg

from laowu.domain.monitoring import FollowUp, Person, Spell
from laowu.store.scope import region_prefix

Facts = tuple[list[Person], list[Spell], list[FollowUp]]

# The same facts from the ledger: priority status and household region from `workers`, confirmed placements from
# `placements` (a placement is a spell once it has a start date: confirmed, or ended after confirmation).
_LEDGER = {
    "people": "SELECT worker_id, household_region, priority_groups FROM workers w "
              "WHERE cardinality(priority_groups) > 0 AND household_region LIKE $1",
    "spells": "SELECT p.placement_id, p.worker_id, p.origin_region, p.destination_region, p.start_date, p.end_date, "
              "p.end_reason, p.monthly_wage, p.employer_id FROM placements p JOIN workers w USING (worker_id) "
              "WHERE p.start_date IS NOT NULL AND p.status IN ('confirmed', 'ended') "
              "AND cardinality(w.priority_groups) > 0 AND w.household_region LIKE $1",
    "followups": "SELECT f.followup_id, f.placement_id, f.worker_id, f.date, f.employment_status, f.monthly_wage "
                 "FROM followups f JOIN workers w USING (worker_id) "
                 "WHERE cardinality(w.priority_groups) > 0 AND w.household_region LIKE $1",
}
_STREAM = {
    "people": "SELECT worker_id, household_region, priority_groups FROM monitoring_people "
              "WHERE cardinality(priority_groups) > 0 AND household_region LIKE $1",
    "spells": "SELECT s.placement_id, s.worker_id, s.origin_region, s.destination_region, s.start_date, s.end_date, "
              "s.end_reason, s.monthly_wage, s.employer_id FROM monitoring_spells s JOIN monitoring_people w "
              "USING (worker_id) WHERE cardinality(w.priority_groups) > 0 AND w.household_region LIKE $1",
    "followups": "SELECT f.followup_id, f.placement_id, f.worker_id, f.date, f.employment_status, f.monthly_wage "
                 "FROM monitoring_followups f JOIN monitoring_people w USING (worker_id) "
                 "WHERE cardinality(w.priority_groups) > 0 AND w.household_region LIKE $1",
}


async def _facts(conn: asyncpg.Pool | asyncpg.Connection, sql: dict[str, str], region: str | None) -> Facts:
    like = (region_prefix(region) if region else "") + "%"
    people = [Person(r["worker_id"], r["household_region"], tuple(r["priority_groups"]))
              for r in await conn.fetch(sql["people"], like)]
    spells = [Spell(**dict(r)) for r in await conn.fetch(sql["spells"], like)]
    followups = [FollowUp(**dict(r)) for r in await conn.fetch(sql["followups"], like)]
    return people, spells, followups


async def streamed_facts(conn: asyncpg.Pool | asyncpg.Connection, region: str | None = None) -> Facts:
    """What the stream worker keeps (the API's source)."""
    return await _facts(conn, _STREAM, region)


async def ledger_facts(conn: asyncpg.Pool | asyncpg.Connection, region: str | None = None) -> Facts:
    """The same, from the ledger (the recount's and the sweeper's source)."""
    return await _facts(conn, _LEDGER, region)


# ---- the stream worker's writes (inside the sink's transaction) ---------------------------------------------------
async def upsert_people(conn: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Last view wins: a worker's ledger changes travel in order on the worker's partition."""
    if rows:
        await conn.execute(
            "INSERT INTO monitoring_people (worker_id, household_region, priority_groups) "
            "SELECT w, h, g::text[] FROM unnest($1::text[], $2::text[], $3::text[]) AS u(w, h, g) "
            "ON CONFLICT (worker_id) DO UPDATE SET household_region = EXCLUDED.household_region, "
            "priority_groups = EXCLUDED.priority_groups",
            [r["worker_id"] for r in rows], [r["household_region"] for r in rows],
            ["{" + ",".join(r["priority_groups"]) + "}" for r in rows])


async def upsert_spells(conn: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """A placement's newest version wins, whatever order its views arrive in."""
    for r in rows:
        await conn.execute(
            "INSERT INTO monitoring_spells (placement_id, worker_id, origin_region, destination_region, start_date, "
            "end_date, end_reason, monthly_wage, employer_id, version) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
            "ON CONFLICT (placement_id) DO UPDATE SET end_date = EXCLUDED.end_date, end_reason = EXCLUDED.end_reason, "
            "start_date = EXCLUDED.start_date, monthly_wage = EXCLUDED.monthly_wage, version = EXCLUDED.version "
            "WHERE monitoring_spells.version < EXCLUDED.version",
            r["placement_id"], r["worker_id"], r["origin_region"], r["destination_region"], r["start_date"],
            r["end_date"], r["end_reason"], None if r["monthly_wage"] is None else Decimal(str(r["monthly_wage"])),
            r["employer_id"], r["version"])


async def insert_followups(conn: asyncpg.Connection, rows: Sequence[dict[str, Any]]) -> None:
    for r in rows:
        await conn.execute(
            "INSERT INTO monitoring_followups (followup_id, placement_id, worker_id, date, employment_status, "
            "monthly_wage) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
            r["followup_id"], r["placement_id"], r["worker_id"], r["date"], r["employment_status"],
            None if r.get("monthly_wage") is None else Decimal(str(r["monthly_wage"])))


async def rebuild(conn: asyncpg.Connection) -> None:
    """``laowu stats recount --fix``: the stream's copy rewritten from the ledger."""
    await conn.execute("TRUNCATE monitoring_people, monitoring_spells, monitoring_followups")
    await conn.execute("INSERT INTO monitoring_people SELECT worker_id, household_region, priority_groups FROM workers")
    await conn.execute(
        "INSERT INTO monitoring_spells SELECT placement_id, worker_id, origin_region, destination_region, start_date, "
        "end_date, end_reason, monthly_wage, employer_id, version FROM placements "
        "WHERE start_date IS NOT NULL AND status IN ('confirmed', 'ended')")
    await conn.execute("INSERT INTO monitoring_followups SELECT followup_id, placement_id, worker_id, date, "
                       "employment_status, monthly_wage FROM followups")
