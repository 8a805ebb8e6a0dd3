"""``laowu import workers FILE`` / ``laowu import dispatch FILE``: upload a sheet and follow the import with a
progress bar."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from laowu.imports.source import csv_encoding

EXIT_OK, EXIT_REJECTED_ROWS, EXIT_FAILED = 0, 1, 2


def estimate_rows(path: Path) -> int | None:
    """Roughly how many rows the file has (for the bar's total); ``None`` when it cannot tell cheaply."""
    try:
        with path.open("rb") as fh:
            zipped = fh.read(4) == b"PK\x03\x04"
        if zipped:
            wb = load_workbook(path, read_only=True)
            try:
                ws = wb.worksheets[0]
                return int(ws.max_row) - 1 if ws.max_row else None  # type: ignore[union-attr]
            finally:
                wb.close()
        with path.open(encoding=csv_encoding(path), errors="replace", newline="") as fh:
            return max(sum(1 for _ in csv.reader(fh)) - 1, 0)
    except Exception:
        return None


def _detail(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:500]
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        return "；".join(str(d.get("msg_zh") or d.get("msg")) for d in detail if isinstance(d, dict))
    return str(detail or body)


def import_workers(
    path: Path,
    api_url: str,
    workstation_id: str,
    *,
    token: str | None = None,
    poll_seconds: float = 0.5,
    timeout_seconds: float = 3600,
    console: Console | None = None,
) -> int:
    """Upload ``path`` to ``POST /v1/imports/workers`` and poll ``GET /v1/imports/{id}`` until it ends.

    ``token`` (else ``$LAOWU_TOKEN``) is the bearer credential; a workstation's credential decides the
    workstation, ``workstation_id`` counts only for an admin's. Returns an exit code: 0 when every row was
    registered, 1 when some rows were rejected (the error report is saved next to the file as
    ``<name>.errors.xlsx``), 2 when the upload was refused or the import failed.
    """
    return import_file(path, api_url, "workers", workstation_id, token=token, poll_seconds=poll_seconds,
                       timeout_seconds=timeout_seconds, console=console)


def import_dispatch(
    path: Path,
    api_url: str,
    workstation_id: str,
    *,
    token: str | None = None,
    poll_seconds: float = 0.5,
    timeout_seconds: float = 3600,
    console: Console | None = None,
) -> int:
    """``laowu import dispatch FILE``: a dispatch list (派遣名单) to ``POST /v1/imports/dispatch``; as ``import_workers``.

    Exit codes: 0 when everyone listed was dispatched, 1 when some rows were refused (error report saved next
    to the file), 2 when the upload was refused or the import failed (e.g. the 派遣信息 block is wrong).
    """
    return import_file(path, api_url, "dispatch", workstation_id, token=token, poll_seconds=poll_seconds,
                       timeout_seconds=timeout_seconds, console=console)


_VERB = {"workers": "登记", "dispatch": "派遣"}


def import_file(
    path: Path,
    api_url: str,
    kind: str,
    workstation_id: str,
    *,
    token: str | None = None,
    poll_seconds: float = 0.5,
    timeout_seconds: float = 3600,
    console: Console | None = None,
) -> int:
    """Upload ``path`` to ``POST /v1/imports/{kind}`` and follow it with a progress bar; returns an exit code."""
    console = console or Console()
    verb = _VERB.get(kind, "导入")
    token = token or os.environ.get("LAOWU_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=api_url.rstrip("/"), headers=headers, timeout=120) as client:
        try:
            with path.open("rb") as fh:
                r = client.post(f"/v1/imports/{kind}", files={"file": (path.name, fh)},
                                data={"workstation_id": workstation_id})
        except (OSError, httpx.HTTPError) as exc:
            console.print(f"[red]上传失败[/red] {exc}")
            return EXIT_FAILED
        if r.status_code != 202:
            console.print(f"[red]上传被拒绝（HTTP {r.status_code}）[/red] {_detail(r)}")
            return EXIT_FAILED
        import_id = r.json()["import_id"]
        if r.json().get("duplicate"):
            console.print(f"同一文件已导入过，沿用导入 {import_id}（不会重复{verb}）")
        state = _follow(client, import_id, estimate_rows(path), poll_seconds, timeout_seconds, console, verb)
        if state is None:
            return EXIT_FAILED
        if state["status"] == "failed":
            console.print(f"[red]导入失败[/red] {state.get('error') or ''}")
            return EXIT_FAILED
        console.print(f"导入完成：共 {state['rows']} 行，{verb} [green]{state['accepted']}[/green] 行，"
                      f"错误 [red]{state['rejected']}[/red] 行（import_id {import_id}）")
        if kind == "dispatch":
            console.print(f"派遣编号：{state['dispatch_id']}" if state.get("dispatch_id") else "无人可派遣，未创建派遣")
        if state["rejected"] or state.get("warnings"):
            report = path.with_name(f"{path.stem}.errors.xlsx")
            got = client.get(f"/v1/imports/{import_id}/errors.xlsx")
            if got.status_code == 200:
                report.write_bytes(got.content)
                console.print(f"错误报告：{report}（“错误原因”列说明每行的问题，改正后可直接重新上传）")
        return EXIT_REJECTED_ROWS if state["rejected"] else EXIT_OK


def _follow(client: httpx.Client, import_id: str, total: int | None, poll: float, timeout: float,
            console: Console, verb: str = "登记") -> dict[str, Any] | None:
    columns = (SpinnerColumn(), TextColumn("导入中"), BarColumn(), MofNCompleteColumn(),
               TextColumn(verb + " {task.fields[accepted]} · 错误 {task.fields[rejected]}"), TimeElapsedColumn())
    deadline = time.monotonic() + timeout
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("import", total=total, accepted=0, rejected=0)
        while True:
            try:
                r = client.get(f"/v1/imports/{import_id}")
            except httpx.HTTPError as exc:
                console.print(f"[red]查询进度失败[/red] {exc}")
                return None
            if r.status_code != 200:
                console.print(f"[red]查询进度失败（HTTP {r.status_code}）[/red] {_detail(r)}")
                return None
            state: dict[str, Any] = r.json()
            done = state["status"] != "running"
            rows = int(state["rows"])
            progress.update(task, completed=rows, total=rows if done else max(total or 0, rows) or None,
                            accepted=state["accepted"], rejected=state["rejected"])
            if done:
                return state
            if time.monotonic() > deadline:
                console.print(f"[red]等待超时[/red]：导入 {import_id} 仍在进行，可稍后查询 GET /v1/imports/{import_id}")
                return None
            time.sleep(poll)
