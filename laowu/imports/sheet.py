"""What a sheet kind is (columns, header aliases) and how its header row is found in a clerk's file.

Real files put a title row or two above the header ("XX镇劳务人员登记表", merged across the sheet),
split the header over two rows with merged cells ("基本信息" over 性别 / 出生日期, 身份证号 merged
vertically), and decorate names: "性别（男/女）", "* 身份证号", "出生日期\n(1990-03-07)". The header
row is the first of the first ``scan_rows`` rows that names every required column once normalised.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from laowu.imports import cells

_DECORATION = re.compile(r"\([^)]*\)|\[[^]]*\]|【[^】]*】|〔[^〕]*〕|[*＊※:：]|必填|选填|可选")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    """The header the template writes; also what the error report calls the column."""
    aliases: tuple[str, ...] = ()
    required: bool = False
    note: str = ""
    example: Any = None
    text_format: bool = False
    width: int = 14


@dataclass(frozen=True)
class SheetKind:
    """A kind of import sheet: ``workers`` (实名登记表) or ``dispatch`` (派遣名单)."""

    name: str
    title: str
    columns: tuple[Column, ...]
    scan_rows: int = 20
    merged_headers: bool = True
    """Header cells left empty take the label above them (a header merged over two rows). Off for sheets whose
    rows above the header are label/value pairs rather than the first half of the header."""

    def aliases(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for col in self.columns:
            for alias in (col.label, col.key, *col.aliases):
                out.setdefault(header_key(alias), col.key)
        return out

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def label(self, key: str) -> str:
        return next((c.label for c in self.columns if c.key == key), key)


def header_key(raw: Any) -> str:
    """``性别（男/女）`` → ``性别``; ``* 身份证号 `` → ``身份证号``; ``ID_Number`` → ``id_number``."""
    value = cells.text(raw)
    if value is None:
        return ""
    value = "".join(value.split())
    return _DECORATION.sub("", value).lower()


@dataclass
class Header:
    row_number: int
    """Of the last header row; data starts below it."""
    labels: list[str]
    """Effective label of every source column ("" where there is none)."""
    keys: dict[int, str]
    """Source column index → the kind's column key (first occurrence wins)."""
    sheet: str = ""
    report: list[int] = field(default_factory=list)
    """Source column indexes shown in the error report: every labelled column, in order."""
    preamble: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    """The rows above the header row, numbered as in the sheet (at most ``scan_rows``): a title, or a block of
    label/value rows describing the whole sheet (the dispatch list's 派遣信息)."""

    def __post_init__(self) -> None:
        if not self.report:
            self.report = [i for i, label in enumerate(self.labels) if label]

    @property
    def report_labels(self) -> list[str]:
        return [self.labels[i] for i in self.report]


class HeaderNotFound(ValueError):
    def __init__(self, kind: SheetKind, missing: list[str]) -> None:
        wanted = "、".join(c.label for c in kind.required)
        self.message_zh = (f"未找到表头：前{kind.scan_rows}行中没有一行同时包含 {wanted} 这些列"
                           + (f"（最接近的一行缺少：{'、'.join(missing)}）" if missing else ""))
        super().__init__(f"no header row naming every required column in the first {kind.scan_rows} rows")


def _labels(row: tuple[Any, ...], above: tuple[Any, ...] | None) -> list[str]:
    """Labels of a header candidate; an empty cell takes the label of the cell above (vertical merge)."""
    out: list[str] = []
    width = max(len(row), len(above or ()))
    for i in range(width):
        label = cells.text(row[i]) if i < len(row) else None
        if label is None and above is not None and i < len(above):
            label = cells.text(above[i])
        out.append(label or "")
    return out


def _match(kind: SheetKind, aliases: dict[str, str], labels: list[str]) -> dict[int, str]:
    keys: dict[int, str] = {}
    taken: set[str] = set()
    for i, label in enumerate(labels):
        key = aliases.get(header_key(label))
        if key is not None and key not in taken:
            keys[i] = key
            taken.add(key)
    return keys


def _is_subheader(kind: SheetKind, aliases: dict[str, str], keys: dict[int, str], row: tuple[Any, ...]) -> bool:
    """A second header row below the one found: required columns empty (merged down), some new name below."""
    required = {c.key for c in kind.required}
    for i, key in keys.items():
        if key in required and i < len(row) and not cells.is_blank(row[i]):
            return False
    found = set(keys.values())
    return any(aliases.get(header_key(cell)) not in (None, *found) for cell in row)


NumberedRows = Iterator[tuple[int, tuple[Any, ...]]]


def find_header(kind: SheetKind, rows: Iterator[tuple[Any, ...]], sheet: str = "") -> tuple[Header, NumberedRows]:
    """The header and the data rows below it, numbered as in the sheet; raises ``HeaderNotFound``."""
    aliases = kind.aliases()
    required = [c.key for c in kind.required]
    best: list[str] = [c.label for c in kind.required]
    above: tuple[Any, ...] | None = None
    preamble: list[tuple[int, tuple[Any, ...]]] = []
    for number, row in enumerate(itertools.islice(rows, kind.scan_rows), start=1):
        labels = _labels(row, above)
        keys = _match(kind, aliases, labels)
        missing = [kind.label(k) for k in required if k not in keys.values()]
        if not missing:
            following = next(rows, None)
            rest: Iterable[tuple[Any, ...]] = rows
            if following is not None and _is_subheader(kind, aliases, keys, following):
                labels = [cells.text(following[i]) or (labels[i] if i < len(labels) else "")
                          for i in range(max(len(labels), len(following)))]
                keys = _match(kind, aliases, labels)
                number += 1
            elif following is not None:
                rest = itertools.chain([following], rows)
            header = Header(row_number=number, labels=labels, keys=keys, sheet=sheet, preamble=preamble)
            return header, enumerate(rest, start=number + 1)
        if len(missing) < len(best):
            best = missing
        if kind.merged_headers and any(not cells.is_blank(c) for c in row):
            above = row
        preamble.append((number, row))
    raise HeaderNotFound(kind, best)


@dataclass
class Row:
    """One data row: the kind's cells by key (raw) and every labelled cell as shown (for the report)."""

    number: int
    cells: dict[str, Any]
    values: list[str]
    epoch: dt.datetime


def make_row(header: Header, number: int, raw: tuple[Any, ...], epoch: dt.datetime) -> Row | None:
    """``None`` for a blank row (nothing in any of the kind's columns)."""
    by_key = {key: raw[i] for i, key in header.keys.items() if i < len(raw)}
    if all(cells.is_blank(v) for v in by_key.values()):
        return None
    values = [cells.display(raw[i]) if i < len(raw) else "" for i in header.report]
    return Row(number=number, cells=by_key, values=values, epoch=epoch)
