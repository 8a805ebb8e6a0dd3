"""Job demands (用工需求), matching (精准供需匹配), intentions (求职意向) and a person's open demands (issue 19).

The writes are commands of the catalogue (``demand.posted``, ``demand.closed``, ``worker.intention_recorded``):
these single routes and ``POST /v1/events:batch`` decide them with the same handlers. The matching
reads are ``laowu.application.matching`` (scored by ``laowu.domain.matching``); this module only renders them.
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
from laowu.application import matching as matching_reads
from laowu.domain import demands as demand_rules
from laowu.domain import matching
from laowu.domain.demands import DemandRecord
from laowu.domain.identity import mask_id_number
from laowu.store import demands as store
from laowu.store import queries
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
    rec = store.record_of(row)
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
    found = await matching_reads.shortlist(pool, actor, demand_id, position_id, limit)
    items = [ShortlistEntry(
        rank=i, worker_id=m.worker_id, name=w["name"], sex=w["sex"],
        id_number_masked=mask_id_number(w["id_number_masked"]), household_region=w["household_region"],
        priority_groups=list(w["priority_groups"]), score=m.score, fits=_reasons(m.fits), misses=_reasons(m.misses),
        intention=w["intention"]) for i, (m, w) in enumerate(found.ranked, 1)]
    return Shortlist(demand_id=demand_id, position_id=position_id, reserved_open=found.reserved_open,
                     posts_left=found.posts_left, weights=dict(matching.WEIGHTS), items=items)


@router.get("/v1/workers/{worker_id}/demands", response_model=DemandMatches)
async def worker_demands(worker_id: WorkerId, pool: PoolDep, actor: CurrentActor) -> DemandMatches:
    """For a person: the live demands the caller sees with a position whose occupation fits them (intention or
    registered occupation), best first, each with what fits and what misses."""
    worker = await queries.worker(pool, worker_id, actor)
    items = []
    positions: dict[str, dict[str, DemandPositionPublic]] = {}  # per demand, once: one may match on several positions
    for f in await matching_reads.open_demands_for(pool, actor, worker):
        shown = positions.setdefault(f.demand.demand_id, {p.position_id: p for p in _positions(f.demand)})
        items.append(DemandMatch(
            demand_id=f.demand.demand_id, title=f.demand.title, employer_name=f.demand.employer_name,
            closing_date=f.demand.closing_date, position=shown[f.position_id], score=f.match.score,
            fits=_reasons(f.match.fits), misses=_reasons(f.match.misses)))
    return DemandMatches(worker_id=worker_id, items=items)
