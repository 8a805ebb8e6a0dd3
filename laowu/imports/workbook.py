"""Workbooks we hand out: the registration and dispatch-list templates and the error report of an import."""

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

from laowu import xlsx_safe
from laowu.domain.regions import region_name
from laowu.imports.dispatch import BLOCK, DISPATCH, MODES
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
        xlsx_safe.put(ws, 1, col, WORKERS.label(key))
        for row, value in enumerate(values, start=2):
            xlsx_safe.put(ws, row, col, value)
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
        sample = xlsx_safe.put(ws, 3, i, example.get(col.key) or None)
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
    xlsx_safe.append(ws, ["列名", "是否必填", "填写说明", "示例"])
    for cell in ws[1]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    for col in kind.columns:
        xlsx_safe.append(ws, [col.label, "必填" if col.required else "选填", col.note, EXAMPLE.get(col.key, "")])
    xlsx_safe.append(ws, [])
    for line in (
        "导入说明",
        "1. 在“登记表”第3行（示例行）之下逐行填写，每行一人；空行会被跳过。",
        "2. 上传后逐行校验，与单条登记的规则相同：身份证号校验位、性别和出生日期须与身份证号一致、"
        "户籍地代码须存在、年满16周岁、手机号格式。",
        "3. 校验通过的行即登记；未通过的行不登记，可下载“错误报告”，其中“错误原因”一列说明每行的问题，改正后可直接上传该报告。",
        "4. 同一文件重复上传不会重复登记；同一人登记多次会合并（品牌、优先群体、证书取并集）。",
        "5. 也可上传 CSV 文件（UTF-8 或 GBK 编码），列名与本表相同。",
    ):
        xlsx_safe.append(ws, [line])
    ws.cell(row=ws.max_row - 5, column=1).font = _BOLD
    xlsx_safe.append(ws, [])
    xlsx_safe.append(ws, ["优先群体", "接口代码"])
    for code, label in PRIORITY_GROUPS.items():
        xlsx_safe.append(ws, [label, code])
    xlsx_safe.append(ws, [])
    xlsx_safe.append(ws, ["证书类型", "接口代码"])
    for code, label in CERTIFICATE_KINDS.items():
        xlsx_safe.append(ws, [label, code])
    xlsx_safe.append(ws, [])
    xlsx_safe.append(ws, ["可选品牌", "品牌编号", "所在地区", "状态"])
    for b in brands:
        xlsx_safe.append(ws, [b["name"], b["brand_id"], f"{b['region_code']} {region_name(b['region_code']) or ''}".strip(),
                   BRAND_STATUS_ZH.get(b["status"], b["status"])])
    if not brands:
        xlsx_safe.append(ws, ["（暂无可选品牌：品牌登记并生效后才会出现在下拉列表中）"])
    for letter, width in zip("ABCD", (16, 22, 90, 24), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2, max_row=len(kind.columns) + 1):
        for cell in row:
            cell.alignment = _WRAP


# ---- the dispatch list ---------------------------------------------------------------------------------
DISPATCH_TABLE_ROW = len(BLOCK) + 3
"""Row of the 身份证号/姓名 header in the template: title, the 派遣信息 block, one blank row."""


