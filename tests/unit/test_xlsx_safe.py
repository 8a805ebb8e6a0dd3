"""laowu.xlsx_safe: whatever a stored value holds, the workbook is written and shows it as text."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from laowu import xlsx_safe


@pytest.mark.parametrize("write_only", [True, False])
def test_formula_leads_are_text_and_illegal_characters_are_replaced(write_only: bool) -> None:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("a") if write_only else wb.active
    values = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(1)", "\tx", "\rx", "ok\x01bad", "普通", 5, 1.5, None]
    xlsx_safe.append(ws, values)
    if not write_only:
        xlsx_safe.put(ws, 2, 1, "=1+1\x02")
    buf = io.BytesIO()
    wb.save(buf)
    sheet = load_workbook(io.BytesIO(buf.getvalue())).worksheets[-1]
    cells = list(sheet[1])
    # XML reads a stored CR back as LF; it is still a text cell, never a formula.
    assert [c.value for c in cells[:8]] == ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(1)", "\tx", "\nx", "ok\ufffdbad", "普通"]
    assert all(c.data_type == "s" for c in cells[:8])
    assert all(c.quotePrefix for c in cells[:6]) and not cells[7].quotePrefix
    assert (cells[8].value, cells[8].data_type, cells[9].value) == (5, "n", 1.5)
    if not write_only:
        assert (sheet["A2"].value, sheet["A2"].data_type, sheet["A2"].quotePrefix) == ("=1+1\ufffd", "s", True)
