"""Organizations (机构) and the subsidy workflow (补贴申领 → 审核 → 公示 → 异议 → 发放记录), issue 21.

Writes are events through the catalogue (``laowu.application.subsidy_workflow``); reads are scoped by
``laowu.store.subsidy_reads``. The public notice (公示名单) is a page and a workbook, masked as public lists are.
"""

from __future__ import annotations

import asyncio
import io
from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from api import auditing, reveals
from api.access import CurrentActor
from api.deps import IntakeDep, PoolDep
from api.pagination import decode_cursor, encode_cursor
from api.routing import JSONRoute
from api.writes import write
from laowu import xlsx_safe
from laowu.application import subsidy_workflow as sw
from laowu.domain.regions import region_name
from laowu.domain.subsidy_claims import LABELS as STATUS_LABELS
from laowu.store import queries, subsidy_reads
from schemas.api import (
    BudgetsPublic,
    HistoryPublic,
    NoticePublic,
    OrganizationAccepted,
    OrganizationCreate,
    OrganizationPublic,
    OrganizationsPublic,
    OrganizationVerify,
    RevealedOrganization,
    RevealRequest,
    SubsidyAccepted,
    SubsidyApply,
    SubsidyDetail,
    SubsidyNotice,
    SubsidyObjection,
    SubsidyObjectionDecision,
    SubsidyPayment,
    SubsidyReview,
)

router = APIRouter(route_class=JSONRoute, tags=["organizations and subsidies"])
OrgId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
SubsidyId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
ORG_ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"model": OrganizationAccepted}}
SUBSIDY_ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"model": SubsidyAccepted}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- organizations ----------------------------------------------------------------------------------------------
@router.post("/v1/organizations", status_code=202, responses=ORG_ACCEPTED)
async def register_organization(body: OrganizationCreate, request: Request) -> JSONResponse:
    """机构登记 by a workstation or a bureau of the organization's region; it stays ``pending`` until the bureau
    verifies it. A labour broker who is a person gives an ID number (encrypted, masked, revealed only audited)."""
    return await write(request, sw.RegisterOrganization(body), ("org_id",))


@router.post("/v1/organizations/{org_id}/verification", status_code=202, responses=ORG_ACCEPTED)
async def verify_organization(org_id: OrgId, body: OrganizationVerify, request: Request) -> JSONResponse:
    """核实: the bureau of the organization's region verifies, rejects or suspends it, with a reason."""
    return await write(request, sw.VerifyOrganization(org_id, body), ("org_id",))