def _dispatch_options(wb: Workbook, brands: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    ws = wb.create_sheet("选项")
    ws.sheet_state = "hidden"
    lists = {"brand_id": [brand_choice(b) for b in brands], "mode": list(MODES.values()),
             "group_transport": ["是", "否"]}
    ranges: dict[str, str] = {}
    for col, (key, values) in enumerate(lists.items(), start=1):
        ws.cell(row=1, column=col, value=next(f.label for f in BLOCK if f.key == key))
        for row, value in enumerate(values, start=2):
            xlsx_safe.put(ws, row, col, value)
        if values:
            letter = get_column_letter(col)
            ranges[key] = f"'选项'!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def dispatch_template(brands: Sequence[Mapping[str, Any]], *, organizer_id: str | None = None,
                      origin_region: str | None = None) -> bytes:
    """``GET /v1/templates/dispatch.xlsx``: 派遣名单 (title, 派遣信息 label/value rows with dropdowns, then the
    身份证号/姓名 table with an example row), 说明, hidden 选项."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "派遣名单"
    ws["A1"] = (f"{DISPATCH.title}　红色项目为必填；派遣信息填在B列；人员名单从第{DISPATCH_TABLE_ROW + 2}行起每行一人"
                f"（第{DISPATCH_TABLE_ROW + 1}行是示例，导入时自动跳过）；填写要求见“说明”工作表")
    ws["A1"].font = Font(bold=True, size=12)
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="center")
    ws.merge_cells("A1:C1")
    ws.row_dimensions[1].height = 48
    ranges = _dispatch_options(wb, brands)
    prefilled = {"organizer_id": organizer_id, "origin_region": origin_region}
    for row, f in enumerate(BLOCK, start=2):
        label = ws.cell(row=row, column=1, value=f.label)
        label.font = _REQUIRED if f.required else _BOLD
        label.fill = _HEADER_FILL
        value = xlsx_safe.put(ws, row, 2, prefilled.get(f.key))
        value.number_format = "yyyy-mm-dd" if f.key == "departure_date" else "@"
        formula = ranges.get(f.key)
        dv = DataValidation(type="list" if formula else None, formula1=formula, allow_blank=True,
                            showErrorMessage=f.key in ("mode", "group_transport"), showInputMessage=True,
                            promptTitle=f.label, prompt=f.note[:255], errorTitle=f.label, error="请从下拉列表中选择")
        dv.add(f"B{row}")
        ws.add_data_validation(dv)
    top = DISPATCH_TABLE_ROW
    for i, col in enumerate(DISPATCH.columns, start=1):
        head = ws.cell(row=top, column=i, value=col.label)
        head.font = _REQUIRED if col.required else _BOLD
        head.fill = _HEADER_FILL
        head.alignment = Alignment(horizontal="center", vertical="center")
        sample = xlsx_safe.put(ws, top + 1, i, col.example)
        sample.font = _EXAMPLE
        sample.number_format = "@"
    for letter, width in (("A", 24), ("B", 40), ("C", 30)):
        ws.column_dimensions[letter].width = width
    # Text so that Excel keeps 18-digit ID numbers as typed, not 4.60105E+17.
    ws.column_dimensions["A"].number_format = "@"
    ws.freeze_panes = f"A{top + 1}"
    _dispatch_notes(wb, brands)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _dispatch_notes(wb: Workbook, brands: Sequence[Mapping[str, Any]]) -> None:
    ws = wb.create_sheet("说明", 1)
    xlsx_safe.append(ws, ["项目", "是否必填", "填写说明", "示例"])
    for cell in ws[1]:
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
    for f in BLOCK:
        xlsx_safe.append(ws, [f.label, "必填" if f.required else "选填", f.note, f.example])
    for col in DISPATCH.columns:
        xlsx_safe.append(ws, [f"{col.label}（人员名单）", "必填" if col.required else "选填", col.note, col.example])
    last_field = ws.max_row
    xlsx_safe.append(ws, [])
    lines = (
        "导入说明",
        "1. 一张表是一次派遣：上方“派遣信息”填写本次输出的组织单位、品牌、输出方式、输出地、输入地、用人单位、出发日期等；"
        "下方名单每行一人，只需身份证号（姓名仅用于核对）。",
        "2. 派遣信息有误时整张表不派遣，导入结果中会列出每一处错误；改正后重新上传即可。",
        "3. 名单逐行校验：身份证号须有效、须已在实名台账中登记、不能已在岗或已派出、同一人不能出现两次；"
        "未通过的行不派遣，可下载“错误报告”查看原因，其余人员照常派遣。",
        "4. 同一文件重复上传不会重复派遣；派遣编号不填时由平台按文件生成。",
        "5. 用人单位凭“用人单位编号”在平台确认入职，请填写用人单位在平台的编号。",
        "6. 也可上传 CSV 文件（UTF-8 或 GBK 编码），格式与本表相同。",
    )
    for line in lines:
        xlsx_safe.append(ws, [line])
    ws.cell(row=ws.max_row - len(lines) + 1, column=1).font = _BOLD
    xlsx_safe.append(ws, [])
    xlsx_safe.append(ws, ["输出方式", "接口代码"])
    for code, label in MODES.items():
        xlsx_safe.append(ws, [label, code])
    xlsx_safe.append(ws, [])
    xlsx_safe.append(ws, ["可选品牌", "品牌编号", "所在地区", "状态"])
    for b in brands:
        xlsx_safe.append(ws, [b["name"], b["brand_id"], f"{b['region_code']} {region_name(b['region_code']) or ''}".strip(),
                   BRAND_STATUS_ZH.get(b["status"], b["status"])])
    if not brands:
        xlsx_safe.append(ws, ["（暂无可选品牌：品牌登记并生效后才会出现在下拉列表中）"])
    for letter, width in zip("ABCD", (20, 22, 90, 36), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2, max_row=last_field):
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
            ws.append(header)  # our own labels
            self._sheets[title] = ws
        return ws

    def add(self, sheet: str, reason_title: str, row_number: int, values: Iterable[str], reason: str) -> None:
        ws = self._sheet(sheet, reason_title)
        cells: list[Any] = [row_number]
        for v in values:
            cell = xlsx_safe.text_cell(ws, v or None)  # as uploaded: a clerk's bad input must not break the report
            cell.number_format = "@"
            cells.append(cell)
        cells.append(reason)
        xlsx_safe.append(ws, cells)

    def save(self, path: Path) -> None:
        self.wb.save(path)
