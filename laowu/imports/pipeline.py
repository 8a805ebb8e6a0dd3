"""The streaming import loop, the same for every sheet kind.

file → sheets → header → rows in chunks of ``CHUNK_ROWS`` → rows with unclean text refused → ``RowProcessor.process``
(validate, build envelopes) → ``Sink.publish`` (valid rows) → ``Sink.record`` (issues + progress). At most one chunk of rows
is in memory; parsing runs in a child process (``guard``) that is killed past its bounds, so a hostile file
cannot hang or exhaust the API.

Event ids are deterministic (``row_event_id``): the same file uploaded again by the same workstation
yields the same event ids, and the consumer keeps one event per id, so nobody is registered twice —
even when an import is retried after a crash half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from laowu import metrics
from laowu.domain import ids
from laowu.imports import cells
from laowu.imports.guard import Limits, parse_isolated
from laowu.imports.sheet import Header, HeaderNotFound, Row, SheetKind, find_header, make_row
from laowu.imports.source import Sheet
from schemas.envelope import Envelope

CHUNK_ROWS = 500


def row_event_id(kind: str, workstation_id: str, file_sha256: str, row_number: int, part: str = "") -> uuid.UUID:
    """``uuid5(namespace, kind + workstation + sha256(file) + row [+ part])``.

    The workstation is part of the name so that two workstations importing the same file each get their
    registration recorded (the ledger merges them into one person); ``part`` names a second event from one
    row (a certificate).
    """
    name = f"{kind}\n{workstation_id}\n{file_sha256}\n{row_number}" + (f"\n{part}" if part else "")
    return uuid.uuid5(ids.IMPORT_ROWS, name)


@dataclass(frozen=True)
class Issue:
    field: str
    rule: str
    message_zh: str
    message: str


@dataclass
class Outcome:
    row: Row
    envelopes: list[Envelope] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors

    @property
    def reason_zh(self) -> str:
        return "；".join(dict.fromkeys(i.message_zh for i in self.errors))

    @property
    def reason(self) -> str:
        return "; ".join(dict.fromkeys(f"{i.field}: {i.message}" for i in self.errors))

    @property
    def warning_zh(self) -> str:
        return "；".join(dict.fromkeys(i.message_zh for i in self.warnings))

    @property
    def warning(self) -> str:
        return "; ".join(dict.fromkeys(f"{i.field}: {i.message}" for i in self.warnings))


@dataclass
class Totals:
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    warnings: int = 0

    def add(self, outcomes: list[Outcome]) -> None:
        for o in outcomes:
            self.rows += 1
            self.accepted += o.accepted
            self.rejected += not o.accepted
            self.warnings += bool(o.warnings)


class RowProcessor(Protocol):
    """Kind-specific: turn a chunk of rows into outcomes (envelopes for the valid ones, issues for the rest).

    ``start`` sees the header (and the rows above it) before any data row; raising ``SheetRefused`` there
    ends the import as failed. ``end`` returns envelopes that stand for the sheet as a whole (the dispatch
    list's one ``dispatch.created``), published after the last chunk.
    """

    kind: SheetKind

    async def start(self, header: Header, epoch: dt.datetime) -> None: ...

    def skip(self, row: Row) -> bool:
        """Rows to pass over silently (the template's example row)."""
        ...

    async def process(self, rows: list[Row]) -> list[Outcome]: ...

    async def end(self) -> list[Envelope]: ...


class SheetRefused(ValueError):
    """The sheet as a whole cannot be imported (e.g. the dispatch list's 派遣信息 is wrong); nothing is published."""

    def __init__(self, message_zh: str, message: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh
        self.message = message


class Sink(Protocol):
    async def begin(self, header: Header) -> None: ...

    async def publish(self, envelopes: list[Envelope]) -> None: ...

    async def record(self, outcomes: list[Outcome], totals: Totals) -> None: ...


def refuse_unclean(kind: SheetKind, row: Row) -> Outcome | None:
    """A row with a cell that is not clean text is refused as a whole, before the kind's processor reads it.

    What a cell holds reaches PostgreSQL in look-ups (a brand named in the row) and in the stored Chinese reasons that
    quote it; U+0000 there failed the whole import. One check here covers every sheet kind and every column.
    """
    labels = {c.key: c.label for c in kind.columns}
    issues = [Issue(key, "string_unclean", cells.unclean_message(labels.get(key, key), char),
                    f"{key} holds {char}, a character that is not clean text")
              for key, value in row.cells.items() if (char := cells.unclean(value)) is not None]
    return Outcome(row=row, errors=issues) if issues else None


async def _process(processor: RowProcessor, chunk: list[Row]) -> list[Outcome]:
    refused = [o for o in (refuse_unclean(processor.kind, r) for r in chunk) if o is not None]
    if not refused:
        return await processor.process(chunk)
    numbers = {o.row.number for o in refused}
    rest = [r for r in chunk if r.number not in numbers]
    outcomes = refused + (await processor.process(rest) if rest else [])
    return sorted(outcomes, key=lambda o: o.row.number)


def locate(kind: SheetKind, sheets: list[Sheet]) -> tuple[Sheet, Header, Iterator[tuple[int, tuple[Any, ...]]]]:
    """The first visible sheet with a header row (the template's 说明 sheet has none)."""
    first: HeaderNotFound | None = None
    for sheet in sheets:
        try:
            header, rows = find_header(kind, sheet.rows, sheet.name)
        except HeaderNotFound as exc:
            first = first or exc
            continue
        return sheet, header, rows
    raise first or HeaderNotFound(kind, [c.label for c in kind.required])


def _take(processor: RowProcessor, sheet: Sheet, header: Header,
          rows: Iterator[tuple[int, tuple[Any, ...]]], size: int) -> list[Row]:
    chunk: list[Row] = []
    for number, raw in rows:
        row = make_row(header, number, raw, sheet.epoch)
        if row is None or processor.skip(row):
            continue
        chunk.append(row)
        if len(chunk) >= size:
            break
    return chunk


async def run_import(path: Path, filename: str | None, processor: RowProcessor, sink: Sink,
                     chunk_rows: int = CHUNK_ROWS, limits: Limits | None = None) -> Totals:
    """Stream the file through ``processor`` into ``sink``; raises ``UnsupportedFile`` / ``HeaderNotFound`` /
    ``SheetRefused``."""
    totals = Totals()
    with contextlib.ExitStack() as stack:
        # Parsed in a killable child under bounds; only its already-checked rows are read here.
        parsed, sheets = await parse_isolated(path, filename, limits)
        stack.callback(shutil.rmtree, parsed, True)
        sheet, header, rows = await asyncio.to_thread(locate, processor.kind, sheets)
        await sink.begin(header)
        await processor.start(header, sheet.epoch)
        while chunk := await asyncio.to_thread(_take, processor, sheet, header, rows, chunk_rows):
            outcomes = await _process(processor, chunk)
            envelopes = [e for o in outcomes if o.accepted for e in o.envelopes]
            if envelopes:
                await sink.publish(envelopes)
            totals.add(outcomes)
            await sink.record(outcomes, totals)
            accepted = sum(o.accepted for o in outcomes)
            metrics.IMPORT_ROWS.labels("accepted").inc(accepted)
            metrics.IMPORT_ROWS.labels("refused").inc(len(outcomes) - accepted)
    if whole := await processor.end():
        await sink.publish(whole)
    return totals
