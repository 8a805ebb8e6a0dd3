"""Reads of brand dynamic management (issue 21): a brand's management document as the API shows it, the bureau's
list of applications, a reviewer's assigned reviews. The document is ``brands.management`` (the ledger's)."""

from __future__ import annotations

from typing import Any

import asyncpg

from laowu.store.errors import NotFound
from laowu.store.scope import Viewer, region_between, unbounded, worker_clause


def _persons(doc: dict[str, Any], workers: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Typical persons as the viewer may see them: a worker by the masked record, and only by a viewer who sees that
    worker (as ``GET /v1/workers/{id}``; to anyone else the title and story alone); a named person's phone masked;
    never a ciphertext."""
    out = []
    for p in doc.get("persons", {}).values():
        shown = {k: p.get(k) for k in ("person_id", "title", "worker_id", "name", "phone_masked", "story", "at")}
        if p.get("worker_id"):
            w = workers.get(p["worker_id"])
            shown |= ({"name": w["name"], "id_number_masked": w["id_number_masked"],
                       "household_region": w["household_region"]} if w is not None else {"worker_id": None})
        out.append(shown)
    return out


async def _visible_workers(pool: asyncpg.Pool, worker_ids: list[str], viewer: Viewer) -> dict[str, dict[str, Any]]:
    if not worker_ids or viewer.role == "reviewer":  # an expert judges the brand, not its people
        return {}
    args: list[Any] = [worker_ids]
    clause = worker_clause(viewer, args, "w")
    rows = await pool.fetch("SELECT w.worker_id, w.name, w.id_number_masked, w.household_region FROM workers w "
                            f"WHERE w.worker_id = ANY($1::text[]) AND {clause}", *args)
    return {r["worker_id"]: dict(r) for r in rows}


async def management(pool: asyncpg.Pool, brand_id: str, viewer: Viewer) -> dict[str, Any]:
    row = await pool.fetchrow("SELECT brand_id, management FROM brands WHERE brand_id = $1", brand_id)
    if row is None:
        raise NotFound(brand_id)
    doc = dict(row["management"] or {})
    worker_ids = [p["worker_id"] for p in doc.get("persons", {}).values() if p.get("worker_id")]
    workers = await _visible_workers(pool, worker_ids, viewer)
    applications = sorted(doc.get("applications", {}).values(), key=lambda a: a["submitted_at"], reverse=True)
    return {"brand_id": brand_id, "applications": applications,
            "rechecks": sorted(doc.get("rechecks", {}).values(), key=lambda r: r["year"], reverse=True),
            "complaints": sorted(doc.get("complaints", {}).values(), key=lambda c: c["at"], reverse=True),
            "persons": _persons(doc, workers)}


_APPLICATIONS = """
SELECT b.brand_id, b.name AS brand_name, b.region_code, b.level, b.status AS brand_status, a.value AS application
  FROM brands b, jsonb_each(b.management -> 'applications') a
"""


async def applications(pool: asyncpg.Pool, viewer: Viewer, *, status: str | None, reviewer: str | None,
                       limit: int) -> list[dict[str, Any]]:
    """Applications newest first: of the brands in the viewer's jurisdiction (a reviewer: those assigned to them),
    optionally of one status (``open``: submitted or in review)."""
    args: list[Any] = []
    where = ["TRUE"]
    if reviewer is not None:
        args.append(reviewer)
        where.append(f"a.value -> 'reviewers' ? ${len(args)}")
    elif not unbounded(viewer):
        if viewer.region is None:
            return []
        where.append(region_between("b.region_code", viewer.region, args))
    if status == "open":
        where.append("a.value ->> 'status' IN ('submitted', 'in_review')")
    elif status is not None:
        args.append(status)
        where.append(f"a.value ->> 'status' = ${len(args)}")
    args.append(limit)
    rows = await pool.fetch(f"{_APPLICATIONS} WHERE {' AND '.join(where)} "
                            f"ORDER BY a.value ->> 'submitted_at' DESC, b.brand_id LIMIT ${len(args)}", *args)
    return [dict(r) for r in rows]
