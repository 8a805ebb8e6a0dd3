"""Reads of the organizations registry and the subsidy workflow (issue 21), scoped to the caller.

An entitlement is seen by an admin, by a bureau or workstation whose region covers its origin or one of its regions
(household, origin), and by the organization it names (the organizer). An organization is seen by an admin, by the
staff of a region covering its own, and by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import asyncpg

from laowu.domain import regions
from laowu.domain import subsidies as subsidy_rules
from laowu.intake import OrganizationRef, SubsidyRef
from laowu.store.errors import NotFound
from laowu.store.queries import Filter
from laowu.store.scope import Viewer, covers, region_between, unbounded
from laowu.store.subsidy_claims import CLAIM_SELECT, claim_of

ORG_PUBLIC = ("org_id, kind, name, region_code, uscc, id_number_masked, contact_name, contact_phone_masked, status, "
              "first_use, registered_by, registered_at, status_reason, verified_by")


def sees_subsidy(viewer: Viewer | None, row: dict[str, Any]) -> bool:
    if viewer is None or viewer.role == "employer":
        return False
    if unbounded(viewer):
        return True
    if viewer.role == "workstation" and row["organization_id"] == viewer.org:
        return True
    codes = [row.get("origin_region") or "", *(row.get("regions") or [])]
    return any(code and covers(viewer, code) for code in codes)


def _org_clause(viewer: Viewer | None, f: Filter) -> None:
    if viewer is None:
        f.raw("FALSE")
    elif unbounded(viewer):
        return
    elif viewer.role == "employer":
        f.add("org_id = ?", viewer.org)
    else:
        args = f.args
        clause = region_between("region_code", viewer.region or "999999", args)
        args.append(viewer.org)
        f.raw(f"({clause} OR org_id = ${len(args)})")


# ---- what the handlers look up ----------------------------------------------------------------------------------
async def organization_refs(pool: asyncpg.Pool, org_ids: list[str]) -> dict[str, OrganizationRef]:
    """The registry, and registrations accepted and not decided yet (pending, region not known until applied)."""
    rows = await pool.fetch(
        """SELECT org_id, status, region_code FROM organizations WHERE org_id = ANY($1::text[])
           UNION ALL
           SELECT entity_id, 'pending', NULL FROM event_receipts
            WHERE entity_id = ANY($1::text[]) AND type = $2 AND status = 'accepted'""",
        org_ids, "organization.registered")
    out: dict[str, OrganizationRef] = {}
    for r in rows:
        if r["org_id"] not in out or r["region_code"] is not None:
            out[r["org_id"]] = OrganizationRef(r["org_id"], r["status"], r["region_code"])
    return out


async def subsidy_refs(pool: asyncpg.Pool, subsidy_ids: list[str], viewer: Viewer) -> dict[str, SubsidyRef]:
    rows = await pool.fetch(
        """SELECT s.subsidy_id, s.worker_id, s.organization_id, s.origin_region, s.regions,
                  COALESCE(c.status, 'entitled') AS status, c.applicant_id, c.applied_at
             FROM subsidies s LEFT JOIN subsidy_claims c ON c.subsidy_id = s.subsidy_id
            WHERE s.subsidy_id = ANY($1::text[])""", subsidy_ids)
    return {r["subsidy_id"]: SubsidyRef(r["subsidy_id"], r["worker_id"], r["organization_id"], r["origin_region"],
                                        r["status"], r["applicant_id"],
                                        r["applied_at"].date().isoformat() if r["applied_at"] else None)
            for r in rows if sees_subsidy(viewer, dict(r))}


# ---- organizations ----------------------------------------------------------------------------------------------
async def organizations(pool: asyncpg.Pool, *, kind: str | None, status: str | None, region: str | None,
                        after: str | None, limit: int, viewer: Viewer) -> list[dict[str, Any]]:
    f = Filter()
    _org_clause(viewer, f)
    f.add("kind = ?", kind).add("status = ?", status).add("org_id > ?", after)
    if region:
        f.raw(region_between("region_code", region, f.args))
    return await f.page(pool, f"SELECT {ORG_PUBLIC} FROM organizations", "org_id", limit)


async def organization(pool: asyncpg.Pool, org_id: str, viewer: Viewer) -> dict[str, Any]:
    f = Filter().add("org_id = ?", org_id)
    _org_clause(viewer, f)
    found = await f.page(pool, f"SELECT {ORG_PUBLIC} FROM organizations", "org_id", 1)
    if not found:
        raise NotFound(org_id)
    return found[0]


async def organization_reveal(pool: asyncpg.Pool, org_id: str, viewer: Viewer) -> dict[str, Any]:
    """The ciphertexts of a broker's ID number and a contact phone, for a viewer with jurisdiction over its region."""
    row = await pool.fetchrow(f"SELECT {ORG_PUBLIC}, id_number_enc, contact_phone_enc FROM organizations "
                              "WHERE org_id = $1", org_id)
    if row is None or viewer.role == "employer" or not covers(viewer, row["region_code"]):
        raise NotFound(org_id)
    return dict(row)


