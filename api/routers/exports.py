"""Excel exports: the real-name ledger (实名制台账) and the statistics, for bureaus that file them on.

Workbooks are written with openpyxl in ``write_only`` mode (rows streamed to the file, constant memory),
ID numbers and phones masked, headers in Chinese. The file is built in a worker thread from pages read
with keyset pagination, then streamed and deleted.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from starlette.background import BackgroundTask

from api.deps import PoolDep
from api.routers import stats as stats_api
from api.routing import JSONRoute
from laowu import xlsx_safe
from laowu.domain import statistics as st
from laowu.domain.identity import masked_worker
from laowu.domain.regions import region_name
from laowu.store import stats as store

router = APIRouter(route_class=JSONRoute, tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 2000
SEX = {"M": "男", "F": "女"}
STATE = {"registered": "已登记", "dispatched": "已输出待确认", "placed": "在岗", "separated": "已离职", "returned": "已返乡"}
PRIORITY = {"poverty_alleviated": "脱贫人口", "rural_low_income": "农村低收入人口", "relocated": "易地扶贫搬迁群众",
            "left_behind_women": "农村留守妇女", "disabled": "残疾人", "veteran": "退役军人"}
WORKER_HEADERS = [("人员编号", 28), ("身份证号(脱敏)", 22), ("姓名", 10), ("性别", 6), ("出生年月", 10),
                  ("手机号(脱敏)", 15), ("户籍地代码", 11), ("户籍地", 24), ("所属劳务品牌", 24), ("优先输出对象", 20),
                  ("职业编码", 12), ("当前状态", 12), ("当前岗位编号", 26), ("最近跟踪服务", 13), ("登记时间", 20)]
FIGURES = [("registered", "登记从业人员(人)"), ("dispatched", "累计有组织输出(人)"), ("confirmed", "累计确认入职(人)"),
           ("currently_employed", "当前在岗(人)"), ("outputs", "有组织输出(人次)"),
           ("placements_confirmed", "确认入职(人次)"), ("placements_rejected", "未到岗/未录用(人次)"),
           ("confirmation_rate", "入职确认率"), ("separations", "离职(人次)"), ("followup_coverage", "30日跟踪服务覆盖率"),
           ("priority_group_share", "优先输出对象占比"), ("retention_3m", "3个月稳岗率"), ("retention_6m", "6个月稳岗率"),
           ("average_wage", "平均月工资(元)"), ("subsidies_accrued", "累计补贴(元)"), ("subsidies_count", "补贴笔数")]
SHARES = {"confirmation_rate", "followup_coverage", "priority_group_share", "retention_3m", "retention_6m"}
HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F4E79")


def _header(ws: WriteOnlyWorksheet, columns: list[tuple[str, int]]) -> None:
    for i, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    cells = []
    for label, _ in columns:
        cell = WriteOnlyCell(ws, value=label)
        cell.font, cell.fill, cell.alignment = HEAD_FONT, HEAD_FILL, Alignment(horizontal="center")
        cells.append(cell)
    ws.append(cells)  # our own labels


def _value(key: str, value: Any) -> Any:
    if value is None:
        return ""
    if key in ("average_wage", "subsidies_accrued"):
        return float(value)
    return value


def _share(ws: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.number_format = "0.00%"
    return cell


def _percent(ws: WriteOnlyWorksheet, key: str, value: Any) -> Any:
    return _share(ws, value) if key in SHARES else _value(key, value)


def _response(path: str, filename: str, ascii_name: str) -> FileResponse:
    return FileResponse(
        path, media_type=XLSX, background=BackgroundTask(os.unlink, path),
        headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
                 "Cache-Control": "no-store"},
    )


def _temp_path() -> str:
    fd, path = tempfile.mkstemp(prefix="laowu-export-", suffix=".xlsx")
    os.close(fd)
    return path


@router.get("/v1/export/workers.xlsx", response_class=FileResponse,
            responses={200: {"content": {XLSX: {}}, "description": "从业人员台账 (masked)"}})
async def export_workers(
    request: Request,
    pool: PoolDep,
    brand_id: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> FileResponse:
    """The real-name ledger (实名制台账) of the caller's jurisdiction, optionally one brand or region."""
    actor = getattr(request.state, "actor", None)
    if region is not None:
        stats_api.jurisdiction(request, region)
    names = {b["brand_id"]: b["name"] for b in await store.brands_in(pool, None)}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("从业人员台账")
    _header(ws, WORKER_HEADERS)
    after = ""
    while True:
        rows = await store.export_workers(pool, brand_id=brand_id, region=region, viewer=actor, after=after, limit=PAGE)
        for r in map(masked_worker, rows):  # the API's masked view: birth month, address code only
            xlsx_safe.append(ws, [
                r["worker_id"], r["id_number_masked"], r["name"], SEX.get(r["sex"], r["sex"]), r["birth_month"],
                r["phone_masked"] or "", r["household_region"], region_name(r["household_region"]) or "",
                "、".join(names.get(b, b) for b in r["brand_ids"]),
                "、".join(PRIORITY.get(g, g) for g in r["priority_groups"]), r["occupation_code"] or "",
                STATE.get(r["state"], r["state"]), r["current_placement_id"] or "", r["last_followup_at"] or "",
                r["registered_at"].astimezone(st.BEIJING).strftime("%Y-%m-%d %H:%M"),
            ])
        if len(rows) < PAGE:
            break
        after = rows[-1]["worker_id"]
    path = _temp_path()
    await asyncio.to_thread(wb.save, path)
    stamp = datetime.now(st.BEIJING).strftime("%Y%m%d")
    return _response(path, f"从业人员台账-{stamp}.xlsx", f"workers-{stamp}.xlsx")


