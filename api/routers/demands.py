"""Job demands (用工需求), matching (精准供需匹配), intentions (求职意向) and a person's open demands (issue 19).

The writes are commands of the catalogue (``demand.posted``, ``demand.closed``, ``worker.intention_recorded``):
these single routes and ``POST /v1/events:batch`` decide them with the same handlers. The scoring is
``laowu.domain.matching``; the candidates come from ``laowu.store.demands.candidates``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.access import CurrentActor
from api.deps import PoolDep
from api.pagination import decode_cursor, encode_cursor
from api.routing import JSONRoute
from api.writes import write
from laowu.application import catalogue
from laowu.application import commands as cmd
from laowu.domain import demands as demand_rules
from laowu.domain import matching
from laowu.domain.demands import DemandRecord
from laowu.domain.identity import mask_id_number
from laowu.store import demands as store
from laowu.store import queries
from laowu.store.errors import NotFound
from schemas.api import (
    Accepted,
    DemandClose,
    DemandMatch,
    DemandMatches,
    DemandPositionPublic,
    DemandPost,
    DemandProposal,
    DemandPublic,
    DemandsPublic,
    MatchReason,
    Shortlist,
    ShortlistEntry,
)

router = APIRouter(route_class=JSONRoute, tags=["job demands"])
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
WorkerId = Annotated[str, Path(pattern=r"^w[0-9a-f]{24}$", description="Keyed hash of the ID number")]


ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"model": Accepted}}
IntentionBody = catalogue.entry(cmd.RecordIntention).body


@router.post("/v1/demands", status_code=202, responses=ACCEPTED)
async def post_demand(body: DemandPost, request: Request) -> JSONResponse:
    """用工需求 (``demand.posted``): an employer posts its own; a workstation or bureau one on an employer's behalf,
    published to regions of its jurisdiction. Answers with the ``demand_id`` (chosen, or made)."""
    return await write(request, cmd.PostDemand(body), ("demand_id",))


@router.post("/v1/demands/{demand_id}/close", status_code=202, responses=ACCEPTED)
async def close_demand(demand_id: Id, body: DemandClose, request: Request) -> JSONResponse:
    """``demand.closed``: its employer, whoever posted it, or an admin stops it; fills made before stand."""
    return await write(request, cmd.CloseDemand(demand_id, body), ("demand_id",))


@router.post("/v1/workers/{worker_id}/intention", status_code=202, responses=ACCEPTED)
async def record_intention(worker_id: WorkerId, body: IntentionBody, request: Request) -> JSONResponse:  # type: ignore[valid-type]
    """求职意向 (``worker.intention_recorded``): replaces the person's intention if it is the newest in event time
    (``occurred_at``); an older one is kept in the history only."""
    return await write(request, cmd.RecordIntention(worker_id=worker_id, body=body), ("worker_id",))


def _record(row: dict[str, Any]) -> DemandRecord:
    return DemandRecord(**{k: row[k] for k in store.DEMAND_COLUMNS})


def _positions(rec: DemandRecord) -> list[DemandPositionPublic]:
    out = []
    for pos in rec.positions:
        pid = pos["position_id"]
        left, reserved_left = demand_rules.posts_left(rec, pid)
        out.append(DemandPositionPublic(
            **{k: v for k, v in pos.items() if k in DemandPositionPublic.model_fields},
            filled=rec.filled.get(pid, 0), filled_priority=rec.filled_priority.get(pid, 0), posts_left=left,
            reserved_left=reserved_left))
    return out


def _public(row: dict[str, Any], proposals: list[dict[str, Any]] | None = None) -> DemandPublic:
    rec = _record(row)
    contact = {k: v for k, v in rec.contact.items() if not k.endswith("_enc")}
    return DemandPublic(
        demand_id=rec.demand_id, employer_id=rec.employer_id, employer_name=rec.employer_name, posted_by=rec.posted_by,
        title=rec.title, description=rec.description,
        status=demand_rules.shown_status(rec.status, rec.closing_date, demand_rules.today()),  # type: ignore[arg-type]
        positions=_positions(rec), origin_regions=rec.origin_regions, agreement_id=rec.agreement_id,
        closing_date=rec.closing_date, contact=contact, posted_at=rec.posted_at, closed_at=rec.closed_at,
        close_reason=rec.close_reason, version=rec.version,
        proposals=None if proposals is None else [
            DemandProposal(**(p | {"id_number_masked": mask_id_number(p["id_number_masked"])
                                   if p["id_number_masked"] else None})) for p in proposals])


@router.get("/v1/demands", response_model=DemandsPublic)
async def list_demands(
    pool: PoolDep,
    actor: CurrentActor,
    live: bool | None = None,
    employer_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> DemandsPublic:
    """The demands the caller sees: an employer its own; a bureau or workstation those published to its region (or
    a region above or under it) and those it posted; an admin all. ``live=true``: open or partly filled and not
    past the closing date (a workstation's "demands open to my region")."""
    rows = await store.demands(pool, actor, live=live, employer_id=employer_id, after=decode_cursor(cursor),
                               limit=limit)
    return DemandsPublic(items=[_public(r) for r in rows],
                         next_cursor=encode_cursor(rows[-1]["demand_id"]) if len(rows) == limit else None)


@router.get("/v1/demands/{demand_id}", response_model=DemandPublic)
async def get_demand(demand_id: Id, pool: PoolDep, actor: CurrentActor) -> DemandPublic:
    """A demand with its positions' fills; for its employer, whoever posted it and admins also the people proposed
    (dispatched, waiting to arrive) and who arrived (confirmed), masked."""
    row = await store.demand(pool, demand_id, actor)
    proposals = await store.proposals(pool, demand_id) if store.manages(actor, row) else None
    return _public(row, proposals)


def _named(pos: dict[str, Any], brand_names: dict[str, str]) -> dict[str, Any]:
    """The position with its preferred brand's name, so the reasons name the brand as people know it."""
    name = brand_names.get(pos.get("brand_id") or "")
    return {**pos, "brand_name": name} if name else pos


def _reasons(items: list[matching.Reason]) -> list[MatchReason]:
    return [MatchReason(aspect=r.aspect, text=r.text) for r in items]  # type: ignore[arg-type]


@router.get("/v1/demands/{demand_id}/shortlist", response_model=Shortlist)
async def shortlist(
    demand_id: Id,
    pool: PoolDep,
    actor: CurrentActor,
    position_id: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Shortlist:
    """A ranked shortlist for one position: available people of the caller's jurisdiction (household region) whose
    intention or registered occupation is the position's, each with what fits and what misses, in the order of
    ``laowu.domain.matching`` (priority groups first while reserved posts are open, then the score)."""
    rec = _record(await store.demand(pool, demand_id, actor))
    pos = demand_rules.position(rec, position_id)
    if pos is None:
        raise NotFound(position_id)
    left, reserved_left = demand_rules.posts_left(rec, position_id)
    found = await store.candidates(pool, pos["occupation_code"], actor, priority=reserved_left > 0)
    ranked = matching.rank(found, _named(pos, await store.brand_names(pool, [pos.get("brand_id") or ""])),
                           reserved_left > 0, limit)
    by_id = {w["worker_id"]: w for w in found}
    items = []
    for i, m in enumerate(ranked, 1):
        w = by_id[m.worker_id]
        items.append(ShortlistEntry(
            rank=i, worker_id=m.worker_id, name=w["name"], sex=w["sex"],
            id_number_masked=mask_id_number(w["id_number_masked"]), household_region=w["household_region"],
            priority_groups=list(w["priority_groups"]), score=m.score, fits=_reasons(m.fits),
            misses=_reasons(m.misses), intention=w["intention"]))
    return Shortlist(demand_id=demand_id, position_id=position_id, reserved_open=reserved_left > 0, posts_left=left,
                     weights=dict(matching.WEIGHTS), items=items)


@router.get("/v1/workers/{worker_id}/demands", response_model=DemandMatches)
async def worker_demands(worker_id: WorkerId, pool: PoolDep, actor: CurrentActor) -> DemandMatches:
    """For a person: the live demands the caller sees with a position whose occupation fits them (intention or
    registered occupation), best first, each with what fits and what misses."""
    worker = await queries.worker(pool, worker_id, actor)
    matches: list[tuple[tuple[Any, ...], DemandMatch]] = []
    live = [_record(row) for row in await store.live_for(pool, actor)]
    names = await store.brand_names(pool, [p.get("brand_id") or "" for rec in live for p in rec.positions])
    for rec in live:
        positions = {p.position_id: p for p in _positions(rec)}
        for pos in rec.positions:
            if positions[pos["position_id"]].posts_left == 0:
                continue
            m = matching.fits_person(worker, _named(pos, names))
            if m is None:
                continue
            matches.append(((-m.score, rec.closing_date, rec.demand_id, pos["position_id"]), DemandMatch(
                demand_id=rec.demand_id, title=rec.title, employer_name=rec.employer_name,
                closing_date=rec.closing_date, position=positions[pos["position_id"]], score=m.score,
                fits=_reasons(m.fits), misses=_reasons(m.misses))))
    matches.sort(key=lambda pair: pair[0])
    return DemandMatches(worker_id=worker_id, items=[m for _, m in matches])
