"""Parse an untrusted upload in a child process that can be killed (解析隔离).

openpyxl walks a ``<row r="1000000000000000000">`` gap row by row, a shared-strings bomb inflates a small zip
into gigabytes and a CSV line without a newline becomes one giant row; none of that can be cancelled in a
thread of the API. So the file is parsed by ``python -m laowu.imports.guard`` under ``RLIMIT_AS`` and a wall
clock: it checks the zip before opening it, bounds rows, columns, cells and lines while streaming, and writes
each visible sheet's rows to a file of ours (pickled primitives) that the import then reads row by row.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import pickle
import resource
import shutil
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

from laowu.imports.source import Sheet, UnsupportedFile
from laowu.settings import Settings, get_settings

_READ = 1 << 16


@dataclass(frozen=True)
class Limits:
    """Bounds of one upload; from ``LAOWU_IMPORT_*`` settings."""

    max_rows: int = 200_000
    max_columns: int = 64
    max_cell_chars: int = 32 * 1024
    max_uncompressed_bytes: int = 500 << 20
    max_ratio: float = 100.0
    max_shared_strings: int = 1_000_000
    max_shared_strings_bytes: int = 100 << 20
    max_line_chars: int = 1 << 20
    timeout_s: float = 120.0
    memory_bytes: int = 2 << 30

    @classmethod
    def from_settings(cls, s: Settings | None = None) -> Limits:
        s = s or get_settings()
        return cls(max_rows=s.import_max_rows, max_columns=s.import_max_columns,
                   max_cell_chars=s.import_max_cell_chars, max_uncompressed_bytes=s.import_max_uncompressed_bytes,
                   max_ratio=s.import_max_ratio, max_shared_strings=s.import_max_shared_strings,
                   max_shared_strings_bytes=s.import_max_shared_strings_bytes,
                   max_line_chars=s.import_max_line_chars, timeout_s=s.import_timeout_s,
                   memory_bytes=s.import_memory_mib << 20)


class TooLarge(UnsupportedFile):
    """A bound was passed; the import fails with ``message_zh``."""


# --- child side ---------------------------------------------------------------------------------------------

def check_zip(path: Path, limits: Limits) -> None:
    """Declared and actual sizes (members are read through, never trusted by header), ratio, shared strings."""
    compressed = max(path.stat().st_size, 1)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return  # openpyxl reports the broken file in its own words
    with zf:
        infos = zf.infolist()
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_uncompressed_bytes or declared / compressed > limits.max_ratio:
            raise _too_big(declared, compressed, limits)
        total = 0
        try:
            for info in infos:
                with zf.open(info) as member:
                    while chunk := member.read(_READ):
                        total += len(chunk)
                        if total > limits.max_uncompressed_bytes or total / compressed > limits.max_ratio:
                            raise _too_big(total, compressed, limits)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            # a member whose bytes disagree with its header (size, CRC) is a lie or damage; either way refused
            raise UnsupportedFile("文件不是有效的 .xlsx 文件（可能已损坏），请重新保存后上传",
                                  f"zip member unreadable: {exc}") from None
        names = {i.filename.lower(): i for i in infos}
        shared = names.get("xl/sharedstrings.xml")
        if shared is not None:
            _check_shared(zf, shared, limits)


def _too_big(size: int, compressed: int, limits: Limits) -> TooLarge:
    return TooLarge(f"文件解压后过大（解压后超过{limits.max_uncompressed_bytes // (1 << 20)} MB或压缩比超过"
                    f"{limits.max_ratio:g}倍），可能不是正常的登记表，请检查后重新保存上传",
                    f"uncompressed size {size} for {compressed} compressed bytes passes the bound")


def _check_shared(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    from xml.etree.ElementTree import iterparse
    if info.file_size > limits.max_shared_strings_bytes:
        raise _shared_error(limits)
    count = 0
    with zf.open(info) as fh:
        for _, elem in iterparse(fh, events=("end",)):
            if elem.tag.endswith("}si") or elem.tag == "si":
                count += 1
                if count > limits.max_shared_strings:
                    raise _shared_error(limits)
                elem.clear()


def _shared_error(limits: Limits) -> TooLarge:
    return TooLarge(f"文件中的共享文本过多（超过{limits.max_shared_strings}条或"
                    f"{limits.max_shared_strings_bytes // (1 << 20)} MB），请检查文件后重新保存上传",
                    "shared strings pass the bound")


def _bounded_rows(rows: Iterator[tuple[Any, ...]], limits: Limits) -> Iterator[tuple[Any, ...]]:
    for number, row in enumerate(rows, start=1):
        if number > limits.max_rows:
            raise TooLarge(f"行数超过上限：每个工作表最多{limits.max_rows}行（第{number}行超出；"
                           "可能有远在数据之后的空行或格式，请删除多余行后重新上传）",
                           f"more than {limits.max_rows} rows")
        while row and row[-1] is None:
            row = row[:-1]
        if len(row) > limits.max_columns:
            raise TooLarge(f"第{number}行列数超过上限：最多{limits.max_columns}列",
                           f"row {number} has more than {limits.max_columns} columns")
        for value in row:
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                raise TooLarge(f"第{number}行有单元格内容过长：每格最多{limits.max_cell_chars}个字符",
                               f"row {number} has a cell longer than {limits.max_cell_chars}")
        yield row


def _lines(fh: io.TextIOBase, limits: Limits) -> Iterator[str]:
    number = 0
    while line := fh.readline(limits.max_line_chars + 1):
        number += 1
        if len(line) > limits.max_line_chars:
            raise TooLarge(f"第{number}行过长：CSV每行最多{limits.max_line_chars}个字符，请检查文件是否为正常的CSV",
                           f"CSV line {number} longer than {limits.max_line_chars}")
        yield line


def _csv_rows(path: Path, encoding: str, limits: Limits) -> Iterator[tuple[Any, ...]]:
    csv.field_size_limit(limits.max_cell_chars)
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(_READ)
        fh.seek(0)
        from laowu.imports.source import _delimiter
        try:
            for row in csv.reader(_lines(fh, limits), delimiter=_delimiter(sample)):
                yield tuple(row)
        except csv.Error as exc:
            raise TooLarge(f"CSV单元格内容过长或格式错误：每格最多{limits.max_cell_chars}个字符",
                           f"CSV error: {exc}") from None


def parse(path: Path, filename: str | None, out: Path, limits: Limits) -> None:
    """Child: write ``meta.json`` (sheet names, 1904 epoch) and ``<n>.rows`` per visible sheet."""
    from laowu.imports.source import csv_encoding, detect_format, open_sheets
    with path.open("rb") as fh:
        head = fh.read(8)
    kind = detect_format(head, filename or path.name)
    if kind == "xlsx":
        check_zip(path, limits)
        ctx = open_sheets(path, filename)
    else:
        ctx = _csv_sheet(path, filename, csv_encoding(path), limits)
    meta = []
    with ctx as sheets:
        for n, sheet in enumerate(sheets):
            with (out / f"{n}.rows").open("wb") as fh:
                pickler = pickle.Pickler(fh, protocol=pickle.HIGHEST_PROTOCOL)
                for row in _bounded_rows(sheet.rows, limits):
                    pickler.dump(row)
                    pickler.clear_memo()
            meta.append({"name": sheet.name, "mac_1904": sheet.epoch == CALENDAR_MAC_1904})
    (out / "meta.json").write_text(json.dumps(meta))


@contextmanager
def _csv_sheet(path: Path, filename: str | None, encoding: str, limits: Limits) -> Iterator[list[Sheet]]:
    yield [Sheet(name=Path(filename or path.name).stem, rows=_csv_rows(path, encoding, limits))]


def _child_main(argv: list[str]) -> int:
    path, filename, out, raw = argv
    limits = Limits(**json.loads(raw))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    error = Path(out) / "error.json"
    try:
        parse(Path(path), filename or None, Path(out), limits)
    except UnsupportedFile as exc:
        error.write_text(json.dumps({"zh": exc.message_zh, "en": exc.message}))
        return 2
    except MemoryError:
        error.write_text(json.dumps({"zh": _MEMORY_ZH, "en": "the parse ran out of memory"}))
        return 2
    return 0


_MEMORY_ZH = "文件过大或过于复杂，解析时超出内存上限，请拆分文件后重新上传"


# --- parent side --------------------------------------------------------------------------------------------

class _Rows(pickle.Unpickler):
    """Only what a cell can hold: the child is ours, but the bytes came from parsing a stranger's file."""

    _ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"), ("datetime", "timedelta"),
        ("datetime", "timezone")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cell value")


