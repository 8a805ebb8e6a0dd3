"""Statistics reports (劳务品牌统计): what a caller may ask about, and a scope's figures assembled from the store.

The one service behind the statistics API (``api.routers.stats``) and its Excel export (``api.routers.exports``):
both answer the same jurisdiction, the same month window and the same figures. Figures streamed by ``streams/``
(exact, seconds behind the ledger) are read from ``stats_figures``; retention is summed from its due-date cells;
subsidies accrued and categories are queried at read time (``laowu.store.stats``). No HTTP here: a question the
caller may not ask raises :class:`OutOfSight` or :class:`BadWindow`, which the API renders (404, 422).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from laowu.domain import statistics as st
from laowu.domain import targets as tg
from laowu.domain.regions import covers, region_exists, region_level, region_name
from laowu.store import stats as store
from laowu.store.scope import Viewer

SERIES_FIELDS = ("registered", "dispatched", "confirmed", "outputs", "placements_confirmed", "placements_rejected",
                 "separations", "followup_coverage", "priority_group_share", "confirmation_rate", "average_wage")
CATEGORY_NAMES = {"skilled": "中高端技能型", "service": "高品质服务型", "culture_tourism": "文化和旅游类",
                  "livelihood": "民生保障型", "agriculture": "农业类"}
MAX_MONTHS = 120
"""The longest window a report spans (10 years)."""


class OutOfSight(LookupError):
    """A region or brand the caller does not see (or that does not exist): the same answer for both (404)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class BadWindow(ValueError):
    """A month window that ends before it starts or spans more than MAX_MONTHS (422 on ``from``)."""


def jurisdiction(actor: Viewer | None, region: str | None) -> str | None:
    """The region to answer for: the caller's own when none is asked; OutOfSight for one outside it."""
    if actor is None:
        raise OutOfSight("region")  # no actor means nothing
    if actor.role == "admin":
        return region
    if not actor.region:
        raise OutOfSight("region")
    if region is None:
        return str(actor.region)
    if not covers(actor.region, region):
        raise OutOfSight(f"region {region}")
    return region


def known_region(actor: Viewer | None, code: str) -> str:
    """A region's own report: it must exist in GB/T 2260 and lie in the caller's jurisdiction."""
    if not region_exists(code):
        raise OutOfSight(f"region {code}")
    jurisdiction(actor, code)
    return code


def now() -> datetime:
    return datetime.now(st.BEIJING)


def as_of() -> str:
    """The moment of a report, Beijing time, to the second."""
    return now().isoformat(timespec="seconds")


def this_month() -> str:
    return now().strftime("%Y-%m")


def window(first: str | None, last: str | None) -> tuple[str, str]:
    """Months first..last (default: the last 12), at most MAX_MONTHS."""
    last_m = (last or this_month())[:7]
    if first:
        first_m = first[:7]
    else:
        year, month = int(last_m[:4]), int(last_m[5:7]) - 11
        while month < 1:
            year, month = year - 1, month + 12
        first_m = f"{year:04d}-{month:02d}"
    if first_m > last_m or st.month_count(first_m, last_m) > MAX_MONTHS:
        raise BadWindow(f"from must not be after to, and at most {MAX_MONTHS} months apart")
    return first_m, last_m


def region_ref(code: str | None) -> dict[str, Any] | None:
    return None if code is None else {"code": code, "name": region_name(code), "level": region_level(code)}


def parent_of(code: str) -> str | None:
    chain = st.rollup(code)
    return chain[1] if len(chain) > 1 else None


async def figures(conn: store.Conn, scope: st.Scope) -> dict[str, Any]:
    """Streamed figures of a scope, plus the queried ones (retention, subsidies)."""
    raw = (await store.figures_of(conn, [scope]))[scope]
    out = st.derive(raw)
    kept = await store.retention(conn, scope, now().date())
    amount, count = await store.subsidies(conn, scope)
    out |= {"retention_3m": st.ratio(kept["kept3"], kept["due3"]), "retention_6m": st.ratio(kept["kept6"], kept["due6"]),
            "retention_3m_base": kept["due3"], "retention_6m_base": kept["due6"],
            "subsidies_accrued": str(amount), "subsidies_count": count}
    return out


async def series(conn: store.Conn, scope: st.Scope, first: str, last: str) -> list[dict[str, Any]]:
    months = await store.series(conn, scope, first, last)
    out = []
    for month in st.months_between(first, last):
        derived = st.derive(months.get(month, {}))
        out.append({"month": month} | {k: derived[k] for k in SERIES_FIELDS})
    return out


async def children(conn: store.Conn, code: str | None) -> list[dict[str, Any]]:
    """Regions one level down (provinces when ``code`` is None) that have figures, largest first."""
    keys = await store.region_keys(conn, "region", "" if code is None else store.region_prefix(code))
    wanted = [k for k in keys if (k.endswith("0000") if code is None else parent_of(k) == code)]
    rows = await store.figures_of(conn, [("region", k) for k in wanted])
    out = [region_ref(k) | st.derive(rows[("region", k)]) for k in wanted]  # type: ignore[operator]
    return sorted(out, key=lambda r: (-r["registered"], r["code"]))


async def brand_ranking(conn: store.Conn, region: str | None, limit: int = 20) -> list[dict[str, Any]]:
    brands = await store.brands_in(conn, region)
    rows = await store.figures_of(conn, [("brand", b["brand_id"]) for b in brands])
    ranked = [b | st.derive(rows[("brand", b["brand_id"])]) for b in brands]
    return sorted(ranked, key=lambda r: (-r["registered"], -r["outputs"], r["brand_id"]))[:limit]


async def categories(conn: store.Conn, region: str | None) -> list[dict[str, Any]]:
    """Per category (品牌类别): the sum of its brands' figures (a person in two brands of one category counts twice)."""
    brands = await store.brands_in(conn, region)
    rows = await store.figures_of(conn, [("brand", b["brand_id"]) for b in brands])
    sums: dict[str, dict[str, Any]] = {}
    for b in brands:
        acc = sums.setdefault(b["category"], {"brands": 0})
        acc["brands"] += 1
        for metric, value in rows[("brand", b["brand_id"])].items():
            acc[metric] = acc.get(metric, 0) + value
    return [{"category": c, "name": CATEGORY_NAMES.get(c, c), "brands": acc["brands"]} | st.derive(acc)
            for c, acc in sorted(sums.items())]


async def open_alerts(conn: store.Conn, region: str | None) -> dict[str, int]:
    """Open alerts (预警) by kind, of the whole country or under a region."""
    return await store.open_alerts(conn, region)


async def brand(conn: store.Conn, actor: Viewer | None, brand_id: str) -> dict[str, Any]:
    """A brand (劳务品牌) the caller sees: an admin every one, a region those it covers; else OutOfSight."""
    found = await store.brand(conn, brand_id)
    if found is None or actor is None or (actor.role != "admin"
                                          and not (actor.region and covers(actor.region, found["region_code"]))):
        raise OutOfSight(f"brand {brand_id}")
    return found


async def progress(conn: store.Conn, region: str | None) -> dict[str, Any]:
    """Progress against the seed documents' targets (Chongqing 2021, Hainan 2023) for the region."""
    brands = await store.brands_in(conn, None)
    return {"items": tg.progress(brands, region, now().date()), "as_of": as_of()}