@router.get("/v1/organizations", response_model=OrganizationsPublic)
async def list_organizations(
    pool: PoolDep,
    actor: CurrentActor,
    kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
    status: Annotated[str | None, Query(pattern=r"^(pending|verified|rejected|suspended)$")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> OrganizationsPublic:
    """The registry as the caller sees it: an admin all, staff their region's (and their own), others themselves;
    ``status=pending`` is the bureau's list to verify (first uses among them)."""
    rows = await subsidy_reads.organizations(pool, kind=kind, status=status, region=region,
                                             after=decode_cursor(cursor), limit=limit, viewer=actor)
    return OrganizationsPublic(items=rows,  # type: ignore[arg-type]
                               next_cursor=encode_cursor(rows[-1]["org_id"]) if len(rows) == limit else None)


@router.get("/v1/organizations/{org_id}", response_model=OrganizationPublic)
async def get_organization(org_id: OrgId, pool: PoolDep, actor: CurrentActor) -> OrganizationPublic:
    return OrganizationPublic(**await subsidy_reads.organization(pool, org_id, actor))


@router.get("/v1/organizations/{org_id}/history", response_model=HistoryPublic)
async def organization_history(org_id: OrgId, pool: PoolDep, actor: CurrentActor) -> HistoryPublic:
    """Its registration (on first use: by which dispatch) and every verification with its reason."""
    await subsidy_reads.organization(pool, org_id, actor)
    return HistoryPublic(items=await subsidy_reads.organization_history(pool, org_id))  # type: ignore[arg-type]


@router.post("/v1/organizations/{org_id}/reveal", response_model=RevealedOrganization)
async def reveal_organization(org_id: OrgId, body: RevealRequest, request: Request, pool: PoolDep,
                              intake: IntakeDep, actor: CurrentActor) -> JSONResponse:
    """A broker's ID number and the contact phone in full, for a stated purpose: the same audited reveal and daily
    quota as a worker's, for the staff of the organization's region."""
    row = await subsidy_reads.organization_reveal(pool, org_id, actor)
    await reveals.admit(request, actor, f"org:{org_id}", body.purpose)
    cipher = intake.privacy.cipher
    id_enc, phone_enc = row.pop("id_number_enc"), row.pop("contact_phone_enc")
    out = OrganizationPublic(**row).model_dump(mode="json")
    out["id_number"] = cipher.decrypt(id_enc, "id_number") if id_enc else None
    out["contact_phone"] = cipher.decrypt(phone_enc, "phone") if phone_enc else None
    return JSONResponse(out, headers={"Cache-Control": "no-store"})


# ---- the workflow -------------------------------------------------------------------------------------------------
@router.post("/v1/subsidies/{subsidy_id}/application", status_code=202, responses=SUBSIDY_ACCEPTED)
async def apply_subsidy(subsidy_id: SubsidyId, body: SubsidyApply, request: Request) -> JSONResponse:
    """申请: by the organizer, or for the person by a workstation of the origin. A second application for the same
    entitlement is 409 naming the first; another entitlement of the same person, kind and period is refused by the
    ledger (the receipt names the earlier one)."""
    return await write(request, sw.ApplySubsidy(subsidy_id, body), ("subsidy_id",))


@router.post("/v1/subsidies/{subsidy_id}/review", status_code=202, responses=SUBSIDY_ACCEPTED)
async def review_subsidy(subsidy_id: SubsidyId, body: SubsidyReview, request: Request) -> JSONResponse:
    """审核 by the bureau of the origin: approved (within the region's budget for the year) or refused, with the
    reason and what was checked."""
    return await write(request, sw.ReviewSubsidy(subsidy_id, body), ("subsidy_id",))


@router.post("/v1/subsidies/{subsidy_id}/notice", status_code=202, responses=SUBSIDY_ACCEPTED)
async def notice_subsidy(subsidy_id: SubsidyId, body: SubsidyNotice, request: Request) -> JSONResponse:
    """公示: an approved subsidy on the public notice ``notice_id`` from ``start_date`` for ``days`` days."""
    return await write(request, sw.NoticeSubsidy(subsidy_id, body), ("subsidy_id",))


@router.post("/v1/subsidies/{subsidy_id}/objections", status_code=202, responses=SUBSIDY_ACCEPTED)
async def raise_objection(subsidy_id: SubsidyId, body: SubsidyObjection, request: Request) -> JSONResponse:
    """异议 received while the notice runs (its ``occurred_at`` must lie in the notice period)."""
    return await write(request, sw.RaiseSubsidyObjection(subsidy_id, body), ("subsidy_id", "objection_id"))


@router.post("/v1/subsidies/{subsidy_id}/objection-decisions", status_code=202, responses=SUBSIDY_ACCEPTED)
async def decide_objection(subsidy_id: SubsidyId, body: SubsidyObjectionDecision, request: Request
                           ) -> JSONResponse:
    """An objection upheld refuses the subsidy (its amount returns to the budget); dismissed, it stays on notice."""
    return await write(request, sw.DecideSubsidyObjection(subsidy_id, body), ("subsidy_id", "objection_id"))


@router.post("/v1/subsidies/{subsidy_id}/payment", status_code=202, responses=SUBSIDY_ACCEPTED)
async def pay_subsidy(subsidy_id: SubsidyId, body: SubsidyPayment, request: Request) -> JSONResponse:
    """发放记录 after the notice, with no objection open: date, voucher number and the exact amount approved. The
    platform records a payment made elsewhere; it does not pay."""
    return await write(request, sw.PaySubsidy(subsidy_id, body), ("subsidy_id",))


@router.get("/v1/subsidies/{subsidy_id}", response_model=SubsidyDetail)
async def get_subsidy(subsidy_id: SubsidyId, pool: PoolDep, actor: CurrentActor) -> SubsidyDetail:
    """An entitlement, where its workflow stands, and its history (the rule version that decided it included)."""
    return SubsidyDetail(**await subsidy_reads.subsidy(pool, subsidy_id, actor))


@router.get("/v1/subsidy-notice", response_model=NoticePublic)
async def subsidy_notice(
    pool: PoolDep,
    actor: CurrentActor,
    notice_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> NoticePublic:
    """公示名单: 序号, 姓名, 身份证号 (the address code only), 补贴类别, 金额, 所属机构, the notice period and status."""
    items = await subsidy_reads.notice(pool, notice_id=notice_id, region=region, viewer=actor)
    return NoticePublic(items=items, total=_total(items))  # type: ignore[arg-type]


def _total(items: list[dict[str, Any]]) -> Decimal:
    """What the notice stands for: the lines not refused since (an upheld objection) are summed."""
    return sum((i["amount"] for i in items if i["status"] != "refused"), Decimal("0.00"))


HEADERS = ["序号", "姓名", "身份证号", "补贴类别", "金额（元）", "所属机构", "公示编号", "公示期", "状态"]


def _workbook(items: list[dict[str, Any]], title: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("公示名单")
    xlsx_safe.append(ws, [title])
    xlsx_safe.append(ws, HEADERS)
    for i in items:
        period = f"{i['notice_start']:%Y-%m-%d} 至 {date.fromordinal(i['notice_end'].toordinal() - 1):%Y-%m-%d}"
        xlsx_safe.append(ws, [i["seq"], i["name"], i["id_number_masked"], i["kind_label"], i["amount"],
                              i["organization_name"] or i["organization_id"], i["notice_id"], period,
                              STATUS_LABELS.get(i["status"], i["status"])])
    xlsx_safe.append(ws, ["合计（不含未通过）", None, None, None, _total(items)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@router.get("/v1/subsidy-notice.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}, "description": "补贴公示名单 (masked)"}})
async def export_subsidy_notice(
    request: Request,
    pool: PoolDep,
    actor: CurrentActor,
    notice_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
) -> Response:
    """The public notice as a workbook in the usual layout (a notice is at most a few thousand lines: built in a
    thread), written to the audit log as a bulk read."""
    items = await subsidy_reads.notice(pool, notice_id=notice_id, region=region, viewer=actor)
    where = region_name(region) if region else (region_name(actor.region) if actor.region else "")
    title = f"{where or ''}就业补贴公示名单" + (f"（{notice_id}）" if notice_id else "")
    data = await asyncio.to_thread(_workbook, items, title)
    await queries.audit(pool, **auditing.identity(request, actor), action="export.subsidy_notice",
                        detail={"notice_id": notice_id, "region": region, "rows": len(items)})
    name = f"subsidy-notice-{notice_id or 'all'}.xlsx"
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote('补贴公示名单.xlsx')}",
        "Cache-Control": "no-store"})


@router.get("/v1/subsidy-budgets", response_model=BudgetsPublic)
async def subsidy_budgets(
    pool: PoolDep,
    actor: CurrentActor,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> BudgetsPublic:
    """Each region's yearly budget (from the rules), what approvals committed, what was paid, and what is left."""
    return BudgetsPublic(items=await subsidy_reads.budgets(pool, year=year, viewer=actor))  # type: ignore[arg-type]
