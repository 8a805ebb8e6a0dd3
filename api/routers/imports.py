"""Excel in and out: the templates, spreadsheet imports and their error report (API.md).

``POST /v1/imports/workers`` (registration sheets) and ``POST /v1/imports/dispatch`` (dispatch lists) answer
202 at once and process the file in a background task of this process. Re-uploading the same file (same
bytes, same workstation, same kind) answers with the earlier import's id and status instead of starting
again, unless that import failed; either way nobody is registered or dispatched twice, because every event
id is derived from the file's SHA-256 (and the row number).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from api import bulk_audit, spool
from api.access import CurrentActor
from api.deps import IntakeDep, PoolDep
from api.routing import JSONRoute
from laowu.imports import workbook
from laowu.imports.guard import Limits
from laowu.imports.service import interrupted, run_dispatch_import, run_worker_import, unseal
from laowu.imports.source import UnsupportedFile, detect_format
from laowu.store import imports as store
from laowu.store.queries import NotFound
from schemas.common import Actor, unclean_character

router = APIRouter(route_class=JSONRoute, tags=["imports"])

MULTIPART_SLACK = 1 << 20  # form fields and part headers around the file itself
"""Upload limit for ``/v1/imports`` (a 50,000-row registration sheet is about 3 MB)."""
STALE_SECONDS = 120.0
"""A running import makes progress every chunk (~1 s); silent this long, its process is gone."""
_READ = 1 << 20
ERRORS_PAGE = 500
REPORT_SHEETS = {"error": ("错误行", "错误原因"), "warning": ("提示", "提示")}  # severity → sheet, reason title


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename=\"{quote(filename)}\"; filename*=UTF-8''{quote(filename)}"}


def _tasks(app: FastAPI) -> dict[uuid.UUID, asyncio.Task[Any]]:
    tasks: dict[uuid.UUID, asyncio.Task[Any]] | None = getattr(app.state, "import_tasks", None)
    if tasks is None:
        tasks = app.state.import_tasks = {}
    return tasks


async def stop_imports(app: FastAPI) -> None:
    """At shutdown: cancel running imports; each marks itself failed so a re-upload starts afresh."""
    tasks = list(_tasks(app).values())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _refused(status: int, type_: str, msg: str, msg_zh: str, loc: str = "file") -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": [
        {"loc": ["body", loc], "msg": msg, "msg_zh": msg_zh, "type": type_}]})


@router.get("/v1/templates/workers.xlsx", response_class=Response,
            responses={200: {"content": {workbook.XLSX_MEDIA_TYPE: {}}}})
async def workers_template(
    pool: PoolDep, region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None
) -> Response:
    """Registration template: Chinese headers, dropdowns (性别, 优先群体, 品牌, 证书类型), an example row, 说明."""
    brands = await store.usable_brands(pool, region)
    data = await asyncio.to_thread(workbook.workers_template, brands)
    return Response(data, media_type=workbook.XLSX_MEDIA_TYPE, headers=_attachment("劳务人员实名登记模板.xlsx"))


@router.get("/v1/templates/dispatch.xlsx", response_class=Response,
            responses={200: {"content": {workbook.XLSX_MEDIA_TYPE: {}}}})
async def dispatch_template(
    request: Request, pool: PoolDep, region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None
) -> Response:
    """Dispatch list template: 派遣信息 block (dropdowns for 品牌, 输出方式, 集中出行), the 身份证号/姓名 table, 说明.

    A workstation's copy has its own id as 组织单位 and its region as 输出地 already filled in; ``region``
    narrows the brands offered, as for the registration template.
    """
    actor: Actor | None = getattr(request.state, "actor", None)
    own = actor if actor is not None and actor.role == "workstation" else None
    brands = await store.usable_brands(pool, region)
    data = await asyncio.to_thread(workbook.dispatch_template, brands, organizer_id=own.org if own else None,
                                   origin_region=own.region if own else None)
    return Response(data, media_type=workbook.XLSX_MEDIA_TYPE, headers=_attachment("有组织劳务输出派遣名单模板.xlsx"))


class _TooBig(Exception):
    pass


async def _spool(upload: UploadFile, limit: int) -> tuple[Path, str, bytes, int]:
    """Copy the upload to a file of ours (the request's is gone when the response is sent), hashing it;
    ``_TooBig`` as soon as it passes ``limit`` bytes (nothing kept)."""
    digest = hashlib.sha256()
    fd, name = tempfile.mkstemp(prefix="laowu-import-", suffix=Path(upload.filename or "").suffix[:8])
    head = b""
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await upload.read(_READ):
                if not head:
                    head = chunk[:8]
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
                if size > limit:
                    raise _TooBig
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), digest.hexdigest(), head, size


WorkstationForm = Annotated[str | None, Form(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
UploadForm = Annotated[UploadFile, File(description=".xlsx, or .csv in UTF-8 (BOM or not) or GBK")]


@router.post("/v1/imports/workers", status_code=202)
async def import_workers(request: Request, pool: PoolDep, intake: IntakeDep, file: UploadForm,
                         workstation_id: WorkstationForm = None) -> JSONResponse:
    """202 ``{"import_id", "status": "running"}``; poll ``GET /v1/imports/{import_id}``."""
    return await _start(request, pool, intake, file, workstation_id, "workers", run_worker_import)


@router.post("/v1/imports/dispatch", status_code=202)
async def import_dispatch(request: Request, pool: PoolDep, intake: IntakeDep, file: UploadForm,
                          workstation_id: WorkstationForm = None) -> JSONResponse:
    """A dispatch list (派遣名单, ``GET /v1/templates/dispatch.xlsx``): one sheet, one dispatch, workers by ID number.

    202 ``{"import_id", "status": "running"}``; ``GET /v1/imports/{import_id}`` then tells ``dispatch_id`` and
    the dispatch's ``event_id``. Rows refused (unknown person, invalid ID number, already on a placement, listed
    twice) are in ``errors.xlsx``; a wrong 派遣信息 block fails the import with every reason in ``error``.
    """
    return await _start(request, pool, intake, file, workstation_id, "dispatch", run_dispatch_import)


async def _start(request: Request, pool: Any, intake: Any, file: UploadFile, workstation_id: str | None, kind: str,
                 run: Callable[..., Coroutine[Any, Any, Any]]) -> JSONResponse:
    actor = getattr(request.state, "actor", None)
    if actor is None:
        raise HTTPException(status_code=401, detail="missing credential", headers={"WWW-Authenticate": "Bearer"})
    if actor.role != "admin":
        workstation_id = actor.org  # the credential's, never the form's (an admin names one)
    if not workstation_id:
        return _refused(422, "missing", "workstation_id is required", "缺少工作站编号", "workstation_id")
    settings = request.app.state.settings
    limit = settings.import_max_upload_bytes
    try:
        path, sha256, head, size = await _spool(file, limit)
    except _TooBig:
        return _refused(413, "too_large", f"the file is larger than {limit} bytes",
                        f"文件过大：最大{limit // (1 << 20)} MB，请拆分后分批上传")
    keep = False
    try:
        if size == 0:
            return _refused(422, "empty", "the file is empty", "文件为空")
        unclean = unclean_character(file.filename or "")
        if unclean is not None:  # it is stored with the import and shown: the clean-text rule of every field
            return _refused(422, "string_unclean", f"the file name holds {unclean}, a character that is not clean text",
                            f"文件名含有不可见或无法保存的字符（{unclean}），请重命名后上传")
        try:
            detect_format(head, file.filename)
        except UnsupportedFile as exc:
            return _refused(415, "unsupported_file", exc.message, exc.message_zh)
        import_id, status, created = await store.create(pool, kind=kind, workstation_id=workstation_id,
                                                        file_sha256=sha256, filename=file.filename)
        if not created and status == "running" and import_id not in _tasks(request.app) and \
                await store.fail_if_stale(pool, import_id, STALE_SECONDS, interrupted(kind)):
            import_id, status, created = await store.create(pool, kind=kind, workstation_id=workstation_id,
                                                            file_sha256=sha256, filename=file.filename)
        if not created:
            return JSONResponse(status_code=202, content={"import_id": str(import_id), "status": status,
                                                          "duplicate": True})
        task = asyncio.create_task(run(
            pool=pool, intake=intake, publish=request.app.state.publisher.publish, import_id=import_id, path=path,
            filename=file.filename, workstation_id=workstation_id, file_sha256=sha256, actor=actor,
            limits=Limits.from_settings(settings),
        ), name=f"import-{import_id}")
        keep = True
        tasks = _tasks(request.app)
        tasks[import_id] = task
        task.add_done_callback(lambda _: tasks.pop(import_id, None))
        return JSONResponse(status_code=202, content={"import_id": str(import_id), "status": "running"})
    finally:
        if not keep:
            path.unlink(missing_ok=True)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("status", "rows", "accepted", "rejected", "warnings", "kind", "workstation_id",
                               "filename", "sheet", "header_row", "error")}
    if row["kind"] == "dispatch":  # the one dispatch the list became (null until published, or if nobody was)
        out |= {"dispatch_id": row["result"].get("dispatch_id"), "event_id": row["result"].get("event_id")}
    return {"import_id": str(row["import_id"]), **out,
            "created_at": row["created_at"].isoformat(),
            "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
            "errors_url": f"/v1/imports/{row['import_id']}/errors.xlsx"}


async def _import(request: Request, pool: Any, import_id: uuid.UUID) -> dict[str, Any]:
    row = await store.get(pool, import_id)
    actor = getattr(request.state, "actor", None)
    if row is None or actor is None or (actor.role != "admin" and row["workstation_id"] != actor.org):
        raise NotFound(str(import_id))  # another workstation's import does not exist for you
    if row["status"] == "running" and import_id not in _tasks(request.app) and \
            await store.fail_if_stale(pool, import_id, STALE_SECONDS, interrupted(row["kind"])):
        row = await store.get(pool, import_id)
        assert row is not None
    return row


@router.get("/v1/imports/{import_id:uuid}")
async def get_import(import_id: uuid.UUID, request: Request, pool: PoolDep) -> dict[str, Any]:
    """``{"import_id", "status": "running"|"done"|"failed", "rows", "accepted", "rejected", ...}``; once done, also
    ``issues``: the first 20 rows with a problem (``row``, ``severity`` error|warning, ``reason`` in Chinese), errors
    first, without the row's values (those are in ``errors.xlsx``, an audited read)."""
    row = await _import(request, pool, import_id)
    out = _public(row)
    if row["status"] == "done":
        out["issues"] = await store.first_issues(pool, import_id) if row["rejected"] or row["warnings"] else []
    return out


