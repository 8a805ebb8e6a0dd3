"""Cells of the workbooks we hand out (templates, exports, error reports): text stays text, whatever is stored.

One stored brand name with a control character once made the registration template answer 500 for every
workstation (openpyxl refuses such characters), and a value beginning with ``=`` becomes a live formula in the
clerk's spreadsheet. Every value a workbook of ours shows from data goes through :func:`value`; what it does:
- characters openpyxl cannot write (C0 controls) become U+FFFD, so the file is always written;
- text that a spreadsheet would read as a formula (``= + - @``, tab, CR first) is a text cell marked with Excel's
  quote prefix, never a formula; numbers, dates and booleans are left as they are.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def text(value: str) -> str:
    """``value`` with every character a workbook cannot hold replaced by U+FFFD."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)


def text_cell(ws: Any, value: str | None) -> Any:
    """A cell that is text whatever ``value`` starts with (the quote prefix tells Excel not to evaluate it)."""
    return _typed(WriteOnlyCell(ws, value=None if value is None else text(value)))


def _typed(cell: Any) -> Any:
    if isinstance(cell.value, str):
        cell.data_type = "s"  # openpyxl typed a leading "=" as a formula when the value was bound
        if cell.value.startswith(FORMULA_LEAD):
            cell.quotePrefix = True
    return cell


def value(ws: Any, v: Any) -> Any:
    """What to append for ``v``: strings through :func:`text_cell` when they need it, anything else unchanged."""
    if isinstance(v, str):
        cleaned = text(v)
        return text_cell(ws, cleaned) if cleaned.startswith(FORMULA_LEAD) else cleaned
    return v


def row(ws: Any, values: Any) -> list[Any]:
    """A row of :func:`value` s, for ``ws.append``."""
    return [value(ws, v) for v in values]


def append(ws: Any, values: Any) -> None:
    """``ws.append`` of a row of values that may come from stored data."""
    ws.append(row(ws, values))


def put(ws: Any, row_index: int, column: int, v: Any) -> Any:
    """``ws.cell(row, column, v)`` for a normal worksheet, under the same rules as :func:`value`."""
    cell = ws.cell(row=row_index, column=column)
    cell.value = text(v) if isinstance(v, str) else v
    return _typed(cell)
