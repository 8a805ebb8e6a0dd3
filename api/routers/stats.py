"""Output statistics (劳务品牌统计) and targets (目标任务): read from the tables the stream processor keeps.

Figures streamed by ``streams/`` (exact, seconds behind the ledger): registered, dispatched, confirmed,
currently_employed, followup_coverage, priority_group_share, outputs, placements confirmed/rejected,
confirmation_rate, separations, average_wage, and retention at 3 and 6 months (streamed by due date, summed
up to today). Figures queried here at read time: subsidies accrued (the subsidies table), categories (sums
over brands).
Jurisdiction: a caller sees its own region and what it covers; anything else is 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from fastapi import APIRouter, HTTPException, Path, Query, Request

from api.deps import PoolDep
from api.routing import JSONRoute
from laowu.domain import statistics as st
from laowu.domain import targets as tg
from laowu.domain.regions import covers, region_exists, region_level, region_name
from laowu.store import stats as store

router = APIRouter(route_class=JSONRoute, tags=["statistics"])

RegionQuery = Annotated[str | None, Query(pattern=r"^\d{6}$",
                                          description="GB/T 2260 code; its figures roll up everything under it")]
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])(-\d{2})?$"
FromQuery = Annotated[str | None, Query(alias="from", pattern=_MONTH,
                                        description="first month, YYYY-MM (default: 11 months before `to`)")]
ToQuery = Annotated[str | None, Query(pattern=_MONTH, description="last month, YYYY-MM (default: this month, Beijing)")]
SERIES_FIELDS = ("registered", "dispatched", "confirmed", "outputs", "placements_confirmed", "placements_rejected",
                 "separations", "followup_coverage", "priority_group_share", "confirmation_rate", "average_wage")
CATEGORY_NAMES = {"skilled": "中高端技能型", "service": "高品质服务型", "culture_tourism": "文化和旅游类",
                  "livelihood": "民生保障型", "agriculture": "农业类"}


def not_found(what: str) -> HTTPException:
    return HTTPException(status_code=404, detail=[{"loc": ["path"], "msg": f"{what} not found", "type": "not_found"}])


def jurisdiction(request: Request, region: str | None) -> str | None:
    """The region to answer for: the caller's own when none is asked; 404 for one outside it."""
    actor = getattr(request.state, "actor", None)
    if actor is None:
        raise not_found("region")  # no actor means nothing
    if actor.role == "admin":
        return region
    if not actor.region:
        raise not_found("region")
    if region is None:
        return str(actor.region)
    if not covers(actor.region, region):
        raise not_found(f"region {region}")
    return region


def this_month() -> str:
    return datetime.now(st.BEIJING).strftime("%Y-%m")


def window(first: str | None, last: str | None) -> tuple[str, str]:
    """Months first..last (default: the last 12), at most 10 years."""
    last_m = (last or this_month())[:7]
    if first:
        first_m = first[:7]
    else:
        year, month = int(last_m[:4]), int(last_m[5:7]) - 11
        while month < 1:
            year, month = year - 1, month + 12
        first_m = f"{year:04d}-{month:02d}"
    if first_m > last_m or st.month_count(first_m, last_m) > 120:
        raise HTTPException(status_code=422, detail=[{"loc": ["query", "from"], "type": "value_error",
                                                      "msg": "from must not be after to, and at most 120 months apart"}])
    return first_m, last_m


def region_ref(code: str | None) -> dict[str, Any] | None:
    return None if code is None else {"code": code, "name": region_name(code), "level": region_level(code)}


async def figures(pool: asyncpg.Pool, scope: st.Scope) -> dict[str, Any]:
    """Streamed figures of a scope, plus the queried ones (retention, subsidies)."""
    raw = (await store.figures_of(pool, [scope]))[scope]
    out = st.derive(raw)
    kept = await store.retention(pool, scope, datetime.now(st.BEIJING).date())
    amount, count = await store.subsidies(pool, scope)
    out |= {"retention_3m": st.ratio(kept["kept3"], kept["due3"]), "retention_6m": st.ratio(kept["kept6"], kept["due6"]),
            "retention_3m_base": kept["due3"], "retention_6m_base": kept["due6"],
            "subsidies_accrued": str(amount), "subsidies_count": count}
    return out


async def series(pool: asyncpg.Pool, scope: st.Scope, first: str, last: str) -> list[dict[str, Any]]:
    months = await store.series(pool, scope, first, last)
    out = []
    for month in st.months_between(first, last):
        derived = st.derive(months.get(month, {}))
        out.append({"month": month} | {k: derived[k] for k in SERIES_FIELDS})
    return out


