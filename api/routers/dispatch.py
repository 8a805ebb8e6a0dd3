"""Organized labor output (有组织劳务输出), placement confirmation (入职确认), separation, follow-up (跟踪服务)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.access import CurrentActor
from api.deps import PoolDep
from api.pagination import decode_cursor, encode_cursor
from api.routing import JSONRoute
from api.writes import write
from laowu.application import commands as cmd
from laowu.application.handlers import Decision
from laowu.domain.identity import mask_id_number
from laowu.store import queries
from schemas.api import (
    AlertsPublic,
    DispatchAccepted,
    DispatchCreate,
    DispatchPublic,
    FollowUpCreate,
    PlacementConfirm,
    PlacementEnd,
    PlacementListItem,
    PlacementPublic,
    PlacementReject,
    PlacementsPublic,
    PlacementWorker,
    SubsidiesPublic,
)
from schemas.common import AlertKind, PlacementStatus, SubsidyKind

router = APIRouter(route_class=JSONRoute, tags=["organized output"])
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


def _dispatched(decision: Decision) -> dict[str, Any]:
    return {"dispatch_id": decision.envelope.payload["dispatch_id"],
            "placements": decision.envelope.payload["placements"],
            "rejected": [{"worker_id": wid, "reason": reason} for wid, reason in decision.refused]}


@router.post("/v1/dispatches", status_code=202, responses={202: {"model": DispatchAccepted}})
async def create_dispatch(body: DispatchCreate, request: Request) -> JSONResponse:
    """Unknown workers and workers already on an active placement are refused one by one, with the reason; known
    means in the ledger or accepted and undecided (read-your-writes)."""
    return await write(request, cmd.CreateDispatch(body), render=_dispatched)


@router.post("/v1/placements/{placement_id}/confirm", status_code=202)
async def confirm(placement_id: Id, body: PlacementConfirm, request: Request) -> JSONResponse:
    return await write(request, cmd.ConfirmPlacement(placement_id, body), ("worker_id", "placement_id"))


@router.post("/v1/placements/{placement_id}/reject", status_code=202)
async def reject(placement_id: Id, body: PlacementReject, request: Request) -> JSONResponse:
    return await write(request, cmd.RejectPlacement(placement_id, body), ("worker_id", "placement_id"))


@router.post("/v1/placements/{placement_id}/end", status_code=202)
async def end(placement_id: Id, body: PlacementEnd, request: Request) -> JSONResponse:
    return await write(request, cmd.EndPlacement(placement_id, body), ("worker_id", "placement_id"))


@router.post("/v1/followups", status_code=202)
async def record_followup(body: FollowUpCreate, request: Request) -> JSONResponse:
    return await write(request, cmd.RecordFollowUp(body), ("worker_id", "placement_id", "followup_id"))


@router.get("/v1/placements/{placement_id}", response_model=PlacementPublic)
async def get_placement(placement_id: Id, pool: PoolDep, actor: CurrentActor) -> PlacementPublic:
    return PlacementPublic(**await queries.placement(pool, placement_id, actor))


@router.get("/v1/placements", response_model=PlacementsPublic)
async def list_placements(
    pool: PoolDep,
    actor: CurrentActor,
    status: PlacementStatus | None = None,
    worker_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> PlacementsPublic:
    """Placements the caller sees: an employer its own (``status=dispatched``: arrivals waiting for it, 待确认;
    ``confirmed``: its current employees), a workstation those it organized or its region sent, a bureau its
    region's. Each names its worker, masked."""
    rows = await queries.placements(pool, status=status, worker_id=worker_id, after=decode_cursor(cursor), limit=limit,
                                    viewer=actor)
    items = [_listed(row) for row in rows]
    return PlacementsPublic(items=items, next_cursor=encode_cursor(rows[-1]["placement_id"]) if len(rows) == limit else None)


def _listed(row: dict[str, Any]) -> PlacementListItem:
    name, sex, masked = row.pop("worker_name"), row.pop("worker_sex"), row.pop("worker_id_number_masked")
    worker = None if name is None else PlacementWorker(worker_id=row["worker_id"], name=name, sex=sex,
                                                       id_number_masked=mask_id_number(masked))
    return PlacementListItem(**row, worker=worker)


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
    status: Annotated[str | None, Query(pattern=r"^(entitled|applied|approved|refused|noticed|paid)$")] = None,
    kind: SubsidyKind | None = None,
) -> SubsidiesPublic:
    """Entitlements (享受资格) and where their workflow stands; ``status=applied`` is the bureau's list to review."""
    rows = await queries.subsidies(pool, region=region, worker_id=worker_id, organization_id=organization_id,
                                   after=decode_cursor(cursor), limit=limit, viewer=actor, status=status, kind=kind)
    return SubsidiesPublic(items=rows,  # type: ignore[arg-type]
                           next_cursor=encode_cursor(rows[-1]["subsidy_id"]) if len(rows) == limit else None)