@router.get("/v1/export/stats.xlsx", response_class=FileResponse,
            responses={200: {"content": {XLSX: {}}, "description": "统计报表"}})
async def export_stats(
    request: Request,
    pool: PoolDep,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> FileResponse:
    """The statistics of a region (or the whole country): overview, sub-regions, brands, months, targets."""
    region = stats_api.jurisdiction(request, region)
    scope: st.Scope = ("region", region) if region else ("all", "")
    first, last = stats_api.window(None, None)
    figures = await stats_api.figures(pool, scope)
    children = await stats_api.children(pool, region)
    brands = await stats_api.brand_ranking(pool, region, limit=1000)
    months = await stats_api.series(pool, scope, first, last)
    progress = await stats_api.targets(request, pool, region)

    wb = Workbook(write_only=True)
    title = (region_name(region) if region else "全国") or region or "全国"
    ws = wb.create_sheet("总览")
    _header(ws, [("指标", 26), (title, 18)])
    for key, label in FIGURES:
        xlsx_safe.append(ws, [label, _percent(ws, key, figures.get(key))])
    xlsx_safe.append(ws, ["统计时间", datetime.now(st.BEIJING).strftime("%Y-%m-%d %H:%M")])

    labels = dict(FIGURES)
    streamed = set(st.derive({}))
    keys = [k for k, _ in FIGURES if k in streamed]
    figure_cols = [(labels[k], 14) for k in keys]
    ws = wb.create_sheet("下级地区")
    _header(ws, [("地区代码", 10), ("地区", 22), *figure_cols])
    for c in children:
        xlsx_safe.append(ws, [c["code"], c["name"] or "", *[_percent(ws, k, c.get(k)) for k in keys]])

    ws = wb.create_sheet("劳务品牌")
    _header(ws, [("品牌编号", 24), ("品牌名称", 16), ("类别", 14), ("级别", 8), ("状态", 8), ("所在地", 20), *figure_cols])
    for b in brands:
        xlsx_safe.append(ws, [b["brand_id"], b["name"], stats_api.CATEGORY_NAMES.get(b["category"], b["category"]), b["level"],
                   b["status"], region_name(b["region_code"]) or b["region_code"],
                   *[_percent(ws, k, b.get(k)) for k in keys]])

    ws = wb.create_sheet("月度趋势")
    month_keys = list(stats_api.SERIES_FIELDS)
    _header(ws, [("月份", 10), *[(labels.get(k, k), 14) for k in month_keys]])
    for m in months:
        xlsx_safe.append(ws, [m["month"], *[_percent(ws, k, m.get(k)) for k in month_keys]])

    ws = wb.create_sheet("目标进度")
    _header(ws, [("文件", 40), ("目标", 44), ("目标值", 8), ("已完成", 8), ("培育中", 8), ("完成率", 10), ("期限", 12),
                 ("尚未覆盖", 60)])
    for item in progress["items"]:
        for goal in item["goals"]:
            missing = "、".join(m["name"] for m in goal.get("missing", []))
            xlsx_safe.append(ws, [item["document"], goal["label"], goal.get("target", ""), goal.get("achieved", ""),
                       goal.get("in_cultivation", ""), _share(ws, goal.get("progress", "")),
                       goal.get("deadline", ""), missing or goal.get("reason", "")])
    path = _temp_path()
    await asyncio.to_thread(wb.save, path)
    stamp = datetime.now(st.BEIJING).strftime("%Y%m%d")
    return _response(path, f"劳务品牌统计-{title}-{stamp}.xlsx", f"stats-{region or 'all'}-{stamp}.xlsx")
