"""Running an import against the real stores: issues and progress to PostgreSQL, valid rows to a publisher."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from laowu.imports.dispatch import DispatchRows
from laowu.imports.guard import Limits
from laowu.imports.pipeline import Outcome, RowProcessor, SheetRefused, Totals, row_event_id, run_import
from laowu.imports.sheet import Header, HeaderNotFound
from laowu.imports.source import UnsupportedFile
from laowu.imports.workers import Brand, WorkerRows
from laowu.intake import Intake
from laowu.privacy import FieldCipher
from laowu.store import imports as store
from schemas.common import Actor, scrub
from schemas.envelope import Envelope

log = logging.getLogger("laowu.imports")
Publish = Callable[[list[Envelope]], Awaitable[None]]
SEALED_FIELD = "import_errors.values"
NO_REPEAT = {"workers": "已登记的行不会重复登记", "dispatch": "已派遣的人员不会重复派遣"}


def interrupted(kind: str) -> str:
    """Why a running import of ``kind`` was failed when its process went away."""
    return f"导入中断（服务停止或重启）：请重新上传同一文件，{NO_REPEAT.get(kind, NO_REPEAT['workers'])}"


INTERRUPTED = interrupted("workers")


class PoolBrands:
    """``BrandDirectory`` over the ``brands`` table."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def find(self, keys: set[str]) -> list[Brand]:
        rows = await store.find_brands(self.pool, sorted(keys))
        return [Brand(r["brand_id"], r["name"], r["status"]) for r in rows]


def seal(cipher: FieldCipher, values: list[str]) -> str:
    return cipher.encrypt(json.dumps(values, ensure_ascii=False), SEALED_FIELD)


def unseal(cipher: FieldCipher, sealed: str) -> list[str]:
    values: list[str] = json.loads(cipher.decrypt(sealed, SEALED_FIELD))
    return values


class StoreSink:
    """``Sink``: rejected rows (and warnings) with their sealed values, and the totals, once per chunk."""

    def __init__(self, pool: asyncpg.Pool, import_id: uuid.UUID, cipher: FieldCipher, publish: Publish) -> None:
        self.pool, self.import_id, self.cipher, self._publish = pool, import_id, cipher, publish

    async def begin(self, header: Header) -> None:
        # Sheet name and column labels are shown, never interpreted: stored scrubbed, so a control character in an
        # unknown column's header cannot fail the import (schemas.common.scrub).
        await store.begin(self.pool, self.import_id, sheet=scrub(header.sheet), header_row=header.row_number,
                          columns=[scrub(label) for label in header.report_labels])

    async def publish(self, envelopes: list[Envelope]) -> None:
        await self._publish(envelopes)

    async def record(self, outcomes: list[Outcome], totals: Totals) -> None:
        issues: list[store.IssueRow] = []
        for o in outcomes:
            if o.errors:
                issues.append(store.IssueRow(o.row.number, "error", seal(self.cipher, o.row.values), o.reason_zh, o.reason))
            elif o.warnings:
                issues.append(store.IssueRow(o.row.number, "warning", seal(self.cipher, o.row.values),
                                             o.warning_zh, o.warning))
        await store.record(self.pool, self.import_id, issues, rows=totals.rows, accepted=totals.accepted,
                           rejected=totals.rejected, warnings=totals.warnings)


class PoolWorkers:
    """``WorkerDirectory`` over the ledger tables, as the sender sees them."""

    def __init__(self, pool: asyncpg.Pool, actor: Actor) -> None:
        self.pool, self.actor = pool, actor

    async def states(self, worker_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        return await store.worker_states(self.pool, worker_ids, self.actor)

    async def dispatch_taken(self, dispatch_id: str, event_id: uuid.UUID) -> bool:
        return await store.dispatch_taken(self.pool, dispatch_id, event_id)


def dispatch_event_id(workstation_id: str, file_sha256: str) -> uuid.UUID:
    """The one ``dispatch.created`` of a dispatch list: the same file from the same workstation, the same id."""
    return row_event_id("dispatch", workstation_id, file_sha256, 0, "dispatch")


async def run_worker_import(
    *,
    pool: asyncpg.Pool,
    intake: Intake,
    publish: Publish,
    import_id: uuid.UUID,
    path: Path,
    filename: str | None,
    workstation_id: str,
    file_sha256: str,
    actor: Actor,
    limits: Limits | None = None,
) -> Totals | None:
    """The background task behind ``POST /v1/imports/workers``; always leaves the import done or failed."""
    processor = WorkerRows(
        intake, PoolBrands(pool), workstation_id=workstation_id, actor=actor,
        event_id=lambda row, part: row_event_id("workers", workstation_id, file_sha256, row, part),
    )
    return await _run(pool, intake, publish, import_id, path, filename, processor, limits=limits)


async def run_dispatch_import(
    *,
    pool: asyncpg.Pool,
    intake: Intake,
    publish: Publish,
    import_id: uuid.UUID,
    path: Path,
    filename: str | None,
    workstation_id: str,
    file_sha256: str,
    actor: Actor,
    limits: Limits | None = None,
) -> Totals | None:
    """The background task behind ``POST /v1/imports/dispatch``: one sheet → one ``dispatch.created``.

    The import's ``result`` records ``dispatch_id`` and ``event_id`` once the dispatch is published (both
    ``null`` when no worker could be dispatched).
    """
    processor = DispatchRows(intake, PoolBrands(pool), PoolWorkers(pool, actor), workstation_id=workstation_id,
                             actor=actor, event_id=dispatch_event_id(workstation_id, file_sha256))

    async def result() -> None:
        env = processor.envelope
        await store.set_result(pool, import_id, {
            "dispatch_id": env.payload["dispatch_id"] if env else None,
            "event_id": str(env.event_id) if env else None,
        })

    return await _run(pool, intake, publish, import_id, path, filename, processor, result, limits=limits)


async def _run(pool: asyncpg.Pool, intake: Intake, publish: Publish, import_id: uuid.UUID, path: Path,
               filename: str | None, processor: RowProcessor,
               before_done: Callable[[], Awaitable[None]] | None = None,
               limits: Limits | None = None) -> Totals | None:
    sink = StoreSink(pool, import_id, intake.privacy.cipher, publish)
    try:
        totals = await run_import(path, filename, processor, sink, limits=limits)
        if before_done is not None:
            await before_done()
    except (UnsupportedFile, HeaderNotFound, SheetRefused) as exc:
        await store.finish(pool, import_id, "failed", exc.message_zh)
        return None
    except asyncio.CancelledError:
        await asyncio.shield(store.finish(pool, import_id, "failed", interrupted(processor.kind.name)))
        raise
    except Exception as exc:
        log.exception("import %s failed", import_id)
        await store.finish(pool, import_id, "failed",
                           f"导入失败（系统错误：{type(exc).__name__}）：请稍后重新上传同一文件，"
                           f"{NO_REPEAT.get(processor.kind.name, NO_REPEAT['workers'])}")
        return None
    finally:
        path.unlink(missing_ok=True)
    await store.finish(pool, import_id, "done")
    return totals
