"""Cooperation between regions (issue 19): agreements (劳务协作) and their progress, flows (劳务流向), the receiving
region's view (输入地) and posted workstations (驻外工作站).

Writes of agreements go through the catalogue's handlers (``laowu.application.cooperation``), as every write;
postings are an organization attribute the destination's bureau (or an admin) sets, not a ledger event.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.access import CurrentActor
from api.deps import PoolDep
from api.errors import Forbidden
from api.pagination import decode_cursor, encode_cursor
from api.routing import JSONRoute
from api.writes import write
from laowu import flow_reports
from laowu.application import cooperation as coop
from laowu.domain.errors import DomainError
from laowu.domain.identity import masked_worker
from laowu.domain.regions import covers as region_covers
from laowu.domain.regions import region_exists, region_name
from laowu.intake import InvalidRequest
from laowu.store import agreements as agreement_store
from laowu.store import received as received_store
from laowu.store.queries import NotFound
from laowu.store.scope import covers, unbounded
from schemas.api import Accepted
from schemas.cooperation import (
    AgreementCreate,
    AgreementEnd,
    AgreementPatch,
    AgreementPublic,
    AgreementsPublic,
    FlowsPublic,
    PostingCreate,
    PostingPublic,
    PostingsPublic,
    ReceivedListPublic,
    ReceivedPublic,
)

router = APIRouter(route_class=JSONRoute, tags=["cooperation"])
AgreementId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
WorkstationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
RegionQuery = Annotated[str | None, Query(pattern=r"^\d{6}$")]
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"model": Accepted}}


# ---- agreements ---------------------------------------------------------------------------------------------
@router.post("/v1/agreements", status_code=202, responses=ACCEPTED)
async def sign_agreement(body: AgreementCreate, request: Request) -> JSONResponse:
    """签订劳务协作协议, by the bureau of one side (naming itself as that side's bureau) or an admin."""
    return await write(request, coop.SignAgreement(body), ("agreement_id",))


@router.patch("/v1/agreements/{agreement_id}", status_code=202, responses=ACCEPTED)
async def update_agreement(agreement_id: AgreementId, body: AgreementPatch, request: Request) -> JSONResponse:
    """Name, period, target headcount, brands; by the bureau of either side. Others: 404."""
    return await write(request, coop.UpdateAgreement(agreement_id, body), ("agreement_id",))


@router.post("/v1/agreements/{agreement_id}/end", status_code=202, responses=ACCEPTED)
async def end_agreement(agreement_id: AgreementId, body: AgreementEnd, request: Request) -> JSONResponse:
    """Ended early on ``end_date``: later departures are no longer covered."""
    return await write(request, coop.EndAgreement(agreement_id, body), ("agreement_id",))


@router.get("/v1/agreements", response_model=AgreementsPublic)
async def list_agreements(
    pool: PoolDep, actor: CurrentActor, region: RegionQuery = None,
    status: Literal["active", "ended"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, cursor: str | None = None,
) -> AgreementsPublic:
    """The agreements a side of which overlaps the caller's region, with their progress."""
    items = await flow_reports.agreements(pool, actor, region=region, status=status, after=decode_cursor(cursor),
                                          limit=limit)
    return AgreementsPublic(items=[AgreementPublic(**i) for i in items],
                            next_cursor=encode_cursor(items[-1]["agreement_id"]) if len(items) == limit else None)


@router.get("/v1/agreements/{agreement_id}", response_model=AgreementPublic)
async def get_agreement(agreement_id: AgreementId, pool: PoolDep, actor: CurrentActor) -> AgreementPublic:
    """One agreement and its progress (dispatches under it, people dispatched and confirmed, share of target)."""
    return AgreementPublic(**await flow_reports.agreement(pool, actor, agreement_id))


# ---- flows ------------------------------------------------------------------------------------------------------
@router.get("/v1/flows", response_model=FlowsPublic)
async def list_flows(
    pool: PoolDep, actor: CurrentActor, region: RegionQuery = None,
    level: Literal["province", "city", "county"] = "city",
    side: Literal["both", "origin", "destination"] = "both",
    from_: Annotated[str | None, Query(alias="from", pattern=_MONTH)] = None,
    to: Annotated[str | None, Query(pattern=_MONTH)] = None,
    brand_id: Annotated[str | None, Query(max_length=64)] = None,
    by_month: bool = False, by_brand: bool = False,
    origin: Annotated[str | None, Query(pattern=r"^\d{6}$", description="only origins under this code")] = None,
    destination: Annotated[str | None, Query(pattern=r"^\d{6}$", description="only destinations under it")] = None,
) -> FlowsPublic:
    """劳务流向: people sent from each origin to each destination, by distance class (跨省/省内跨市/市内跨县/县内),
    summed at ``level``; flows with an end (``side``) in ``region`` (default: the caller's own; it must lie in
    the caller's jurisdiction). Drill down by asking again with a finer ``level`` and ``origin`` or
    ``destination`` narrowed to a region of the picture (which may lie outside the caller's jurisdiction)."""
    body = await flow_reports.flows_of(pool, actor, region, level=level, side=side, first=from_, last=to,
                                       brand_id=brand_id, by_month=by_month, by_brand=by_brand, origin=origin,
                                       destination=destination)
    return FlowsPublic(**body)


# ---- the receiving region (输入地) --------------------------------------------------------------------------------
@router.get("/v1/received", response_model=ReceivedListPublic)
async def list_received(
    pool: PoolDep, actor: CurrentActor, region: RegionQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, cursor: str | None = None,
) -> ReceivedListPublic:
    """The people sent into the caller's region (a bureau's, or a posted workstation's posting) whose placement is
    active, masked; ``region`` narrows it (it must lie in the caller's receiving region: 404 otherwise)."""
    if region is not None and not unbounded(actor):
        own = await received_store.receiving_region(pool, actor)
        if own is None or not region_covers(own, region):
            raise NotFound(f"region {region}")
    rows = await received_store.page(pool, actor, region=region, after=decode_cursor(cursor), limit=limit)
    items = []
    for r in rows:
        r = masked_worker(r)
        r["brand_ids"] = list(r["brand_ids"])
        for key in ("household_region", "origin_region", "destination_region"):
            r[f"{key}_name"] = region_name(r[key])
        items.append(ReceivedPublic(**r))
    return ReceivedListPublic(items=items,
                              next_cursor=encode_cursor(rows[-1]["placement_id"]) if len(rows) == limit else None)


# ---- posted workstations (驻外工作站) ----------------------------------------------------------------------------
def _may_post(actor: Any, region: str) -> None:
    if not covers(actor, region):
        raise Forbidden(f"posted_region {region} is outside your jurisdiction ({actor.region}): a workstation is "
                        "posted by the bureau of the region it is posted to")


@router.put("/v1/postings/{workstation_id}", response_model=PostingPublic)
async def post_workstation(workstation_id: WorkstationId, body: PostingCreate, pool: PoolDep,
                           actor: CurrentActor) -> PostingPublic:
    """驻外工作站: post a workstation to a region in the caller's jurisdiction (replaces an earlier posting the
    caller may change). The workstation then sees, masked, the people whose active placement lies there."""
    if not region_exists(body.posted_region):
        raise InvalidRequest([DomainError("posted_region", "region",
                                          f"{body.posted_region} is not a GB/T 2260 region code")])
    _may_post(actor, body.posted_region)
    current = await agreement_store.posting(pool, workstation_id)
    if current is not None:
        _may_post(actor, current["posted_region"])
    row = await agreement_store.post(pool, workstation_id=workstation_id, posted_region=body.posted_region,
                                     note=body.note, posted_by=f"{actor.role}:{actor.org}")
    return PostingPublic(**row, posted_region_name=region_name(row["posted_region"]))


@router.delete("/v1/postings/{workstation_id}", status_code=204)
async def end_posting(workstation_id: WorkstationId, pool: PoolDep, actor: CurrentActor) -> None:
    """The posting ends: the workstation no longer sees the people of that region (only what it saw before)."""
    current = await agreement_store.posting(pool, workstation_id)
    if current is None or not covers(actor, current["posted_region"]):
        raise NotFound(workstation_id)
    await agreement_store.unpost(pool, workstation_id)


@router.get("/v1/postings", response_model=PostingsPublic)
async def list_postings(pool: PoolDep, actor: CurrentActor, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                        cursor: str | None = None) -> PostingsPublic:
    """Postings into the caller's region (an admin: all; a workstation: its own)."""
    if actor.role == "workstation":
        own = await agreement_store.posting(pool, actor.org)
        rows = [own] if own is not None else []
    else:
        rows = await agreement_store.postings(pool, region=None if unbounded(actor) else actor.region,
                                              after=decode_cursor(cursor), limit=limit)
    return PostingsPublic(items=[PostingPublic(**r, posted_region_name=region_name(r["posted_region"])) for r in rows],
                          next_cursor=encode_cursor(rows[-1]["workstation_id"]) if len(rows) == limit else None)
