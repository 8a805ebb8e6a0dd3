"""What a write may name: the ledger, plus what was accepted (202) and is not decided yet (read-your-writes).

A 202 is a promise: a client may build on what it was told was accepted at once, before the ledger applied it.
Every pre-check of every door (single requests, ``/v1/events:batch``) asks here, so that they agree:

- a brand is known with its ledger status, or as ``candidate`` (the status a registration starts in) while a
  ``brand.registered`` for it is accepted and undecided — whoever sent it, as brands are a shared library;
- a worker is known to a caller who may act on them by the ledger (``scope.worker_clause``, reach ``act``), or
  as ``registered`` while a ``worker.registered`` the caller's own organization sent is accepted and undecided.
  Another organization sees only the ledger: jurisdiction needs the household region, which a receipt lacks;
- a placement is known by the ledger (``scope.placement_clause``), or while the ``dispatch.created`` that makes it
  is accepted and undecided, to that dispatch's employer and organizer.

Something accepted and then rejected is no longer pending, so naming it is refused again. The pending half of
each query is a second arm of the same statement (an index probe on ``event_receipts_registrations`` or
``accepted_placements``, migration 0020), only for ids the ledger does not hold: no extra round trip.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from laowu.store.scope import Viewer, placement_clause, unbounded, worker_clause

PENDING_BRAND_STATUS = "candidate"
PENDING_WORKER_STATE = "registered"


async def brand_statuses(pool: asyncpg.Pool | asyncpg.Connection, brand_ids: list[str]) -> dict[str, str]:
    """``{brand_id: status}`` for the brands that exist or whose registration is accepted and undecided."""
    rows = await pool.fetch(
        f"""
        SELECT brand_id, status FROM brands WHERE brand_id = ANY($1::text[])
        UNION ALL
        SELECT DISTINCT r.entity_id, '{PENDING_BRAND_STATUS}' FROM event_receipts r
         WHERE r.type = 'brand.registered' AND r.status = 'accepted' AND r.entity_id = ANY($1::text[])
           AND NOT EXISTS (SELECT 1 FROM brands b WHERE b.brand_id = r.entity_id)
        """,
        brand_ids,
    )
    return {r["brand_id"]: r["status"] for r in rows}


async def pending_brand_senders(pool: asyncpg.Pool | asyncpg.Connection, brand_ids: list[str]) -> dict[str, set[str]]:
    """``{brand_id: {organization}}`` for brands not in the library whose registration is accepted and undecided:
    who sent it. Until it is applied its region is not known here, so only its sender may change it."""
    rows = await pool.fetch(
        """
        SELECT DISTINCT r.entity_id, r.source FROM event_receipts r
         WHERE r.type = 'brand.registered' AND r.status = 'accepted' AND r.entity_id = ANY($1::text[])
           AND NOT EXISTS (SELECT 1 FROM brands b WHERE b.brand_id = r.entity_id)
        """,
        brand_ids,
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["entity_id"], set()).add(r["source"])
    return out


async def acting_workers(pool: asyncpg.Pool | asyncpg.Connection, worker_ids: list[str],
                         viewer: Viewer) -> dict[str, tuple[str, str | None]]:
    """``{worker_id: (state, current_placement_id)}`` for the workers ``viewer`` may write about (dispatch,
    correct, certify, train, join a brand): those in its scope in the ledger, and those its organization
    registered whose registration is accepted and undecided (state ``registered``, no placement)."""
    args: list[Any] = [worker_ids]
    clause = worker_clause(viewer, args, reach="act")
    if unbounded(viewer):
        sender = "TRUE"
    else:
        args.append(viewer.org)
        sender = f"r.source = ${len(args)}"
    rows = await pool.fetch(
        f"""
        SELECT worker_id, state, current_placement_id FROM workers w
         WHERE worker_id = ANY($1::text[]) AND {clause}
        UNION ALL
        SELECT DISTINCT r.entity_id, '{PENDING_WORKER_STATE}', NULL FROM event_receipts r
         WHERE r.type = 'worker.registered' AND r.status = 'accepted' AND r.entity_id = ANY($1::text[]) AND {sender}
           AND NOT EXISTS (SELECT 1 FROM workers x WHERE x.worker_id = r.entity_id)
        """,
        *args,
    )
    return {r["worker_id"]: (r["state"], r["current_placement_id"]) for r in rows}


async def placement_refs(pool: asyncpg.Pool | asyncpg.Connection, placement_ids: list[str],
                         viewer: Viewer) -> dict[str, dict[str, Any]]:
    """``{placement_id: {worker_id, employer_id, organizer_id}}`` for the placements ``viewer`` sees: in the
    ledger by ``scope.placement_clause``; accepted and undecided, as the dispatch's employer or organizer."""
    args: list[Any] = [placement_ids]
    clause = placement_clause(viewer, args)
    if unbounded(viewer):
        party = "TRUE"
    else:
        args.append(viewer.org)
        party = f"(a.employer_id = ${len(args)} OR a.organizer_id = ${len(args)})"
    rows = await pool.fetch(
        f"""
        SELECT placement_id, worker_id, employer_id, organizer_id FROM placements p
         WHERE placement_id = ANY($1::text[]) AND {clause}
        UNION ALL
        SELECT a.placement_id, a.worker_id, a.employer_id, a.organizer_id FROM accepted_placements a
          JOIN event_receipts r ON r.event_id = a.event_id AND r.status = 'accepted'
         WHERE a.placement_id = ANY($1::text[]) AND {party}
           AND NOT EXISTS (SELECT 1 FROM placements x WHERE x.placement_id = a.placement_id)
        """,
        *args,
    )
    return {r["placement_id"]: dict(r) for r in rows}


async def accept_placements(pool: asyncpg.Pool | asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Remember the placements of accepted dispatches: (placement_id, event_id, dispatch_id, worker_id,
    employer_id, organizer_id). Written before the ``accepted`` receipt, so the receipt never counts without them."""
    if not rows:
        return
    cols = list(zip(*rows, strict=True))
    await pool.execute(
        """
        INSERT INTO accepted_placements (placement_id, event_id, dispatch_id, worker_id, employer_id, organizer_id)
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
        ON CONFLICT (placement_id) DO NOTHING
        """,
        *[list(c) for c in cols],
    )
