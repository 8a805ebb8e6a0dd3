"""Alert and subsidy lists by region: every page from the cover tables equals prefix containment of the rows' own
regions, for rows written before migration 0016 (its backfill) and after it (its triggers, through the ledger's
writers), for every kind of viewer and ``region=`` filter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from laowu.store import dispatch as dstore
from laowu.store import queries
from laowu.store.migrate import migrate
from laowu.store.pool import connect, create_pool
from laowu.store.scope import SYSTEM, region_prefix
from laowu.store.scope import Viewer as AnyViewer
from schemas.common import Actor as Viewer

from helpers import database_before, every_page

REGIONS = [  # each row's regions: household first, then dispatch origins
    ["469006"], ["469006", "469006"], ["469007"], ["460106"], ["460100"], ["500101"], ["500101", "469006"],
    ["460106", "500229"], ["469005"], [],
]
BEFORE, AFTER = REGIONS[:5], REGIONS[5:]  # written by the previous release / through the ledger's writers
VIEWS: list[tuple[AnyViewer | None, str | None]] = [
    (Viewer(role="workstation", org="ws-469006-01", region="469006"), None),
    (Viewer(role="bureau", org="hainan", region="460000"), None),
    (Viewer(role="bureau", org="haikou", region="460100"), None),
    (Viewer(role="bureau", org="chongqing", region="500000"), None),
    (Viewer(role="bureau", org="hainan", region="460000"), "500101"),  # seen through 469006, filtered by 500101
    (Viewer(role="bureau", org="hainan", region="460000"), "469006"),
    (Viewer(role="admin", org="a"), None),
    (Viewer(role="admin", org="a"), "460100"),
    (Viewer(role="admin", org="a"), "469007"),
    (SYSTEM, "460000"),  # an internal reader, named
    (None, "460000"),  # no viewer: nothing, whatever the filter
    (None, None),
    (Viewer(role="employer", org="emp-1"), None),
]


def _under(code: str, regions: list[str]) -> bool:
    return any(r.startswith(region_prefix(code)) for r in regions)


def _expected(rows: dict[str, list[str]], viewer: AnyViewer | None, region: str | None) -> list[str]:
    if viewer is None or viewer.role == "employer":
        return []
    return sorted(k for k, regions in rows.items()
                  if (region is None or _under(region, regions))
                  and (viewer.role in ("admin", "system") or _under(viewer.region or "", regions)))


def _alert(i: int, regions: list[str]) -> dict[str, Any]:
    return {"alert_id": f"followup_overdue:pl-{i:02d}", "kind": "followup_overdue", "worker_id": f"w{i:02d}",
            "placement_id": f"pl-{i:02d}", "regions": regions, "due_at": None, "raised_at": datetime.now(UTC),
            "detail": None, "closed_at": None}


def _subsidy(i: int, regions: list[str]) -> dict[str, Any]:
    return {"subsidy_id": f"transport:pl-{i:02d}", "kind": "transport", "worker_id": f"w{i:02d}",
            "organization_id": "ws-1", "placement_id": f"pl-{i:02d}", "amount": "300", "rule_version": "v1",
            "accrued_at": datetime.now(UTC), "regions": regions, "origin_region": (regions or ["469006"])[-1],
            "brand_id": "b-1"}


@pytest.mark.parametrize("limit", [2, 100])
async def test_lists_by_region_match_prefix_containment(infra: Any, limit: int) -> None:
    dsn = await database_before(infra, "0016")
    conn = await connect(dsn)
    try:
        for i, regions in enumerate(BEFORE):
            await conn.execute(
                "INSERT INTO alerts (alert_id, kind, worker_id, placement_id, regions, raised_at) "
                "VALUES ($1, 'followup_overdue', $2, $3, $4, now())", f"followup_overdue:pl-{i:02d}", f"w{i:02d}",
                f"pl-{i:02d}", regions)
            await conn.execute(
                "INSERT INTO subsidies (subsidy_id, kind, worker_id, organization_id, placement_id, amount, rule_version,"
                " accrued_at, regions, origin_region, brand_id) VALUES ($1, 'transport', $2, 'ws-1', $3, 300, 'v1',"
                " now(), $4, $5, 'b-1')", f"transport:pl-{i:02d}", f"w{i:02d}", f"pl-{i:02d}", regions, regions[-1])
        assert "0016_region_covers" in await migrate(dsn)
        after = list(enumerate(AFTER, start=len(BEFORE)))
        async with conn.transaction():  # the ledger's writers: COPY to a stage, INSERT … ON CONFLICT
            await dstore.raise_alerts(conn, [_alert(i, r) for i, r in after[:2]])
            await dstore.insert(conn, "alerts", [_alert(i, r) for i, r in after[1:]])  # one already there
            await dstore.set_alert_closures(conn, {_alert(i, r)["alert_id"]: None for i, r in after[1:2]})
            await dstore.accrue(conn, [_subsidy(i, r) for i, r in after])
            await dstore.accrue(conn, [_subsidy(i, r) for i, r in after[:1]])  # a repeat adds nothing
    finally:
        await conn.close()

    rows = {"alerts": {f"followup_overdue:pl-{i:02d}": r for i, r in enumerate(REGIONS)},
            "subsidies": {f"transport:pl-{i:02d}": r for i, r in enumerate(REGIONS)}}
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        for viewer, region in VIEWS:
            async def alerts(after: str | None, region: str | None = region,
                             viewer: AnyViewer | None = viewer) -> list[dict[str, Any]]:
                return await queries.alerts(pool, region=region, kind=None, open_only=None, worker_id=None,
                                            after=after, limit=limit, viewer=viewer)

            async def subsidies(after: str | None, region: str | None = region,
                                viewer: AnyViewer | None = viewer) -> list[dict[str, Any]]:
                return await queries.subsidies(pool, region=region, worker_id=None, organization_id=None,
                                               after=after, limit=limit, viewer=viewer)

            for table, key, fetch in (("alerts", "alert_id", alerts), ("subsidies", "subsidy_id", subsidies)):
                seen = await every_page(fetch, key, limit)
                assert seen == _expected(rows[table], viewer, region), (table, viewer, region)
        # Filters beside the region still apply on the cover path.
        open_ = await queries.alerts(pool, region="469006", kind="followup_overdue", open_only=True,
                                     worker_id="w06", after=None, limit=10, viewer=SYSTEM)
        assert [r["alert_id"] for r in open_] == ["followup_overdue:pl-06"]
    finally:
        await pool.close()


async def test_open_alerts_by_region_count_the_same_either_way(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``stats.open_alerts`` joins the region's cover rows while they are few, else scans the open alerts."""
    from laowu.store import stats

    assert settings.database_url
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        rows = [_alert(i, r) | {"kind": kind} for i, r in enumerate(REGIONS)
                for kind in ("followup_overdue", "wage_arrears")]
        for row in rows:
            row["alert_id"] = f"{row['kind']}:{row['placement_id']}"
        async with pool.acquire() as conn, conn.transaction():
            await dstore.raise_alerts(conn, rows)
            await dstore.set_alert_closures(conn, {"wage_arrears:pl-01": datetime.now(UTC),
                                                   "followup_overdue:pl-06": datetime.now(UTC)})
        open_rows = [r for r in rows if (r["placement_id"], r["kind"]) not in
                     {("pl-01", "wage_arrears"), ("pl-06", "followup_overdue")}]
        for region in ("469006", "460000", "460100", "500000", "469007", "440300"):
            expected: dict[str, int] = {}
            for r in open_rows:
                if _under(region, r["regions"]):
                    expected[r["kind"]] = expected.get(r["kind"], 0) + 1
            for cap in (1_000, 1):  # the cover's join; the scan of open alerts
                monkeypatch.setattr(stats, "COVERED_OPEN_ALERTS", cap)
                assert await stats.open_alerts(pool, region) == expected, (region, cap)
    finally:
        await pool.close()