def _read_rows(path: Path) -> Iterator[tuple[Any, ...]]:
    with path.open("rb") as fh:
        while True:
            try:
                # a fresh reader per row: the writer clears its memo after every row, so indexes restart at 0
                yield _Rows(fh).load()
            except EOFError:
                return


async def parse_isolated(path: Path, filename: str | None, limits: Limits | None = None) -> tuple[Path, list[Sheet]]:
    """The sheets of the file, parsed in a killable child; the caller removes the returned directory."""
    limits = limits or Limits.from_settings()
    out = Path(tempfile.mkdtemp(prefix="laowu-parse-"))
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "laowu.imports.guard", str(path), filename or "", str(out),
            json.dumps(asdict(limits)), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=limits.timeout_s)
        except (TimeoutError, asyncio.CancelledError) as exc:
            proc.kill()
            await proc.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise TooLarge(f"文件解析超时（超过{limits.timeout_s:g}秒），文件可能过大或含有大量空行/格式，"
                           "请删除多余内容或拆分后重新上传", f"parse took longer than {limits.timeout_s} s") from None
        error = out / "error.json"
        if error.exists():
            msg = json.loads(error.read_text())
            raise TooLarge(msg["zh"], msg["en"])
        if proc.returncode != 0:
            tail = stderr.decode(errors="replace")[-300:]
            if "MemoryError" in tail or (proc.returncode or 0) < 0:
                raise TooLarge(_MEMORY_ZH, f"parser exited with {proc.returncode}")
            raise UnsupportedFile("文件不是有效的 .xlsx 文件（可能已损坏），请重新保存后上传",
                                  f"parser exited with {proc.returncode}: {tail}")
        meta = json.loads((out / "meta.json").read_text())
        sheets = [Sheet(name=m["name"], rows=_read_rows(out / f"{n}.rows"),
                        epoch=CALENDAR_MAC_1904 if m["mac_1904"] else CALENDAR_WINDOWS_1900)
                  for n, m in enumerate(meta)]
        return out, sheets
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
