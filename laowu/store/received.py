"""The receiving region's view (输入地, issue 19): the people whose active placement lies in a region, with the
placement that brought them, for the destination's bureau and the workstations posted there (驻外工作站).

What a row shows of the person is the masked view every role gets (``laowu.domain.identity.masked_worker``: the
address code of the number, the birth month); no phone. The receiving region has no jurisdiction over them: no
reveal, no writes (``laowu.store.scope``).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg

from laowu.store import agreements
from laowu.store.scope import ACTIVE, Viewer, region_between, unbounded

Conn: TypeAlias = asyncpg.Pool | asyncpg.Connection


async def receiving_region(conn: Conn, viewer: Viewer) -> str | None:
    """The region ``viewer`` receives people for: a bureau's own, a workstation's posting (None: not posted);
    None for anyone else (an admin names one with ``region=``)."""
    if viewer.role == "bureau":
        return viewer.region
    if viewer.role == "workstation":
        posting = await agreements.posting(conn, viewer.org)
        return None if posting is None else str(posting["posted_region"])
    return None


async def page(conn: Conn, viewer: Viewer, *, region: str | None, after: str | None, limit: int
               ) -> list[dict[str, Any]]:
    """Active placements into the viewer's receiving region (narrowed to ``region`` when given, which must lie in
    it: the caller checks), by placement id."""
    own = None if unbounded(viewer) else await receiving_region(conn, viewer)
    if own is None and not unbounded(viewer):
        return []
    args: list[Any] = []
    where = [f"p.status IN {ACTIVE}"]
    for code in dict.fromkeys(c for c in (own, region) if c):
        where.append(region_between("p.destination_region", code, args))
    if after:
        args.append(after)
        where.append(f"p.placement_id > ${len(args)}")
    args.append(limit)
    rows = await conn.fetch(
        f"""SELECT w.worker_id, w.id_number_masked, w.name, w.sex, w.birth_date, w.household_region, w.brand_ids,
                   p.placement_id, p.dispatch_id, p.origin_region, p.destination_region, p.employer_id,
                   d.employer_name, p.status, p.departure_date, p.start_date, p.position, p.brand_id, d.agreement_id
              FROM placements p JOIN workers w ON w.worker_id = p.worker_id
              JOIN dispatches d ON d.dispatch_id = p.dispatch_id
             WHERE {' AND '.join(where)} ORDER BY p.placement_id LIMIT ${len(args)}""", *args)
    return [dict(r) for r in rows]