@router.get("/v1/imports/{import_id:uuid}/errors.xlsx", response_class=FileResponse,
            responses={200: {"content": {workbook.XLSX_MEDIA_TYPE: {}}}})
async def import_errors(import_id: uuid.UUID, request: Request, pool: PoolDep, intake: IntakeDep,
                        actor: CurrentActor) -> FileResponse:
    """The rejected rows as uploaded plus 错误原因 (sheet 错误行), and accepted rows with a warning (sheet 提示).

    The rows are as uploaded, full ID numbers included: a bulk read of personal data, audited (``import.errors``,
    the row count) before it is sent. Rendered off the event loop (``api.spool``), as the exports.
    """
    row = await _import(request, pool, import_id)
    cipher = intake.privacy.cipher

    async def pages() -> AsyncIterator[list[tuple[str, str, int, list[str], str]]]:
        """(sheet, reason title, row number, values as uploaded, reason), unsealed a page at a time."""
        async with pool.acquire() as conn, conn.transaction():
            for severity, (sheet, title) in REPORT_SHEETS.items():
                page: list[tuple[str, str, int, list[str], str]] = []
                async for issue in store.issues(conn, import_id, severity):
                    page.append((sheet, title, issue["row_number"], unseal(cipher, issue["sealed_values"]),
                                 issue["reason_zh"]))
                    if len(page) == ERRORS_PAGE:
                        yield page
                        page = []
                if page:
                    yield page

    name, rows = await spool.build("import_errors", {"columns": list(row["columns"])}, pages())
    await bulk_audit.audited(request, actor, name, "import.errors",
                             {"import_id": str(import_id), "kind": row["kind"], "rows": rows})
    return FileResponse(name, media_type=workbook.XLSX_MEDIA_TYPE, headers=_attachment(f"导入错误报告-{str(import_id)[:8]}.xlsx")
                        | {"X-Import-Status": row["status"]}, background=BackgroundTask(os.unlink, name))
