"""The ledger's SQL for organizations (机构) and subsidy claims (补贴申领), issue 21: loads (locked) and saves, inside
the batch's transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg

from laowu.domain import subsidies as subsidy_rules
from laowu.domain.organizations import OrganizationRecord
from laowu.domain.subsidy_claims import Budget, ClaimRecord
from laowu.ledger.rows import row_of
from laowu.store import bulk
from laowu.store.ledger import upsert_tail

ORG_COLUMNS = [f.name for f in dataclasses.fields(OrganizationRecord)]
_SAVE_ORGS = upsert_tail("org_id", ORG_COLUMNS)
ENTITLEMENT = ("subsidy_id", "kind", "worker_id", "organization_id", "placement_id", "amount", "rule_version",
               "rule_region", "period", "origin_region", "accrued_on")
WORKFLOW = [f.name for f in dataclasses.fields(ClaimRecord) if f.name not in ENTITLEMENT]
CLAIM_COLUMNS = ["subsidy_id", "kind", "worker_id", "period", "rule_region", "amount", *WORKFLOW]
_SAVE_CLAIMS = upsert_tail("subsidy_id", CLAIM_COLUMNS)
_SAVE_BUDGETS = ("ON CONFLICT (rule_region, year) DO UPDATE SET committed = EXCLUDED.committed, "
                 "paid = EXCLUDED.paid, updated_at = now()")


async def load_organizations(conn: asyncpg.Connection, org_ids: Iterable[str], *, lock: bool = True
                             ) -> dict[str, OrganizationRecord]:
    rows = await conn.fetch(
        f"SELECT {', '.join(ORG_COLUMNS)} FROM organizations WHERE org_id = ANY($1::text[]) ORDER BY org_id"
        + (" FOR UPDATE" if lock else ""),
        sorted(set(org_ids)))
    return {r["org_id"]: OrganizationRecord(**dict(r)) for r in rows}


async def claim_new_organizations(conn: asyncpg.Connection, org_ids: Iterable[str]) -> dict[str, OrganizationRecord]:
    """Organizations this batch may create: a row lock cannot be taken on a row that does not exist yet, so a
    transaction-scoped advisory lock per id (in one order for every replica) stands for it; whoever waited reads
    what the other created."""
    ids = sorted(set(org_ids))
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('organization:' || i, 0)) "
        "FROM unnest($1::text[]) WITH ORDINALITY AS u(i, n) ORDER BY n", ids)
    return await load_organizations(conn, ids, lock=True)


async def save_organizations(conn: asyncpg.Connection, records: Sequence[OrganizationRecord]) -> None:
    if records:
        await bulk.write(conn, "organizations", [row_of(r) for r in records], _SAVE_ORGS)


def claim_of(r: asyncpg.Record | dict[str, Any]) -> ClaimRecord:
    """An entitlement row (joined with its workflow row, if any) as a record; rows of older releases have no rule
    region: the rules say which one decided them."""
    row = dict(r)
    accrued_on = row["accrued_on"]
    if row.get("rule_region") is None:
        row["rule_region"] = subsidy_rules.rules_for(row["origin_region"] or "000000", on=accrued_on)["region"]
    if row.get("period") is None:
        row["period"] = accrued_on.year
    if row.get("status") is None:
        row["status"] = "entitled"
    for k in ("checked", "objections"):
        row[k] = list(row.get(k) or [])
    if row.get("version") is None:
        row["version"] = 0
    fields: dict[str, Any] = {k: row.get(k) for k in (*ENTITLEMENT, *WORKFLOW)}
    return ClaimRecord(**fields)


CLAIM_SELECT = f"""
    SELECT s.subsidy_id, s.kind, s.worker_id, s.organization_id, s.placement_id, s.amount, s.rule_version,
           COALESCE(c.rule_region, s.rule_region) AS rule_region, COALESCE(c.period, s.period) AS period,
           s.origin_region, (s.accrued_at AT TIME ZONE 'Asia/Shanghai')::date AS accrued_on,
           {', '.join('c.' + c for c in WORKFLOW)}
      FROM subsidies s LEFT JOIN subsidy_claims c ON c.subsidy_id = s.subsidy_id
"""


async def load_claims(conn: asyncpg.Connection, subsidy_ids: Iterable[str]) -> dict[str, ClaimRecord]:
    rows = await conn.fetch(f"{CLAIM_SELECT} WHERE s.subsidy_id = ANY($1::text[]) ORDER BY s.subsidy_id FOR UPDATE OF s",
                            sorted(set(subsidy_ids)))
    return {r["subsidy_id"]: claim_of(r) for r in rows}


async def load_rivals(conn: asyncpg.Connection, keys: Iterable[tuple[str, str, int]]
                      ) -> dict[tuple[str, str, int], dict[str, str]]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    # One person's period is decided by one transaction at a time, whichever of their entitlements it moves: a
    # transaction-scoped lock per key, taken in one order.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(k, 21)) FROM unnest($1::text[]) k ORDER BY k",
                       [f"subsidy-period:{w}:{k}:{p}" for w, k, p in wanted])
    rows = await conn.fetch(
        "SELECT worker_id, kind, period, subsidy_id, status FROM subsidy_claims "
        "WHERE (worker_id, kind, period) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::int[]))",
        [w for w, _, _ in wanted], [k for _, k, _ in wanted], [p for _, _, p in wanted])
    out: dict[tuple[str, str, int], dict[str, str]] = {k: {} for k in wanted}
    for r in rows:
        out[(r["worker_id"], r["kind"], r["period"])][r["subsidy_id"]] = r["status"]
    return out


async def load_budgets(conn: asyncpg.Connection, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], Budget]:
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    await conn.execute(
        "INSERT INTO subsidy_budgets (rule_region, year) SELECT * FROM unnest($1::text[], $2::int[]) "
        "ON CONFLICT DO NOTHING", [r for r, _ in wanted], [y for _, y in wanted])
    rows = await conn.fetch(
        "SELECT rule_region, year, committed, paid FROM subsidy_budgets "
        "WHERE (rule_region, year) IN (SELECT * FROM unnest($1::text[], $2::int[])) "
        "ORDER BY rule_region, year FOR UPDATE", [r for r, _ in wanted], [y for _, y in wanted])
    return {(r["rule_region"], r["year"]): Budget(r["rule_region"], r["year"],
                                                  subsidy_rules.budget_of(r["rule_region"], r["year"]),
                                                  r["committed"], r["paid"]) for r in rows}


async def save_claims(conn: asyncpg.Connection, records: Sequence[ClaimRecord]) -> None:
    if records:
        await bulk.write(conn, "subsidy_claims", [{k: getattr(c, k) for k in CLAIM_COLUMNS} for c in records],
                         _SAVE_CLAIMS)


async def save_budgets(conn: asyncpg.Connection, budgets: Sequence[Budget]) -> None:
    if budgets:
        await bulk.write(conn, "subsidy_budgets", [{"rule_region": b.rule_region, "year": b.year,
                                                    "committed": b.committed, "paid": b.paid} for b in budgets],
                         _SAVE_BUDGETS)
