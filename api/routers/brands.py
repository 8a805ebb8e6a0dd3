"""Brand resource library (资源库): register, update, change status, read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api.deps import PoolDep
from api.pagination import decode_cursor, encode_cursor
from api.routing import JSONRoute
from api.writes import write
from laowu.application import commands as cmd
from laowu.domain.regions import region_name
from laowu.store import queries
from schemas.api import Accepted, BrandCreate, BrandPatch, BrandPublic, BrandsPublic, BrandStatusChange, HistoryPublic
from schemas.common import BrandCategory, BrandLevel, BrandStatus

router = APIRouter(route_class=JSONRoute, prefix="/v1/brands", tags=["brands"])
BrandId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"model": Accepted}}


def _public(row: dict[str, Any]) -> BrandPublic:
    return BrandPublic(**row, region_name=region_name(row["region_code"]))


@router.post("", status_code=202, responses=ACCEPTED)
async def register_brand(body: BrandCreate, request: Request) -> JSONResponse:
    return await write(request, cmd.RegisterBrand(body), ("brand_id",))


@router.patch("/{brand_id}", status_code=202, responses=ACCEPTED)
async def update_brand(brand_id: BrandId, body: BrandPatch, request: Request) -> JSONResponse:
    """A bureau manages the brands of its jurisdiction; others' brands answer 404."""
    return await write(request, cmd.UpdateBrand(brand_id, body), ("brand_id",))


@router.post("/{brand_id}/status", status_code=202, responses=ACCEPTED)
async def change_status(brand_id: BrandId, body: BrandStatusChange, request: Request) -> JSONResponse:
    return await write(request, cmd.ChangeBrandStatus(brand_id, body), ("brand_id",))


@router.get("/{brand_id}", response_model=BrandPublic)
async def get_brand(brand_id: BrandId, pool: PoolDep) -> BrandPublic:
    return _public(await queries.brand(pool, brand_id))


@router.get("/{brand_id}/history", response_model=HistoryPublic)
async def brand_history(
    brand_id: BrandId,
    pool: PoolDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> HistoryPublic:
    """What happened to a brand, oldest first: its registration, changes and every status change with its reason
    (the bureau's console shows this on a brand's page; the library is no secret, as ``GET /v1/brands``)."""
    await queries.brand(pool, brand_id)  # 404 for a brand that does not exist
    after = decode_cursor(cursor)
    rows = await queries.brand_history(pool, brand_id, int(after) if after and after.isdigit() else 0, limit)
    return HistoryPublic(items=rows,  # type: ignore[arg-type]
                         next_cursor=encode_cursor(str(rows[-1]["seq"])) if len(rows) == limit else None)


@router.get("", response_model=BrandsPublic)
async def list_brands(
    pool: PoolDep,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    status: BrandStatus | None = None,
    category: BrandCategory | None = None,
    level: BrandLevel | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> BrandsPublic:
    rows = await queries.brands(pool, region=region, status=status, category=category, level=level,
                                after=decode_cursor(cursor), limit=limit)
    return BrandsPublic(items=[_public(r) for r in rows],
                        next_cursor=encode_cursor(rows[-1]["brand_id"]) if len(rows) == limit else None)