async def organization_history(pool: asyncpg.Pool, org_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT seq, event_id, type, occurred_at, recorded_at, applied_at, source, actor, changes "
                            "FROM organization_events WHERE org_id = $1 ORDER BY seq", org_id)
    return [dict(r) for r in rows]


# ---- subsidies -----------------------------------------------------------------------------------------------------
async def subsidy(pool: asyncpg.Pool, subsidy_id: str, viewer: Viewer) -> dict[str, Any]:
    row = await pool.fetchrow(f"{CLAIM_SELECT} WHERE s.subsidy_id = $1", subsidy_id)
    extra = await pool.fetchrow("SELECT regions, accrued_at FROM subsidies WHERE subsidy_id = $1", subsidy_id)
    if row is None or extra is None:
        raise NotFound(subsidy_id)
    claim = claim_of(row)
    out = dict(vars(claim)) | {"regions": list(extra["regions"]), "accrued_at": extra["accrued_at"]}
    if not sees_subsidy(viewer, out):
        raise NotFound(subsidy_id)
    history = await pool.fetch("SELECT seq, event_id, type, occurred_at, recorded_at, applied_at, source, actor, "
                               "changes FROM subsidy_events WHERE subsidy_id = $1 ORDER BY seq", subsidy_id)
    out["history"] = [dict(h) for h in history]
    return out


NOTICE_SELECT = """
    SELECT c.subsidy_id, w.name, w.id_number_masked, c.kind, c.amount, s.organization_id,
           o.name AS organization_name, c.notice_id, c.notice_start, c.notice_end, c.status, c.objections,
           s.origin_region, s.regions
      FROM subsidy_claims c JOIN subsidies s ON s.subsidy_id = c.subsidy_id
      JOIN workers w ON w.worker_id = c.worker_id
      LEFT JOIN organizations o ON o.org_id = s.organization_id
"""


async def notice(pool: asyncpg.Pool, *, notice_id: str | None, region: str | None, viewer: Viewer
                 ) -> list[dict[str, Any]]:
    """公示名单: what is or was on public notice (a notice's lines keep their place after payment or an upheld
    objection, with their status), in the order of the notice; masked as public lists are."""
    f = Filter().raw("c.notice_id IS NOT NULL").add("c.notice_id = ?", notice_id)
    if region:
        f.raw(region_between("s.origin_region", region, f.args))
    rows = await f.page(pool, NOTICE_SELECT, "c.notice_id, c.kind, c.subsidy_id", 5000)
    out: list[dict[str, Any]] = []
    for r in rows:
        if not sees_subsidy(viewer, r):
            continue
        out.append({
            "seq": len(out) + 1, "subsidy_id": r["subsidy_id"], "name": r["name"],
            # the address code only, whatever an older release stored (API.md: masked means unrecoverable)
            "id_number_masked": (r["id_number_masked"] or "")[:6] + "*" * 12,
            "kind": r["kind"], "kind_label": subsidy_rules.LABELS.get(r["kind"], r["kind"]), "amount": r["amount"],
            "organization_id": r["organization_id"], "organization_name": r["organization_name"],
            "notice_id": r["notice_id"], "notice_start": r["notice_start"], "notice_end": r["notice_end"],
            "status": r["status"], "objections": len(r["objections"] or []),
        })
    return out


def _rule_keys() -> Iterable[tuple[str, int]]:
    for code, entry in subsidy_rules.default_rules().items():
        if code.startswith("_"):
            continue
        years = [0] if "version" in entry else [int(y) for y in entry if not y.startswith("_")]
        for y in years:
            yield code, y


def _sees_budget(viewer: Viewer, code: str) -> bool:
    """A region's staff see the budgets their region draws on (its own and those above it) and those below it."""
    if unbounded(viewer):
        return True
    if viewer.role == "employer" or viewer.region is None:
        return False
    return code == "default" or code in regions.rollup(viewer.region) or covers(viewer, code)


async def budgets(pool: asyncpg.Pool, *, year: int | None, viewer: Viewer) -> list[dict[str, Any]]:
    """Every region-year the rules give a budget, with what approvals committed and payments paid (left = budget −
    committed; committed includes what is paid)."""
    rows = {(r["rule_region"], r["year"]): r for r in await pool.fetch(
        "SELECT rule_region, year, committed, paid FROM subsidy_budgets")}
    keys = set(_rule_keys()) | set(rows)
    out = []
    for code, y in sorted(keys):
        if (year is not None and y != year) or not _sees_budget(viewer, code):
            continue
        total = subsidy_rules.budget_of(code, y)
        r = rows.get((code, y))
        committed = r["committed"] if r else Decimal("0.00")
        paid = r["paid"] if r else Decimal("0.00")
        out.append({"rule_region": code, "year": y, "budget": total, "committed": committed, "paid": paid,
                    "left": total - committed})
    return out