def parent_of(code: str) -> str | None:
    chain = st.rollup(code)
    return chain[1] if len(chain) > 1 else None


async def children(pool: asyncpg.Pool, code: str | None) -> list[dict[str, Any]]:
    """Regions one level down (provinces when ``code`` is None) that have figures, largest first."""
    keys = await store.region_keys(pool, "region", "" if code is None else store.region_prefix(code))
    wanted = [k for k in keys if (k.endswith("0000") if code is None else parent_of(k) == code)]
    rows = await store.figures_of(pool, [("region", k) for k in wanted])
    out = [region_ref(k) | st.derive(rows[("region", k)]) for k in wanted]  # type: ignore[operator]
    return sorted(out, key=lambda r: (-r["registered"], r["code"]))


async def brand_ranking(pool: asyncpg.Pool, region: str | None, limit: int = 20) -> list[dict[str, Any]]:
    brands = await store.brands_in(pool, region)
    rows = await store.figures_of(pool, [("brand", b["brand_id"]) for b in brands])
    ranked = [b | st.derive(rows[("brand", b["brand_id"])]) for b in brands]
    return sorted(ranked, key=lambda r: (-r["registered"], -r["outputs"], r["brand_id"]))[:limit]


async def categories(pool: asyncpg.Pool, region: str | None) -> list[dict[str, Any]]:
    """Per category (品牌类别): the sum of its brands' figures (a person in two brands of one category counts twice)."""
    brands = await store.brands_in(pool, region)
    rows = await store.figures_of(pool, [("brand", b["brand_id"]) for b in brands])
    sums: dict[str, dict[str, Any]] = {}
    for b in brands:
        acc = sums.setdefault(b["category"], {"brands": 0})
        acc["brands"] += 1
        for metric, value in rows[("brand", b["brand_id"])].items():
            acc[metric] = acc.get(metric, 0) + value
    return [{"category": c, "name": CATEGORY_NAMES.get(c, c), "brands": acc["brands"]} | st.derive(acc)
            for c, acc in sorted(sums.items())]


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
    region = jurisdiction(request, region)
    scope: st.Scope = ("region", region) if region else ("all", "")
    first, last = window(from_, to)
    body: dict[str, Any] = {"scope": "region" if region else "overview", "region": region_ref(region)}
    body |= await figures(pool, scope)
    body |= {
        "series": await series(pool, scope, first, last),
        "children": await children(pool, region),
        "brands": await brand_ranking(pool, region),
        "categories": await categories(pool, region),
        "alerts_open": await store.open_alerts(pool, region),
        "as_of": datetime.now(st.BEIJING).isoformat(timespec="seconds"),
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
    brand = await store.brand(pool, brand_id)
    actor = getattr(request.state, "actor", None)
    if brand is None or actor is None or (actor.role != "admin"
                                          and not (actor.region and covers(actor.region, brand["region_code"]))):
        raise not_found(f"brand {brand_id}")
    first, last = window(from_, to)
    scope: st.Scope = ("brand", brand_id)
    return brand | {"region": region_ref(brand["region_code"])} | await figures(pool, scope) | {
        "granularity": granularity, "from": first, "to": last, "series": await series(pool, scope, first, last),
        "as_of": datetime.now(st.BEIJING).isoformat(timespec="seconds")}


@router.get("/v1/stats/regions/{code}")
async def region_stats(
    request: Request,
    pool: PoolDep,
    code: Annotated[str, Path(pattern=r"^\d{6}$")],
    from_: FromQuery = None,
    to: ToQuery = None,
) -> dict[str, Any]:
    """A region's figures (rolled up from every code under it) and its child regions', for drill-down."""
    if not region_exists(code):
        raise not_found(f"region {code}")
    jurisdiction(request, code)
    first, last = window(from_, to)
    scope: st.Scope = ("region", code)
    parent = parent_of(code)
    return {"region": region_ref(code), "parent": region_ref(parent)} | await figures(pool, scope) | {
        "children": await children(pool, code), "series": await series(pool, scope, first, last),
        "as_of": datetime.now(st.BEIJING).isoformat(timespec="seconds")}


@router.get("/v1/targets")
async def targets(request: Request, pool: PoolDep, region: RegionQuery = None) -> dict[str, Any]:
    """Progress against the seed documents' targets (Chongqing 2021, Hainan 2023) for the region."""
    region = jurisdiction(request, region)
    brands = await store.brands_in(pool, None)
    return {"items": tg.progress(brands, region, datetime.now(st.BEIJING).date()),
            "as_of": datetime.now(st.BEIJING).isoformat(timespec="seconds")}
