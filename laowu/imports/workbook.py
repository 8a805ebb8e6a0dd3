"""Workbooks we hand out: the registration template and the error report of an import."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from laowu.domain.regions import region_name
from laowu.imports.sheet import SheetKind
from laowu.imports.workers import CERTIFICATE_KINDS, EXAMPLE, PRIORITY_GROUPS, WORKERS

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_ROWS = 10_000  # rows below the header that carry dropdowns
_HINTS = {"sex": "（男/女）", "household_region": "（区划代码）"}
_BOLD = Font(bold=True)
_REQUIRED = Font(bold=True, color="C00000")
_EXAMPLE = Font(italic=True, color="808080")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
BRAND_STATUS_ZH = {"candidate": "培育中", "listed": "已入库", "demonstration": "示范品牌"}


def brand_choice(brand: Mapping[str, Any]) -> str:
    """How the dropdown shows a brand; the importer reads the id back from the parentheses."""
    return f"{brand['name']}（{brand['brand_id']}）"


def _options(wb: Workbook, brands: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """A hidden sheet with the dropdown lists (list validations over 255 characters must use a range)."""
    ws = wb.create_sheet("选项")
    ws.sheet_state = "hidden"
    lists = {
        "sex": ["男", "女"],
        "priority_groups": list(PRIORITY_GROUPS.values()),
        "brand_ids": [brand_choice(b) for b in brands],
        "certificate_kind": list(CERTIFICATE_KINDS.values()),
    }
    ranges: dict[str, str] = {}
    for col, (key, values) in enumerate(lists.items(), start=1):
        ws.cell(row=1, column=col, value=WORKERS.label(key))
        for row, value in enumerate(values, start=2):
            ws.cell(row=row, column=col, value=value)
        if values:
            letter = get_column_letter(col)
            ranges[key] = f"'选项'!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def _validation(ws: Worksheet, kind: SheetKind, key: str, formula: str, *, strict: bool, prompt: str,
                first_row: int) -> None:
    index = next(i for i, c in enumerate(kind.columns, start=1) if c.key == key)
    letter = get_column_letter(index)
    dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False,
                        showErrorMessage=strict, showInputMessage=True,
                        promptTitle=kind.label(key), prompt=prompt[:255],
                        errorTitle=kind.label(key), error="请从下拉列表中选择")
    dv.add(f"{letter}{first_row}:{letter}{first_row + TEMPLATE_ROWS - 1}")
    ws.add_data_validation(dv)


def workers_template(brands: Sequence[Mapping[str, Any]]) -> bytes:
    """``GET /v1/templates/workers.xlsx``: 登记表 (title, header, example row, dropdowns), 说明, hidden 选项."""
    kind = WORKERS
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "登记表"
    last = get_column_letter(len(kind.columns))
    ws["A1"] = f"{kind.title}　红色列名为必填；第3行是示例，导入时自动跳过（可删除）；各列填写要求见“说明”工作表"
    ws["A1"].font = Font(bold=True, size=12)
    ws.merge_cells(f"A1:{last}1")
    ws.row_dimensions[1].height = 24
    example = dict(EXAMPLE, brand_ids=brand_choice(brands[0]) if brands else "")
    for i, col in enumerate(kind.columns, start=1):
        letter = get_column_letter(i)
        head = ws.cell(row=2, column=i, value=col.label + _HINTS.get(col.key, ""))
        head.font = _REQUIRED if col.required else _BOLD
        head.fill = _HEADER_FILL
        head.alignment = Alignment(horizontal="center", vertical="center")
        sample = ws.cell(row=3, column=i, value=example.get(col.key) or None)
        sample.font = _EXAMPLE
        dim = ws.column_dimensions[letter]
        dim.width = col.width
        if col.text_format:
            # Text so that Excel keeps 18-digit ID numbers (and leading zeros) as typed, not 4.60105E+17.
            dim.number_format = "@"
            sample.number_format = "@"
    ws.freeze_panes = "A3"
    ranges = _options(wb, brands)
    groups = "、".join(PRIORITY_GROUPS.values())
    _validation(ws, kind, "sex", ranges["sex"], strict=True, prompt="选择 男 或 女", first_row=3)
    _validation(ws, kind, "priority_groups", ranges["priority_groups"], strict=False,
                prompt=f"下拉选择；多个群体用顿号分隔。可选：{groups}", first_row=3)
    _validation(ws, kind, "certificate_kind", ranges["certificate_kind"], strict=True,
                prompt="持有证书时选择证书类型，并填写证书名称", first_row=3)
    if "brand_ids" in ranges:
        _validation(ws, kind, "brand_ids", ranges["brand_ids"], strict=False,
                    prompt="下拉选择所属劳务品牌；也可填写品牌编号，多个用顿号分隔", first_row=3)
    _notes(wb, kind, brands)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _notes(wb: Workbook, kind: SheetKind, brands: Sequence[Mapping[str, Any]]) -> None:
    ws = wb.create_sheet("说明", 1)
    ws.append(["列名", "是否必填", "填写说明", "示例"])
    for cell in ws[1]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    for col in kind.columns:
        ws.append([col.label, "必填" if col.required else "选填", col.note, EXAMPLE.get(col.key, "")])
    ws.append([])
    for line in (
        "导入说明",
        "1. 在“登记表”第3行（示例行）之下逐行填写，每行一人；空行会被跳过。",
        "2. 上传后逐行校验，与单条登记的规则相同：身份证号校验位、性别和出生日期须与身份证号一致、"
        "户籍地代码须存在、年满16周岁、手机号格式。",
        "3. 校验通过的行即登记；未通过的行不登记，可下载“错误报告”，其中“错误原因”一列说明每行的问题，改正后可直接上传该报告。",
        "4. 同一文件重复上传不会重复登记；同一人登记多次会合并（品牌、优先群体、证书取并集）。",
        "5. 也可上传 CSV 文件（UTF-8 或 GBK 编码），列名与本表相同。",
    ):
        ws.append([line])
    ws.cell(row=ws.max_row - 5, column=1).font = _BOLD
    ws.append([])
    ws.append(["优先群体", "接口代码"])
    for code, label in PRIORITY_GROUPS.items():
        ws.append([label, code])
    ws.append([])
    ws.append(["证书类型", "接口代码"])
    for code, label in CERTIFICATE_KINDS.items():
        ws.append([label, code])
    ws.append([])
    ws.append(["可选品牌", "品牌编号", "所在地区", "状态"])
    for b in brands:
        ws.append([b["name"], b["brand_id"], f"{b['region_code']} {region_name(b['region_code']) or ''}".strip(),
                   BRAND_STATUS_ZH.get(b["status"], b["status"])])
    if not brands:
        ws.append(["（暂无可选品牌：品牌登记并生效后才会出现在下拉列表中）"])
    for letter, width in zip("ABCD", (16, 22, 90, 24), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2, max_row=len(kind.columns) + 1):
        for cell in row:
            cell.alignment = _WRAP


class ReportWriter:
    """``errors.xlsx``, written row by row (openpyxl write-only): 错误行 and, if any, 提示 (warnings).

    Columns: 行号 (in the uploaded file), the file's own columns with the values as uploaded, then the
    reason. The importer ignores 行号 and 错误原因, so a corrected report can be uploaded as it is.
    """

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.wb = Workbook(write_only=True)
        self._sheets: dict[str, Any] = {}
        self._sheet("错误行", "错误原因")  # first and always present, even when nothing is wrong

    def _sheet(self, title: str, reason: str) -> Any:
        ws = self._sheets.get(title)
        if ws is None:
            ws = self.wb.create_sheet(title)
            ws.freeze_panes = "B2"
            widths = [8, *(22 if "身份证" in c else 14 for c in self.columns), 60]
            for i, width in enumerate(widths, start=1):
                ws.column_dimensions[get_column_letter(i)].width = width
            header = []
            for label in ("行号", *self.columns, reason):
                cell = WriteOnlyCell(ws, value=label)
                cell.font = _BOLD
                cell.fill = _HEADER_FILL
                header.append(cell)
            ws.append(header)
            self._sheets[title] = ws
        return ws

    def add(self, sheet: str, reason_title: str, row_number: int, values: Iterable[str], reason: str) -> None:
        ws = self._sheet(sheet, reason_title)
        cells: list[Any] = [row_number]
        for v in values:
            cell = WriteOnlyCell(ws, value=v or None)
            cell.number_format = "@"
            cells.append(cell)
        cells.append(reason)
        ws.append(cells)

    def save(self, path: Path) -> None:
        self.wb.save(path)
