"""Output statistics (劳务品牌统计) and targets (目标任务): read from the tables the stream processor keeps.

Figures streamed by ``streams/`` (exact, seconds behind the ledger): registered, dispatched, confirmed,
currently_employed, followup_coverage, priority_group_share, outputs, placements confirmed/rejected,
confirmation_rate, separations, average_wage, and retention at 3 and 6 months (streamed by due date, summed
up to today). Figures queried at read time: subsidies accrued (the subsidies table), categories (sums
over brands). Jurisdiction: a caller sees its own region and what it covers; anything else is 404.

Parses, calls :mod:`laowu.reports` (the service the Excel export shares) and renders.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from api.deps import PoolDep
from api.routing import JSONRoute
from laowu import reports
from laowu.domain import statistics as st
from schemas.common import Actor

router = APIRouter(route_class=JSONRoute, tags=["statistics"])

RegionQuery = Annotated[str | None, Query(pattern=r"^\d{6}$",
                                          description="GB/T 2260 code; its figures roll up everything under it")]
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$"
FromQuery = Annotated[str | None, Query(alias="from", pattern=_MONTH,
                                        description="first month, YYYY-MM (default: 11 months before `to`)")]
ToQuery = Annotated[str | None, Query(pattern=_MONTH, description="last month, YYYY-MM (default: this month, Beijing)")]


def _actor(request: Request) -> Actor | None:
    """The caller, if any: these routes answer 404 (not 401) to no one, as to a region outside their jurisdiction."""
    return getattr(request.state, "actor", None)


@router.get("/v1/stats/overview")
async def overview(
    request: Request,
    pool: PoolDep,
    region: RegionQuery = None,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> dict[str, Any]:
    """Headline figures for the whole country (admin) or a region, with what a dashboard needs around them:
    monthly ``series``, ``children`` regions, ``brands`` ranking, ``categories`` and open alerts by kind."""
    region = reports.jurisdiction(_actor(request), region)
    scope: st.Scope = ("region", region) if region else ("all", "")
    first, last = reports.window(from_, to)
    body: dict[str, Any] = {"scope": "region" if region else "overview", "region": reports.region_ref(region)}
    body |= await reports.figures(pool, scope)
    body |= {
        "series": await reports.series(pool, scope, first, last),
        "children": await reports.children(pool, region),
        "brands": await reports.brand_ranking(pool, region),
        "categories": await reports.categories(pool, region),
        "alerts_open": await reports.open_alerts(pool, region),
        "as_of": reports.as_of(),
    }
    return body


@router.get("/v1/stats/brands/{brand_id}")
async def brand_stats(
    request: Request,
    pool: PoolDep,
    brand_id: Annotated[str, Path(max_length=64)],
    from_: FromQuery = None,
    to: ToQuery = None,
    granularity: Literal["month"] = "month",
) -> dict[str, Any]:
    """One brand (劳务品牌): members, organized output under it, and a monthly series."""
    brand = await reports.brand(pool, _actor(request), brand_id)
    first, last = reports.window(from_, to)
    scope: st.Scope = ("brand", brand_id)
    return brand | {"region": reports.region_ref(brand["region_code"])} | await reports.figures(pool, scope) | {
        "granularity": granularity, "from": first, "to": last, "series": await reports.series(pool, scope, first, last),
        "as_of": reports.as_of()}


@router.get("/v1/stats/regions/{code}")
async def region_stats(
    request: Request,
    pool: PoolDep,
    code: Annotated[str, Path(pattern=r"^\d{6}$")],
    from_: FromQuery = None,
    to: ToQuery = None,
) -> dict[str, Any]:
    """A region's figures (rolled up from every code under it) and its child regions', for drill-down."""
    reports.known_region(_actor(request), code)
    first, last = reports.window(from_, to)
    scope: st.Scope = ("region", code)
    parent = reports.parent_of(code)
    return {"region": reports.region_ref(code), "parent": reports.region_ref(parent)} | await reports.figures(pool, scope) | {
        "children": await reports.children(pool, code), "series": await reports.series(pool, scope, first, last),
        "as_of": reports.as_of()}


@router.get("/v1/targets")
async def targets(request: Request, pool: PoolDep, region: RegionQuery = None) -> dict[str, Any]:
    """Progress against the seed documents' targets (Chongqing 2021, Hainan 2023) for the region."""
    return await reports.progress(pool, reports.jurisdiction(_actor(request), region))
