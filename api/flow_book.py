"""The flow sheet (劳务流向) of the statistics export (issue 19), written by ``api.books`` in its child process."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from laowu import xlsx_safe
from laowu.domain.distance import LABELS
from laowu.domain.regions import region_name

COLUMNS = [("输出地代码", 10), ("输出地", 22), ("输入地代码", 10), ("输入地", 22), ("流向类别", 10), ("月份", 10),
           ("品牌编号", 24), ("输出(人次)", 12), ("确认入职(人次)", 14)]


def flows_sheet(wb: Workbook, rows: list[dict[str, Any]], header: Any) -> None:
    """One row per origin, destination, distance class, month and brand (the cells as the stream keeps them)."""
    ws = wb.create_sheet("劳务流向")
    header(ws, COLUMNS)
    for r in rows:
        xlsx_safe.append(ws, [r["origin_region"], region_name(r["origin_region"]) or "", r["destination_region"],
                              region_name(r["destination_region"]) or "",
                              LABELS.get(r["distance_class"], r["distance_class"]), r["month"] or "",
                              r["brand_id"] or "", r["sent"], r["confirmed"]])
