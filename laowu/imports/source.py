"""A file on disk → sheets of raw rows, streamed: nothing here holds more than one row at a time.

``.xlsx`` is read with openpyxl ``read_only=True`` (rows parsed from the zipped XML as they are
iterated); CSV with the ``csv`` module after a streaming pass that decides the encoding: UTF-8 (with or
without BOM) when the whole file decodes as such, else GBK (read as GB 18030, its superset), or UTF-16
when it starts with a UTF-16 BOM (Excel's "Unicode text" export).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from openpyxl import load_workbook
from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900

Format = Literal["xlsx", "csv"]
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (BIFF) and other OLE compound files
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CHUNK = 1 << 16


class UnsupportedFile(ValueError):
    """The upload is not something we can read; ``message_zh`` tells the clerk what to do."""

    def __init__(self, message_zh: str, message: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh
        self.message = message


@dataclass
class Sheet:
    name: str
    rows: Iterator[tuple[Any, ...]]
    """Every row from row 1 on, gaps included as empty rows, so position + 1 is the row number."""
    epoch: dt.datetime = CALENDAR_WINDOWS_1900


def detect_format(head: bytes, filename: str | None) -> Format:
    """By content, not by name: a CSV renamed ``.xlsx`` or an ``.xlsx`` sent as ``upload.bin`` both work."""
    suffix = Path(filename or "").suffix.lower()
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE) or suffix == ".xls":
        raise UnsupportedFile("不支持旧版 .xls 格式，请在Excel中“另存为”.xlsx后再上传",
                              "legacy .xls is not supported; save the file as .xlsx")
    if suffix in (".xlsx", ".xlsm"):
        raise UnsupportedFile("文件不是有效的 .xlsx 文件（可能已损坏），请重新保存后上传", "not a valid .xlsx file")
    if not head:
        raise UnsupportedFile("文件为空", "the file is empty")
    if not head.startswith(_UTF16_BOMS) and b"\x00" in head:
        raise UnsupportedFile("无法识别的文件格式，请上传 .xlsx 或 .csv 文件", "unrecognised file; send .xlsx or .csv")
    return "csv"


def csv_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file is UTF-8 (BOM or not), ``utf-16`` with a UTF-16 BOM, else ``gb18030``."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(_UTF16_BOMS):
            return "utf-16"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        try:
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        return ","


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[Any, ...]]:
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(_CHUNK)
        fh.seek(0)
        for row in csv.reader(fh, delimiter=_delimiter(sample)):
            yield tuple(row)


@contextmanager
def open_sheets(path: Path, filename: str | None = None) -> Iterator[list[Sheet]]:
    """The visible sheets of the file, in workbook order (a CSV is one sheet); closed when the block ends."""
    with path.open("rb") as fh:
        head = fh.read(8)
    kind = detect_format(head, filename or path.name)
    if kind == "csv":
        yield [Sheet(name=Path(filename or path.name).stem, rows=_csv_rows(path, csv_encoding(path)))]
        return
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError for a missing part, XML errors…
        raise UnsupportedFile("文件不是有效的 .xlsx 文件（可能已损坏），请重新保存后上传",
                              f"cannot open the workbook: {exc}") from None
    try:
        sheets: list[Sheet] = []
        for ws in wb.worksheets:
            if getattr(ws, "sheet_state", "visible") != "visible":
                continue
            # The <dimension> element is often wrong or missing in files from other programs; read it all.
            ws.reset_dimensions()  # type: ignore[union-attr]
            sheets.append(Sheet(name=ws.title, rows=ws.iter_rows(min_row=1, values_only=True), epoch=wb.epoch))
        yield sheets
    finally:
        wb.close()
