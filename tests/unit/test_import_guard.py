"""Hostile spreadsheets are refused by the parse child with a Chinese reason, within its bounds."""

from __future__ import annotations

import asyncio
import io
import itertools
import shutil
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from laowu.imports.guard import Limits, parse_isolated
from laowu.imports.source import UnsupportedFile

GAP_ROW = ('<row r="1000000000000000000"><c r="A1000000000000000000" t="inlineStr"><is><t>x</t></is></c></row>'
           '</sheetData>')


def workbook(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rewrite(data: bytes, edit: dict[str, object]) -> bytes:
    """The same zip with some members replaced (a callable gets the old text) or added."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        for name in names:
            body: object = src.read(name)
            change = edit.get(name)
            if callable(change):
                body = change(src.read(name).decode())
            elif change is not None:
                body = change
            dst.writestr(name, body if isinstance(body, bytes) else str(body).encode())
        for name, body in edit.items():
            if name not in names:
                dst.writestr(name, body if isinstance(body, bytes) else str(body).encode())
    return out.getvalue()


def row_gap_xlsx() -> bytes:
    return rewrite(workbook([["身份证号", "姓名"], ["1", "张三"]]),
                   {"xl/worksheets/sheet1.xml": lambda xml: xml.replace("</sheetData>", GAP_ROW)})


async def parse(tmp_path: Path, data: bytes, name: str, limits: Limits) -> list[list[tuple[object, ...]]]:
    path = tmp_path / name
    path.write_bytes(data)
    out, sheets = await parse_isolated(path, name, limits)
    try:
        return [list(s.rows) for s in sheets]
    finally:
        shutil.rmtree(out)


async def refused(tmp_path: Path, data: bytes, name: str, limits: Limits) -> str:
    with pytest.raises(UnsupportedFile) as info:
        await parse(tmp_path, data, name, limits)
    return info.value.message_zh


async def test_normal_files_parse(tmp_path: Path) -> None:
    rows = await parse(tmp_path, workbook([["身份证号", "姓名"], ["1", "张三"]]), "a.xlsx", Limits())
    assert rows == [[("身份证号", "姓名"), ("1", "张三")]]
    rows = await parse(tmp_path, "身份证号,姓名\r\n1,张三\r\n,\r\n".encode(), "a.csv", Limits())
    assert rows == [[("身份证号", "姓名"), ("1", "张三"), ("", "")]]  # repeated values survive the pipe


async def test_row_gap_fails_fast_and_loop_stays_free(tmp_path: Path) -> None:
    ticks: list[float] = []

    async def beat() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(beat())
    started = time.monotonic()
    try:
        reason = await refused(tmp_path, row_gap_xlsx(), "gap.xlsx", Limits(max_rows=50_000))
    finally:
        ticker.cancel()
    assert "行数超过上限" in reason
    assert time.monotonic() - started < 30
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.1  # the event loop never stalled


async def test_timeout_kills_the_child(tmp_path: Path) -> None:
    started = time.monotonic()
    reason = await refused(tmp_path, row_gap_xlsx(), "gap.xlsx", Limits(max_rows=10**15, timeout_s=3))
    assert "解析超时" in reason
    assert time.monotonic() - started < 10


async def test_shared_strings_bomb(tmp_path: Path) -> None:
    strings = "".join(f"<si><t>{'字' * 50}</t></si>" for _ in range(2000))
    sst = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
           f'2006/main" count="2000" uniqueCount="2000">{strings}</sst>')
    data = rewrite(workbook([["a"]]), {"xl/sharedStrings.xml": sst})
    reason = await refused(tmp_path, data, "sst.xlsx", Limits(max_shared_strings=1000, max_ratio=10_000))
    assert "共享文本过多" in reason
    # the same file is also past a compression ratio bound, read from the members' actual bytes
    reason = await refused(tmp_path, data, "sst.xlsx", Limits(max_ratio=20))
    assert "解压后过大" in reason


async def test_declared_sizes_are_not_trusted(tmp_path: Path) -> None:
    data = bytearray(rewrite(workbook([["a"]]), {"xl/padding.bin": b"\0" * 2_000_000}))
    # lie in the local and central headers: declared uncompressed size 1 byte
    blob = bytes(data)
    i = blob.find(b"xl/padding.bin")
    while i != -1:
        header = blob.rfind(b"PK\x01\x02", 0, i)
        if header != -1 and i - header == 46:
            data[header + 24:header + 28] = (1).to_bytes(4, "little")
        i = blob.find(b"xl/padding.bin", i + 1)
    reason = await refused(tmp_path, bytes(data), "lie.xlsx", Limits(max_uncompressed_bytes=1_000_000,
                                                                       max_ratio=10**9))
    assert "解压后过大" in reason or "损坏" in reason


async def test_csv_line_too_long(tmp_path: Path) -> None:
    data = "身份证号,姓名\n".encode() + b"x" * 200_000 + b"\n"
    reason = await refused(tmp_path, data, "long.csv", Limits(max_line_chars=10_000))
    assert "过长" in reason


async def test_too_many_rows_columns_and_long_cells(tmp_path: Path) -> None:
    many = workbook([[str(i)] for i in range(60)])
    assert "行数超过上限" in await refused(tmp_path, many, "rows.xlsx", Limits(max_rows=50))
    wide = workbook([list(range(20))])
    assert "列数超过上限" in await refused(tmp_path, wide, "cols.xlsx", Limits(max_columns=10))
    wide_csv = ",".join(["a"] * 20).encode()
    assert "列数超过上限" in await refused(tmp_path, wide_csv, "cols.csv", Limits(max_columns=10))
    long_cell = workbook([["x" * 2000]])
    assert "内容过长" in await refused(tmp_path, long_cell, "cell.xlsx", Limits(max_cell_chars=1000))
