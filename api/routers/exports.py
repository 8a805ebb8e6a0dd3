"""Excel exports: the real-name ledger (实名制台账) and the statistics, for bureaus that file them on.

ID numbers and phones masked, headers in Chinese (rendering: ``api.books``). The event loop only reads: pages of
the ledger by keyset pagination go to a child process that writes the workbook (``api.spool``), so a province's
ledger does not stall the other requests of the process. The finished file is written to the audit log, then
streamed and deleted.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api import bulk_audit, spool
from api.access import CurrentActor
from api.deps import PoolDep
from api.routing import JSONRoute
from laowu import flow_reports, reports
from laowu.domain import statistics as st
from laowu.domain.regions import region_name
from laowu.store import stats as store
from schemas.common import Actor

router = APIRouter(route_class=JSONRoute, tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 2000


def _response(path: str, filename: str, ascii_name: str) -> FileResponse:
    return FileResponse(
        path, media_type=XLSX, background=BackgroundTask(os.unlink, path),
        headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
                 "Cache-Control": "no-store"},
    )


async def _worker_pages(pool: Any, brand_id: str | None, region: str | None, actor: Actor
                        ) -> AsyncIterator[list[dict[str, Any]]]:
    """The caller's workers in worker id order, a page at a time (keyset: each page a short index range)."""
    after = ""
    while True:
        rows = await store.export_workers(pool, brand_id=brand_id, region=region, viewer=actor, after=after, limit=PAGE)
        if rows:
            yield rows
        if len(rows) < PAGE:
            return
        after = rows[-1]["worker_id"]


@router.get("/v1/export/workers.xlsx", response_class=FileResponse,
            responses={200: {"content": {XLSX: {}}, "description": "从业人员台账 (masked)"}})
async def export_workers(
    request: Request,
    pool: PoolDep,
    actor: CurrentActor,
    brand_id: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> FileResponse:
    """The real-name ledger (实名制台账) of the caller's jurisdiction, optionally one brand or region.

    Audited (``export.workers``: filters and row count) before it is sent.
    """
    if region is not None:
        reports.jurisdiction(actor, region)
    names = {b["brand_id"]: b["name"] for b in await store.brands_in(pool, None)}
    path, rows = await spool.build("workers", {"names": names}, _worker_pages(pool, brand_id, region, actor))
    await bulk_audit.audited(request, actor, path, "export.workers",
                             {"filters": {"brand_id": brand_id, "region": region}, "rows": rows})
    stamp = reports.now().strftime("%Y%m%d")
    return _response(path, f"从业人员台账-{stamp}.xlsx", f"workers-{stamp}.xlsx")


@router.get("/v1/export/stats.xlsx", response_class=FileResponse,
            responses={200: {"content": {XLSX: {}}, "description": "统计报表"}})
async def export_stats(
    request: Request,
    pool: PoolDep,
    actor: CurrentActor,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> FileResponse:
    """The statistics of a region (or the whole country): overview, sub-regions, brands, months, targets.

    Audited (``export.stats``) before it is sent, as every export.
    """
    region = reports.jurisdiction(actor, region)
    scope: st.Scope = ("region", region) if region else ("all", "")
    first, last = reports.window(None, None)
    params = {
        "title": (region_name(region) if region else "全国") or region or "全国",
        "figures": await reports.figures(pool, scope),
        "children": await reports.children(pool, region),
        "brands": await reports.brand_ranking(pool, region, limit=1000),
        "months": await reports.series(pool, scope, first, last),
        "progress": await reports.progress(pool, region),
        "category_names": reports.CATEGORY_NAMES,
        "month_keys": list(reports.SERIES_FIELDS),
        "flows": await flow_reports.flows(pool, actor, region, level="county", by_month=True, by_brand=True),
    }
    path, _ = await spool.build("stats", params)
    rows = {"children": len(params["children"]), "brands": len(params["brands"]), "months": len(params["months"])}
    await bulk_audit.audited(request, actor, path, "export.stats", {"filters": {"region": region}, "rows": rows})
    stamp = reports.now().strftime("%Y%m%d")
    return _response(path, f"劳务品牌统计-{params['title']}-{stamp}.xlsx", f"stats-{region or 'all'}-{stamp}.xlsx")
