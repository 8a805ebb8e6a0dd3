"""Casework on alerts (跟踪帮扶, issue 20): the steps (assign, acknowledge, work, resolve, reopen — each an event of
the catalogue, 202 and a receipt like every write), the work-lists, the case page and the figures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.access import CurrentActor
from api.deps import PoolDep
from api.routing import JSONRoute
from api.writes import write
from laowu import casework_reads as reads
from laowu import reports
from laowu.application import catalogue
from laowu.application.catalogue import Entry
from laowu.store.queries import NotFound
from schemas import events as ev
from schemas.common import AlertKind
from schemas.monitoring_api import CaseAccepted, CaseFiguresOut, CaseList, CasePage

router = APIRouter(route_class=JSONRoute, tags=["casework"])

AlertPath = Annotated[str, Path(max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]


def _entry(payload: type[BaseModel]) -> Entry:
    return next(e for e in catalogue.ENTRIES if e.spec.payload is payload)


ASSIGN, ACK, WORK, RESOLVE, REOPEN = (_entry(p) for p in (ev.AlertAssigned, ev.AlertAcknowledged, ev.AlertWorked,
                                                           ev.AlertResolved, ev.AlertReopened))
AssignBody, AckBody, WorkBody, ResolveBody, ReopenBody = (e.body for e in (ASSIGN, ACK, WORK, RESOLVE, REOPEN))
ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"model": CaseAccepted}}


async def _step(request: Request, entry: Entry, alert_id: str, body: BaseModel) -> JSONResponse:
    return await write(request, entry.command(alert_id=alert_id, body=body), ("alert_id",))  # type: ignore[call-arg]


@router.post("/v1/alerts/{alert_id}/assign", status_code=202, responses=ACCEPTED)
async def assign_alert(alert_id: AlertPath, body: AssignBody, request: Request) -> JSONResponse:  # type: ignore[valid-type]
    """分派 to an account (``assignee``, a user name) and/or a team (``team``, an organization id)."""
    return await _step(request, ASSIGN, alert_id, body)


@router.post("/v1/alerts/{alert_id}/acknowledge", status_code=202, responses=ACCEPTED)
async def acknowledge_alert(alert_id: AlertPath, body: AckBody, request: Request) -> JSONResponse:  # type: ignore[valid-type]
    """签收: once; late (after the rule's days) the case has already escalated."""
    return await _step(request, ACK, alert_id, body)


@router.post("/v1/alerts/{alert_id}/work", status_code=202, responses=ACCEPTED)
async def work_alert(alert_id: AlertPath, body: WorkBody, request: Request) -> JSONResponse:  # type: ignore[valid-type]
    """A note and/or an action taken (电话回访, 上门走访, 转劳动监察, 法律援助, 再就业推荐)."""
    return await _step(request, WORK, alert_id, body)


@router.post("/v1/alerts/{alert_id}/resolve", status_code=202, responses=ACCEPTED)
async def resolve_alert(alert_id: AlertPath, body: ResolveBody, request: Request) -> JSONResponse:  # type: ignore[valid-type]
    """办结 with an outcome: resolved, referred, unreachable, no_action_needed."""
    return await _step(request, RESOLVE, alert_id, body)


@router.post("/v1/alerts/{alert_id}/reopen", status_code=202, responses=ACCEPTED)
async def reopen_alert(alert_id: AlertPath, body: ReopenBody, request: Request) -> JSONResponse:  # type: ignore[valid-type]
    """重新打开 a closed case (closed by a person or by itself), with why."""
    return await _step(request, REOPEN, alert_id, body)


@router.get("/v1/alerts/{alert_id}/case", response_model=CasePage)
async def get_case(alert_id: AlertPath, pool: PoolDep, actor: CurrentActor) -> dict[str, Any]:
    """The case: who has it, its deadlines and state, and its history (the people's steps with who and when, and
    the ledger's own: raised, closed by itself, escalated)."""
    page = await reads.case_page(pool, actor, alert_id, datetime.now(UTC))
    if page is None:
        raise NotFound(alert_id)
    return page


@router.get("/v1/cases", response_model=CaseList)
async def list_cases(pool: PoolDep, actor: CurrentActor,
                     view: Annotated[Literal["mine", "team", "region", "escalated"], Query()] = "mine",
                     region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
                     open: bool = True) -> dict[str, Any]:
    """Work-lists: ``mine`` (assigned to my account), ``team`` (to my organization), ``region`` (every case I see,
    optionally under ``region``), ``escalated`` (escalated to my bureau) — overdue first, then by deadline."""
    if region is not None:
        reports.jurisdiction(actor, region)
    return {"items": await reads.work_list(pool, actor, view, datetime.now(UTC), region, open)}


@router.get("/v1/cases/figures", response_model=CaseFiguresOut)
async def case_figures(pool: PoolDep, actor: CurrentActor,
                       region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
                       kind: AlertKind | None = None) -> dict[str, Any]:
    """Open and overdue cases, the closure rate within the deadline (办结率; for wage arrears 欠薪预警办结率) and
    the median hours to close, for the region and each region under it."""
    region = reports.jurisdiction(actor, region)
    return await reads.figures(pool, actor, region, kind, datetime.now(UTC))
