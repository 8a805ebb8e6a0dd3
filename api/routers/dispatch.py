"""Organized labor output (有组织劳务输出), placement confirmation (入职确认), separation, follow-up (跟踪服务)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.access import CurrentActor
from api.deps import IntakeDep, PoolDep
from api.errors import Conflict, Forbidden
from api.pagination import decode_cursor, encode_cursor
from api.routing import JSONRoute
from api.scoping import envelope_problem
from api.writes import CLOSED_BRANDS, event_id_for, idempotent, scope_of, write
from laowu.domain.errors import DomainError
from laowu.domain.lifecycle import AVAILABLE
from laowu.intake import Context, PlacementRef
from laowu.store import known, queries
from laowu.store.queries import NotFound
from schemas.api import (
    AlertsPublic,
    DispatchAccepted,
    DispatchCreate,
    DispatchPublic,
    FollowUpCreate,
    PlacementConfirm,
    PlacementEnd,
    PlacementPublic,
    PlacementReject,
    SubsidiesPublic,
)
from schemas.common import Actor, AlertKind

router = APIRouter(route_class=JSONRoute, tags=["organized output"])
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


@router.post("/v1/dispatches", status_code=202, responses={202: {"model": DispatchAccepted}})
async def create_dispatch(body: DispatchCreate, request: Request, pool: PoolDep, intake: IntakeDep,
                          actor: CurrentActor) -> JSONResponse:
    """Unknown workers and workers already on an active placement are refused one by one, with the reason."""

    async def action(key: str | None) -> tuple[int, Any]:
        # Known = in the ledger or accepted and undecided (laowu.store.known): a client may dispatch the brand and
        # the workers it was just told were accepted.
        brand = (await request.app.state.brand_statuses([body.brand_id])).get(body.brand_id)
        if brand is None or brand in CLOSED_BRANDS:
            why = f"unknown brand {body.brand_id}" if brand is None else f"brand {body.brand_id} is {brand}"
            raise Conflict([DomainError("brand_id", "conflict", why)])
        states = await known.acting_workers(pool, list(body.worker_ids), actor)
        accepted, refused = [], []
        for wid in body.worker_ids:
            state = states.get(wid)
            if state is None:
                refused.append({"worker_id": wid, "reason": "unknown worker: not in the real-name ledger"})
            elif state[0] not in AVAILABLE:
                refused.append({"worker_id": wid, "reason": f"worker is {state[0]} on placement {state[1]}"})
            else:
                accepted.append(wid)
        if not accepted:
            raise Conflict([DomainError(f"worker_ids.{i}", "conflict", r["reason"]) for i, r in enumerate(refused)])
        ctx = Context(actor=getattr(request.state, "actor", None),
                      event_id=event_id_for(scope_of(request), key) if key else None)
        envelope = intake.create_dispatch(body, accepted, ctx)
        denied = envelope_problem(actor, envelope)
        if denied:
            raise Forbidden(denied[1])
        await request.app.state.publisher.publish([envelope])
        return 202, {"event_id": str(envelope.event_id), "status": "accepted",
                     "dispatch_id": envelope.payload["dispatch_id"], "placements": envelope.payload["placements"],
                     "rejected": refused}

    return await idempotent(request, action)


async def _ref(pool: Any, placement_id: str, actor: Actor, *, organizer_only: bool = False) -> PlacementRef:
    """The placement as the caller may see it: the employer named on it, or (for workstations) its organizer —
    in the ledger, or in a dispatch accepted and not yet decided (``laowu.store.known``)."""
    row = (await known.placement_refs(pool, [placement_id], actor)).get(placement_id)
    if row is None:
        raise NotFound(placement_id)
    if organizer_only and actor.role == "workstation" and row["organizer_id"] != actor.org:
        raise NotFound(placement_id)
    return PlacementRef(placement_id, row["worker_id"], row["employer_id"])


@router.post("/v1/placements/{placement_id}/confirm", status_code=202)
async def confirm(placement_id: Id, body: PlacementConfirm, request: Request, pool: PoolDep, intake: IntakeDep,
                 actor: CurrentActor) -> JSONResponse:
    ref = await _ref(pool, placement_id, actor)
    return await write(request, lambda ctx: intake.confirm_placement(ref, body, ctx), ("worker_id", "placement_id"))


@router.post("/v1/placements/{placement_id}/reject", status_code=202)
async def reject(placement_id: Id, body: PlacementReject, request: Request, pool: PoolDep, intake: IntakeDep,
                actor: CurrentActor) -> JSONResponse:
    ref = await _ref(pool, placement_id, actor)
    return await write(request, lambda ctx: intake.reject_placement(ref, body, ctx), ("worker_id", "placement_id"))


@router.post("/v1/placements/{placement_id}/end", status_code=202)
async def end(placement_id: Id, body: PlacementEnd, request: Request, pool: PoolDep, intake: IntakeDep,
             actor: CurrentActor) -> JSONResponse:
    ref = await _ref(pool, placement_id, actor, organizer_only=True)
    return await write(request, lambda ctx: intake.end_placement(ref, body, ctx), ("worker_id", "placement_id"))


@router.post("/v1/followups", status_code=202)
async def record_followup(body: FollowUpCreate, request: Request, pool: PoolDep, intake: IntakeDep,
                          actor: CurrentActor) -> JSONResponse:
    ref = await _ref(pool, body.placement_id, actor, organizer_only=True)
    return await write(request, lambda ctx: intake.record_followup(ref, body, ctx),
                       ("worker_id", "placement_id", "followup_id"))


@router.get("/v1/placements/{placement_id}", response_model=PlacementPublic)
async def get_placement(placement_id: Id, pool: PoolDep, actor: CurrentActor) -> PlacementPublic:
    return PlacementPublic(**await queries.placement(pool, placement_id, actor))


@router.get("/v1/dispatches/{dispatch_id}", response_model=DispatchPublic)
async def get_dispatch(dispatch_id: Id, pool: PoolDep, actor: CurrentActor) -> DispatchPublic:
    return DispatchPublic(**await queries.dispatch(pool, dispatch_id, actor))


@router.get("/v1/alerts", response_model=AlertsPublic)
async def list_alerts(
    pool: PoolDep,
    actor: CurrentActor,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    kind: AlertKind | None = None,
    open: bool | None = None,
    worker_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> AlertsPublic:
    rows = await queries.alerts(pool, region=region, kind=kind, open_only=open, worker_id=worker_id,
                                after=decode_cursor(cursor), limit=limit, viewer=actor)
    return AlertsPublic(items=rows,  # type: ignore[arg-type]
                        next_cursor=encode_cursor(rows[-1]["alert_id"]) if len(rows) == limit else None)


@router.get("/v1/subsidies", response_model=SubsidiesPublic)
async def list_subsidies(
    pool: PoolDep,
    actor: CurrentActor,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    worker_id: Annotated[str | None, Query(max_length=32)] = None,
    organization_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> SubsidiesPublic:
    rows = await queries.subsidies(pool, region=region, worker_id=worker_id, organization_id=organization_id,
                                   after=decode_cursor(cursor), limit=limit, viewer=actor)
    return SubsidiesPublic(items=rows,  # type: ignore[arg-type]
                           next_cursor=encode_cursor(rows[-1]["subsidy_id"]) if len(rows) == limit else None)
