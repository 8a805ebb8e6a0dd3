"""人岗匹配 (精准供需匹配, issue 19): the reads behind a position's shortlist and a person's open demands.

Both rank with ``laowu.domain.matching`` what ``laowu.store.demands`` finds for the caller. A position that prefers
a brand gets the brand's name (``brand_name``) so the reasons name it as people know it; one query per answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from laowu.domain import demands as demand_rules
from laowu.domain import matching
from laowu.domain.demands import DemandRecord
from laowu.store import demands as store
from laowu.store.errors import NotFound
from laowu.store.scope import Viewer


@dataclass(frozen=True)
class ShortlistFound:
    demand: DemandRecord
    position_id: str
    posts_left: int
    reserved_open: bool
    #: best first: each match with the candidate's row (name, masked ID number, household region, intention …)
    ranked: list[tuple[matching.Match, dict[str, Any]]]


@dataclass(frozen=True)
class DemandFound:
    demand: DemandRecord
    position_id: str
    match: matching.Match


def _named(pos: dict[str, Any], brand_names: dict[str, str]) -> dict[str, Any]:
    name = brand_names.get(pos.get("brand_id") or "")
    return {**pos, "brand_name": name} if name else pos


async def shortlist(pool: asyncpg.Pool, viewer: Viewer, demand_id: str, position_id: str,
                    limit: int) -> ShortlistFound:
    """The best ``limit`` people of the viewer's jurisdiction for one position (priority groups first while its
    reserved posts are open). Raises ``NotFound`` for a demand the viewer does not see or a position it lacks."""
    rec = store.record_of(await store.demand(pool, demand_id, viewer))
    pos = demand_rules.position(rec, position_id)
    if pos is None:
        raise NotFound(position_id)
    left, reserved_left = demand_rules.posts_left(rec, position_id)
    reserved_open = reserved_left > 0
    found = await store.candidates(pool, pos["occupation_code"], viewer, priority=reserved_open)
    named = _named(pos, await store.brand_names(pool, [pos.get("brand_id") or ""]))
    by_id = {w["worker_id"]: w for w in found}
    ranked = [(m, by_id[m.worker_id]) for m in matching.rank(found, named, reserved_open, limit)]
    return ShortlistFound(rec, position_id, left, reserved_open, ranked)


async def open_demands_for(pool: asyncpg.Pool, viewer: Viewer, worker: dict[str, Any]) -> list[DemandFound]:
    """The live demands the viewer sees with a position still short of people whose occupation fits ``worker``
    (intention or registered occupation), best first: score, then the earlier closing date."""
    live = [store.record_of(row) for row in await store.live_for(pool, viewer)]
    names = await store.brand_names(pool, [p.get("brand_id") or "" for rec in live for p in rec.positions])
    found: list[tuple[tuple[Any, ...], DemandFound]] = []
    for rec in live:
        for pos in rec.positions:
            if demand_rules.posts_left(rec, pos["position_id"])[0] == 0:
                continue
            m = matching.fits_person(worker, _named(pos, names))
            if m is not None:
                found.append(((-m.score, rec.closing_date, rec.demand_id, pos["position_id"]),
                               DemandFound(rec, pos["position_id"], m)))
    found.sort(key=lambda pair: pair[0])
    return [f for _, f in found]
