"""Priority-group monitoring (务工监测, issue 20): the table by region and month, a person's months, the workstations'
work-lists (返乡回流, 未就业) and the national collection sheet as a workbook — masked, or with full numbers through the
audited reveal, one reveal per person."""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api import bulk_audit, reveals
from api.access import CurrentActor
from api.deps import IntakeDep, PoolDep
from api.routing import JSONRoute
from laowu import monitoring_reads as reads
from laowu import reports, xlsx_safe
from laowu.store import queries
from schemas.monitoring_api import (
    MonitoringRevealExport,
    MonitoringTable,
    MonthRecords,
    NotInWorkList,
    ReturnedHomeList,
)

router = APIRouter(route_class=JSONRoute, tags=["monitoring"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _response(path: str, filename: str, ascii_name: str) -> FileResponse:
    return FileResponse(
        path, media_type=XLSX, background=BackgroundTask(os.unlink, path),
        headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
                 "Cache-Control": "no-store"},
    )

RegionQuery = Annotated[str | None, Query(pattern=r"^\d{6}$", description="GB/T 2260 code (default: your own)")]
MonthQuery = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM (default: this month)")]


@router.get("/v1/monitoring/table", response_model=MonitoringTable)
async def monitoring_table(pool: PoolDep, actor: CurrentActor, region: RegionQuery = None,
                           month: MonthQuery = None) -> dict[str, Any]:
    """Priority-group people in work in a region and its sub-regions for a month: by distance class, average income,
    change against the previous month and the same month last year; counties falling beyond their rule flagged."""
    region = reports.jurisdiction(actor, region)
    return await reads.table(pool, region, reads.month_or_current(month))


@router.get("/v1/monitoring/workers/{worker_id}/months", response_model=MonthRecords)
async def worker_months(pool: PoolDep, actor: CurrentActor, worker_id: Annotated[str, Path(max_length=64)],
                        through: MonthQuery = None) -> dict[str, Any]:
    """One person's monthly records (务工监测月度记录) up to ``through``; 404 for a person the caller does not see."""
    await queries.worker(pool, worker_id, actor)
    return {"items": await reads.person_months(pool, worker_id, reads.month_or_current(through))}


@router.get("/v1/monitoring/returned-home", response_model=ReturnedHomeList)
async def returned_home(pool: PoolDep, actor: CurrentActor, region: RegionQuery = None) -> dict[str, Any]:
    """返乡回流: people of the region who came home (a separation or a follow-up says so), with the last contact."""
    return {"items": await reads.returned_home(pool, reports.jurisdiction(actor, region))}


@router.get("/v1/monitoring/not-in-work", response_model=NotInWorkList)
async def not_in_work(pool: PoolDep, actor: CurrentActor, region: RegionQuery = None,
                      month: MonthQuery = None) -> dict[str, Any]:
    """Priority-group people not in work in the month, with why and their intentions (送岗上门), and the last contact."""
    month = reads.month_or_current(month)
    return {"month": month, "items": await reads.not_in_work(pool, reports.jurisdiction(actor, region), month)}


def _write_sheet(rows: list[dict[str, Any]], title: str) -> str:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "务工监测"
    ws.append([xlsx_safe.text(title)])
    ws.append([h for h, _ in reads.SHEET_HEADERS])
    for i, (_, width) in enumerate(reads.SHEET_HEADERS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        ws.cell(row=2, column=i).font = Font(bold=True)
    for i, row in enumerate(rows, start=1):
        xlsx_safe.append(ws, reads.sheet_values(row, i))
    ws.freeze_panes = "A3"
    fd, path = tempfile.mkstemp(suffix=".xlsx", prefix="monitoring-")
    os.close(fd)
    wb.save(path)
    return path


async def _sheet(request: Request, actor: Any, region: str | None, month: str, rows: list[dict[str, Any]],
                 action: str, revealed: bool) -> FileResponse:
    title = f"脱贫人口等重点群体务工监测信息采集表 {reads.region_name(region) if region else '全国'} {month}" + (
        "（含完整身份信息，已审计）" if revealed else "（脱敏）")
    path = await asyncio.to_thread(_write_sheet, rows, title)
    await bulk_audit.audited(request, actor, path, action, {"filters": {"region": region, "month": month},
                                                            "rows": len(rows)})
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return _response(path, f"务工监测-{region or 'all'}-{month}-{stamp}.xlsx", f"monitoring-{region or 'all'}-{month}.xlsx")


@router.get("/v1/export/monitoring.xlsx", response_class=FileResponse,
            responses={200: {"content": {XLSX: {}}, "description": "务工监测信息采集表 (masked)"}})
async def export_monitoring(request: Request, pool: PoolDep, actor: CurrentActor, region: RegionQuery = None,
                            month: MonthQuery = None) -> FileResponse:
    """The national monitoring system's collection sheet (姓名, 身份证号, 务工地点, 务工起止时间, 务工月收入, 就业形式 …)
    for the region's priority-group people in the month, masked. Audited (``export.monitoring``)."""
    region = reports.jurisdiction(actor, region)
    month = reads.month_or_current(month)
    return await _sheet(request, actor, region, month, await reads.sheet(pool, region, month), "export.monitoring",
                        False)


@router.post("/v1/export/monitoring-revealed.xlsx", response_class=FileResponse,
             responses={200: {"content": {XLSX: {}}, "description": "务工监测信息采集表 (full numbers, audited)"}})
async def export_monitoring_revealed(body: MonitoringRevealExport, request: Request, pool: PoolDep,
                                     intake: IntakeDep, actor: CurrentActor) -> FileResponse:
    """The same sheet with full ID numbers and phones, only through the audited reveal: each person needs the
    caller's jurisdiction (as ``POST /v1/workers/{id}:reveal``), is one reveal with the stated purpose in the audit
    log (counted in the daily quota: 429 past it, and nothing is written), and the file is audited too
    (``export.monitoring_revealed``)."""
    region = reports.jurisdiction(actor, body.region)
    month = reads.month_or_current(body.month)
    rows = await reads.sheet(pool, region, month)
    cipher = intake.privacy.cipher
    for row in rows:
        full = await queries.reveal(pool, row["worker_id"], actor)  # 404 without jurisdiction over the person
        await reveals.admit(request, actor, row["worker_id"], body.purpose)  # audited first; 429 past the quota
        row["id_number"] = cipher.decrypt(full["id_number_enc"], "id_number")
        row["phone"] = cipher.decrypt(full["phone_enc"], "phone") if full["phone_enc"] else ""
    return await _sheet(request, actor, region, month, rows, "export.monitoring_revealed", True)
