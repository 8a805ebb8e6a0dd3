"""The workbooks we hand out in bulk, rendered from plain rows: the ledger (实名制台账), the statistics, an import's
error report. Run in a child process by ``api.spool`` (``python -m api.books BOOK PATH``), never in the API's.

Everything here is CPU: masking, labels, openpyxl cells (``write_only``: each row goes to disk as it is appended,
strings inline, so memory does not grow with the row count) and the final zip. Every value from data goes through
``laowu.xlsx_safe``. This module imports openpyxl and the domain only, so the child starts in a fraction of a second.

Protocol on the child's stdin: one pickle frame of parameters, then one pickle frame per page of rows, then end
of file. The parent is the API process itself (the bytes are ours, not a stranger's).
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from api import flow_book
from laowu import xlsx_safe
from laowu.domain import statistics as st
from laowu.domain.identity import masked_worker
from laowu.domain.regions import region_name
from laowu.imports.workbook import ReportWriter

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

Pages = Iterator[list[Any]]


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


def worker_row(r: dict[str, Any], names: dict[str, str]) -> list[Any]:
    """One row of the ledger sheet from the masked view (birth month, address code only)."""
    return [
        r["worker_id"], r["id_number_masked"], r["name"], SEX.get(r["sex"], r["sex"]), r["birth_month"],
        r["phone_masked"] or "", r["household_region"], region_name(r["household_region"]) or "",
        "、".join(names.get(b, b) for b in r["brand_ids"]),
        "、".join(PRIORITY.get(g, g) for g in r["priority_groups"]), r["occupation_code"] or "",
        STATE.get(r["state"], r["state"]), r["current_placement_id"] or "", r["last_followup_at"] or "",
        r["registered_at"].astimezone(st.BEIJING).strftime("%Y-%m-%d %H:%M"),
    ]


def workers(params: dict[str, Any], pages: Pages, path: Path) -> None:
    """实名制台账: pages of worker rows (``laowu.store.stats.export_workers``); params ``names`` (brand id → name)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("从业人员台账")
    _header(ws, WORKER_HEADERS)
    for rows in pages:
        for r in map(masked_worker, rows):  # the API's masked view: the same function as GET /v1/workers
            xlsx_safe.append(ws, worker_row(r, params["names"]))
    wb.save(path)


def stats(p: dict[str, Any], pages: Pages, path: Path) -> None:
    """统计报表: everything in the params (figures, children, brands, months, progress; a few thousand rows)."""
    wb = Workbook(write_only=True)
    title = p["title"]
    ws = wb.create_sheet("总览")
    _header(ws, [("指标", 26), (title, 18)])
    for key, label in FIGURES:
        xlsx_safe.append(ws, [label, _percent(ws, key, p["figures"].get(key))])
    xlsx_safe.append(ws, ["统计时间", datetime.now(st.BEIJING).strftime("%Y-%m-%d %H:%M")])

    labels = dict(FIGURES)
    streamed = set(st.derive({}))
    keys = [k for k, _ in FIGURES if k in streamed]
    figure_cols = [(labels[k], 14) for k in keys]
    ws = wb.create_sheet("下级地区")
    _header(ws, [("地区代码", 10), ("地区", 22), *figure_cols])
    for c in p["children"]:
        xlsx_safe.append(ws, [c["code"], c["name"] or "", *[_percent(ws, k, c.get(k)) for k in keys]])

    ws = wb.create_sheet("劳务品牌")
    _header(ws, [("品牌编号", 24), ("品牌名称", 16), ("类别", 14), ("级别", 8), ("状态", 8), ("所在地", 20), *figure_cols])
    for b in p["brands"]:
        xlsx_safe.append(ws, [b["brand_id"], b["name"], p["category_names"].get(b["category"], b["category"]),
                              b["level"], b["status"], region_name(b["region_code"]) or b["region_code"],
                              *[_percent(ws, k, b.get(k)) for k in keys]])

    ws = wb.create_sheet("月度趋势")
    month_keys = p["month_keys"]
    _header(ws, [("月份", 10), *[(labels.get(k, k), 14) for k in month_keys]])
    for m in p["months"]:
        xlsx_safe.append(ws, [m["month"], *[_percent(ws, k, m.get(k)) for k in month_keys]])

    ws = wb.create_sheet("目标进度")
    _header(ws, [("文件", 40), ("目标", 44), ("目标值", 8), ("已完成", 8), ("培育中", 8), ("完成率", 10), ("期限", 12),
                 ("尚未覆盖", 60)])
    for item in p["progress"]["items"]:
        for goal in item["goals"]:
            missing = "、".join(m["name"] for m in goal.get("missing", []))
            xlsx_safe.append(ws, [item["document"], goal["label"], goal.get("target", ""), goal.get("achieved", ""),
                                  goal.get("in_cultivation", ""), _share(ws, goal.get("progress", "")),
                                  goal.get("deadline", ""), missing or goal.get("reason", "")])
    flow_book.flows_sheet(wb, p.get("flows", []), _header)  # 劳务流向 (issue 19)
    wb.save(path)


def import_errors(params: dict[str, Any], pages: Pages, path: Path) -> None:
    """errors.xlsx: pages of ``(sheet, reason title, row number, values as uploaded, reason)``; params ``columns``."""
    report = ReportWriter(params["columns"])
    for rows in pages:
        for sheet, title, row_number, values, reason in rows:
            report.add(sheet, title, row_number, values, reason)
    report.save(path)


BOOKS: dict[str, Callable[[dict[str, Any], Pages, Path], None]] = {
    "workers": workers, "stats": stats, "import_errors": import_errors}


def _frames(stream: BinaryIO) -> Iterator[Any]:
    while True:
        try:
            yield pickle.load(stream)
        except EOFError:
            return


def main(argv: list[str]) -> int:
    book, path = BOOKS[argv[0]], Path(argv[1])
    frames = _frames(sys.stdin.buffer)
    params = next(frames)
    book(params, frames, path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
