"""HTTP request and response models (``../shared/API.md``): ``XCreate`` in, ``XPublic`` out."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, create_model, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from schemas.common import (
    CLEAN,
    CLEAN_MULTILINE,
    BrandCategory,
    BrandLevel,
    BrandStatus,
    Certificate,
    Day,
    DemandPosition,
    DispatchTerms,
    Employer,
    EndReason,
    FollowUpFacts,
    Identifier,
    Intention,
    Line64,
    Name,
    OccupationCode,
    Operator,
    PlacementStatus,
    PlacementTerms,
    PriorityGroup,
    RegionCode,
    Sex,
    Strict,
    Text,
    Timestamp,
    Training,
    WorkerState,
)
from schemas.events import EventType

RawIdNumber = Annotated[str, StringConstraints(min_length=1, max_length=40), CLEAN]
"""As typed by a clerk: may hold spaces or full-width digits; the domain normalises and checks it."""
RawPhone = Annotated[str, StringConstraints(min_length=1, max_length=20), CLEAN]


class Write(Strict):
    occurred_at: Timestamp | None = Field(
        default=None, description="When it happened in the field (defaults to now)."
    )


def body_for(payload: type[BaseModel], path_field: str) -> type[Write]:
    """The API body of an event whose payload is the body plus the id the path names (``worker_id``): the payload's
    other fields, under the same constraints, and ``occurred_at``. A batch item's payload is this body plus the id."""
    fields: dict[str, Any] = {name: (info.annotation, info) for name, info in payload.model_fields.items()
                              if name != path_field}
    return create_model(payload.__name__ + "Body", __base__=Write, __doc__=payload.__doc__, **fields)


# ---- brands ------------------------------------------------------------------------------------
class BrandCreate(Write):
    brand_id: Identifier | None = None
    name: Name
    region_code: RegionCode
    category: BrandCategory
    level: BrandLevel
    industry: Line64 | None = None
    occupation_code: OccupationCode | None = None
    operator: Operator | None = None
    trademark_number: Line64 | None = None


class BrandPatch(Write):
    name: Name | None = None
    region_code: RegionCode | None = None
    category: BrandCategory | None = None
    level: BrandLevel | None = None
    industry: Line64 | None = None
    occupation_code: OccupationCode | None = None
    operator: Operator | None = None
    trademark_number: Line64 | None = None
    integrity_rating: Literal["A", "B", "C", "D"] | None = None


class BrandStatusChange(Write):
    status: BrandStatus
    reason: Text


class BrandPublic(BaseModel):
    brand_id: str
    name: str
    region_code: str
    region_name: str | None = None
    category: str
    level: str
    status: BrandStatus
    industry: str | None = None
    occupation_code: str | None = None
    operator: dict[str, Any] | None = None
    trademark_number: str | None = None
    integrity_rating: str | None = None
    member_count: int = 0
    version: int
    created_at: datetime
    updated_at: datetime


class BrandsPublic(BaseModel):
    items: list[BrandPublic]
    next_cursor: str | None = None


# ---- workers -----------------------------------------------------------------------------------
class WorkerCreate(Write):
    """Real-name registration (实名登记) at a workstation."""

    id_number: RawIdNumber
    name: Name
    sex: Sex
    birth_date: Day
    phone: RawPhone | None = None
    household_region: RegionCode
    workstation_id: Identifier
    brand_ids: list[Identifier] = Field(default_factory=list, max_length=50)
    priority_groups: list[PriorityGroup] = Field(default_factory=list)
    occupation_code: OccupationCode | None = None
    intention: Intention | None = Field(default=None, description="求职意向, recorded with the registration.")


HOUSEHOLD_MOVE = "POST /v1/workers/{worker_id}/household"


class WorkerPatch(Write):
    """A profile correction. Not the household region: that is a household move (户籍迁移), HOUSEHOLD_MOVE."""

    name: Name | None = None
    phone: RawPhone | None = None
    occupation_code: OccupationCode | None = None
    priority_groups: list[PriorityGroup] | None = None
    # Not part of the contract (hidden from OpenAPI): present only so that a client that still sends it is told,
    # on the field itself, where household moves go instead of a bare "extra inputs are not permitted".
    household_region: SkipJsonSchema[None] = Field(default=None, exclude=True)

    @field_validator("household_region", mode="before")
    @classmethod
    def _household_moves_elsewhere(cls, value: Any) -> None:
        raise PydanticCustomError(
            "household_move", "household_region changes only through a household move: {endpoint}",
            {"endpoint": HOUSEHOLD_MOVE})


class HouseholdMove(Write):
    """户籍迁移: move the household region, sent by the jurisdiction of the current one."""

    household_region: RegionCode
    reason: Text


class CertificateCreate(Write, Certificate):
    pass


class TrainingCreate(Write, Training):
    pass


class BrandJoin(Write):
    brand_id: Identifier


class IdNumberLookup(Strict):
    id_number: RawIdNumber


class Region(BaseModel):
    code: str
    name: str | None


class WorkerPublic(BaseModel):
    """The masked view (every read but the reveal): ``id_number_masked`` keeps the address code only and the birth
    date is given as ``birth_month`` (YYYY-MM), so that what it shows together leaves ≥ 1,000 candidate numbers."""

    worker_id: str
    id_number_masked: str
    name: str
    sex: Sex
    birth_month: str
    phone_masked: str | None
    household_region: Region
    brand_ids: list[str]
    priority_groups: list[str]
    certificates: list[dict[str, Any]]
    trainings: list[dict[str, Any]]
    occupation_code: str | None
    state: WorkerState
    current_placement_id: str | None
    last_followup_at: str | None = Field(
        description="最近跟踪服务: the newest follow-up date (YYYY-MM-DD) of the worker's placements, by the date the "
                    "follow-up states, whatever order follow-ups arrived in.")
    registered_at: datetime
    version: int = Field(
        description="Moves (with updated_at) when the worker's own record changes: registration, profile, brands, "
                    "household, dispatch and placement state. A follow-up is the placement's record: it adds to the "
                    "history and may move last_followup_at, not version.")
    updated_at: datetime
    intention: dict[str, Any] | None = Field(default=None, description="求职意向 (newest occurred_at wins; issue 19).")


class RevealRequest(Strict):
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=500), CLEAN_MULTILINE]


class RevealedWorker(WorkerPublic):
    id_number: str
    phone: str | None
    birth_date: date


class DiscrepancyPublic(BaseModel):
    """A further registration declared another name or household region than the record's (待核实)."""

    field: Literal["name", "household_region"]
    recorded: str
    declared: str
    workstation_id: str
    occurred_at: datetime


class DiscrepanciesPublic(BaseModel):
    items: list[DiscrepancyPublic]


class WorkersPublic(BaseModel):
    items: list[WorkerPublic]
    next_cursor: str | None = None


class HistoryItem(BaseModel):
    seq: int
    event_id: uuid.UUID
    type: str
    occurred_at: datetime
    recorded_at: datetime
    applied_at: datetime
    source: str
    actor: dict[str, Any] | None
    changes: dict[str, Any]


class HistoryPublic(BaseModel):
    items: list[HistoryItem]
    next_cursor: str | None = None


# ---- writes, receipts, batches ------------------------------------------------------------------
class Accepted(BaseModel):
    event_id: uuid.UUID
    status: Literal["accepted"] = "accepted"
    worker_id: str | None = None
    brand_id: str | None = None


class Receipt(BaseModel):
    event_id: uuid.UUID
    status: Literal["accepted", "applied", "rejected"]
    reason: str | None = None
    type: str | None = None


class ReceiptListItem(BaseModel):
    """One receipt in a sender's list (回执): what became of an event its organization sent."""

    event_id: uuid.UUID
    type: str
    status: Literal["accepted", "applied", "rejected"]
    reason: str | None = None
    entity_id: str | None = Field(default=None, description="What the event is about: worker_id, dispatch_id, "
                                  "placement_id or brand_id")
    accepted_at: datetime
    decided_at: datetime | None = None


class ReceiptsPublic(BaseModel):
    items: list[ReceiptListItem]
    next_cursor: str | None = None


class BatchItem(BaseModel):
    type: EventType
    event_id: uuid.UUID | None = Field(default=None, description=(
        "Chosen by the client for retries: scoped to the credential's organisation, so the event is stored under an "
        "id derived from it (the accepted result names that id) and no other organisation can reach it. "
        "`GET /v1/events/{event_id}` finds the receipt by either."))
    occurred_at: Timestamp | None = None
    payload: dict[str, Any]


class BatchRequest(Strict):
    events: list[BatchItem] = Field(min_length=1)


class BatchItemResult(BaseModel):
    index: int
    event_id: uuid.UUID | None
    status: Literal["accepted", "rejected"]
    reason: str | None = None
    worker_id: str | None = None
    brand_id: str | None = None


class BatchResult(BaseModel):
    results: list[BatchItemResult]


# ---- organized output, placements, follow-up ----------------------------------------------------
class DispatchCreate(Write, DispatchTerms):
    """有组织劳务输出: one batch of workers sent to one employer."""

    dispatch_id: Identifier | None = None
    worker_ids: list[Annotated[str, StringConstraints(pattern=r"^w[0-9a-f]{24}$")]] = Field(min_length=1, max_length=1000)
    position_id: Identifier | None = Field(
        default=None, description="The position of ``demand_id`` every worker of this dispatch fills (issue 19).")
    agreement_id: Identifier | None = Field(default=None, description="the cooperation agreement (劳务协作) it falls under")


class PlacementConfirm(Write, PlacementTerms):
    pass


class PlacementReject(Write):
    employer_id: Identifier
    reason: Text


class PlacementEnd(Write):
    end_date: Day
    reason: EndReason
    employer_id: Identifier | None = None


class FollowUpCreate(Write, FollowUpFacts):
    """跟踪服务 record."""

    followup_id: Identifier | None = None
    placement_id: Identifier


class DispatchAccepted(BaseModel):
    event_id: uuid.UUID
    status: Literal["accepted"] = "accepted"
    dispatch_id: str
    placements: list[dict[str, str]]
    rejected: list[dict[str, str]] = Field(default_factory=list)


class PlacementPublic(BaseModel):
    placement_id: str
    dispatch_id: str
    worker_id: str
    employer_id: str
    organizer_id: str
    brand_id: str
    origin_region: str
    destination_region: str
    departure_date: date
    status: PlacementStatus
    position: str | None = None
    start_date: date | None = None
    monthly_wage: Decimal | None = None
    contract: bool | None = None
    contract_months: int | None = None
    reject_reason: str | None = None
    end_date: date | None = None
    end_reason: str | None = None
    first_followup_date: date | None = None
    last_followup_date: date | None = None
    version: int
    updated_at: datetime
    demand_id: str | None = None  # the job demand and position it fills (issue 19)
    position_id: str | None = None
    organizer_name: str | None = Field(
        default=None, description="The organizer's name in the organization registry (机构), when it holds one; "
        "an organizer registered on first use by a dispatch is named by its id until it is registered.")


class PlacementWorker(BaseModel):
    """Who a placement is about, masked as every view (API.md "Masked means unrecoverable")."""

    worker_id: str
    name: str
    sex: Sex
    id_number_masked: str


class PlacementListItem(PlacementPublic):
    worker: PlacementWorker | None = None


class PlacementsPublic(BaseModel):
    items: list[PlacementListItem]
    next_cursor: str | None = None


class DispatchWorkerPublic(BaseModel):
    worker_id: str
    placement_id: str
    outcome: Literal["dispatched", "rejected"]
    reason: str | None = None
    placement_status: PlacementStatus | None = None


class DispatchPublic(BaseModel):
    dispatch_id: str
    organizer_id: str
    brand_id: str
    mode: str
    origin_region: str
    destination_region: str
    employer_id: str
    employer_name: str
    positions: list[str]
    departure_date: date
    group_transport: bool
    status: Literal["applied", "rejected"]
    reason: str | None = None
    workers: list[DispatchWorkerPublic]


class AlertPublic(BaseModel):
    alert_id: str
    kind: str
    worker_id: str
    placement_id: str | None
    regions: list[str]
    due_at: date | None
    raised_at: datetime
    closed_at: datetime | None
    detail: str | None
    worker_name: str | None = Field(default=None, description="The person's name, as every masked view shows it")


class AlertsPublic(BaseModel):
    items: list[AlertPublic]
    next_cursor: str | None = None


class SubsidyPublic(BaseModel):
    subsidy_id: str
    kind: str
    worker_id: str
    organization_id: str
    placement_id: str
    amount: Decimal
    rule_version: str
    accrued_at: datetime
    regions: list[str]
    status: str = Field(default="entitled", description="entitled · applied · approved · refused · noticed · paid "
                        "(issue 21: the workflow from entitlement to payment record)")
    period: int | None = Field(default=None, description="The rule period (year) the entitlement belongs to")
    rule_region: str | None = Field(default=None, description="The region whose rules (and budget) decided it")
    origin_region: str | None = None
    applicant_id: str | None = None
    notice_id: str | None = None
    notice_end: date | None = Field(default=None, description="The first day after the public notice (公示)")
    paid_on: date | None = None
    voucher_number: str | None = None
    worker_name: str | None = Field(default=None, description="The person's name, as every masked view shows it")
    organization_name: str | None = Field(default=None, description="The organization's name in the registry (机构)")


class SubsidiesPublic(BaseModel):
    items: list[SubsidyPublic]
    next_cursor: str | None = None


# ---- job demands (用工需求), intentions, matching (issue 19) ------------------------------------------------
class DemandContactBody(Strict):
    name: Name
    phone: RawPhone | None = None


class DemandPost(Write):
    """用工需求 as posted (``demand.posted`` through ``/v1/events:batch``)."""

    demand_id: Identifier | None = None
    employer: Employer
    title: Name
    positions: list[DemandPosition] = Field(min_length=1, max_length=50)
    contact: DemandContactBody
    closing_date: Day
    origin_regions: list[RegionCode] = Field(default_factory=list, max_length=50)
    agreement_id: Identifier | None = None
    description: Text | None = None


class DemandClose(Write):
    """``demand.closed``: its employer (or who posted it on the employer's behalf) stops a demand."""

    employer_id: Identifier
    reason: Text


class DemandPositionPublic(BaseModel):
    position_id: str
    title: str
    occupation_code: str
    headcount: int
    wage_min: Decimal
    wage_max: Decimal
    work_region: str
    start_date: date
    certificates: list[dict[str, Any]]
    age_min: int | None = None
    age_max: int | None = None
    brand_id: str | None = None
    reserved_posts: int
    filled: int
    filled_priority: int
    posts_left: int
    reserved_left: int


class DemandProposal(BaseModel):
    """A person proposed for the demand (a placement of a dispatch naming it), masked as every view."""

    placement_id: str
    dispatch_id: str
    position_id: str | None
    status: PlacementStatus
    worker_id: str
    name: str | None
    sex: str | None
    id_number_masked: str | None
    organizer_id: str
    departure_date: date
    organizer_name: str | None = Field(default=None, description="The organizer's name in the organization registry.")


class DemandPublic(BaseModel):
    demand_id: str
    employer_id: str
    employer_name: str
    posted_by: str
    title: str
    description: str | None
    status: Literal["open", "partly_filled", "filled", "closed", "expired"]
    positions: list[DemandPositionPublic]
    origin_regions: list[str]
    agreement_id: str | None
    closing_date: date
    contact: dict[str, Any]
    posted_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    version: int
    proposals: list[DemandProposal] | None = Field(
        default=None, description="Who was proposed and who arrived: for the employer, who posted it and admins.")


class DemandsPublic(BaseModel):
    items: list[DemandPublic]
    next_cursor: str | None = None


class MatchReason(BaseModel):
    aspect: Literal["occupation", "certificate", "wage", "brand", "destination", "age"]
    text: str


class ShortlistEntry(BaseModel):
    rank: int
    worker_id: str
    name: str
    sex: str
    id_number_masked: str
    household_region: str
    priority_groups: list[str]
    score: int
    fits: list[MatchReason]
    misses: list[MatchReason]
    intention: dict[str, Any] | None


class Shortlist(BaseModel):
    demand_id: str
    position_id: str
    reserved_open: bool
    posts_left: int
    weights: dict[str, int]
    items: list[ShortlistEntry]


class DemandMatch(BaseModel):
    demand_id: str
    title: str
    employer_name: str
    closing_date: date
    position: DemandPositionPublic
    score: int
    fits: list[MatchReason]
    misses: list[MatchReason]


class DemandMatches(BaseModel):
    worker_id: str
    items: list[DemandMatch]
# ---- organizations and the subsidy workflow (issue 21) -----------------------------------------------------------
OrganizationKind = Literal["employer", "workstation", "service_station", "training_institution",
                           "industry_association", "hr_service_agency", "labour_broker"]


class OrganizationCreate(Write):
    """机构登记. A firm gives its unified social credit code (``uscc``); a labour broker who is a person gives an ID
    number instead (encrypted at rest, masked in every view, revealed only through the audited reveal)."""

    org_id: Identifier | None = None
    kind: OrganizationKind
    name: Name
    region_code: RegionCode
    uscc: Line64 | None = None
    id_number: RawIdNumber | None = None
    contact_name: Name | None = None
    contact_phone: RawPhone | None = None


class OrganizationVerify(Write):
    status: Literal["verified", "rejected", "suspended"]
    reason: Text


class OrganizationPublic(BaseModel):
    org_id: str
    kind: str
    name: str
    region_code: str
    uscc: str | None = None
    id_number_masked: str | None = None
    contact_name: str | None = None
    contact_phone_masked: str | None = None
    status: Literal["pending", "verified", "rejected", "suspended"]
    first_use: bool = Field(description="Registered on first use by a dispatch, for the bureau to verify")
    registered_by: str | None = None
    registered_at: datetime | None = None
    status_reason: str | None = None
    verified_by: str | None = None


class RevealedOrganization(OrganizationPublic):
    """The audited reveal: a person broker's ID number and the contact phone in full."""

    id_number: str | None = None
    contact_phone: str | None = None


class OrganizationsPublic(BaseModel):
    items: list[OrganizationPublic]
    next_cursor: str | None = None


class OrganizationAccepted(Accepted):
    org_id: str


class SubsidyApply(Write):
    note: Text | None = None


class SubsidyReview(Write):
    decision: Literal["approved", "refused"]
    reason: Text
    checked: list[Line64] = Field(default_factory=list, max_length=20,
                                  description="What the reviewer checked (身份, 就业, 优先群体, 重复享受, 预算 …)")


class SubsidyNotice(Write):
    notice_id: Identifier
    start_date: Day
    days: int | None = Field(default=None, ge=1, le=90, description="Defaults to the region's rules' notice_days")


class SubsidyObjection(Write):
    objection_id: Identifier | None = None
    summary: Text


class SubsidyObjectionDecision(Write):
    objection_id: Identifier
    upheld: bool
    reason: Text


class SubsidyPayment(Write):
    paid_on: Day
    voucher_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), CLEAN]
    amount: Decimal = Field(ge=0, le=10_000_000, max_digits=12, decimal_places=2)


class SubsidyAccepted(Accepted):
    subsidy_id: str
    objection_id: str | None = None


class ObjectionPublic(BaseModel):
    objection_id: str
    summary: str
    raised_on: date
    upheld: bool | None = None
    reason: str | None = None
    decided_on: date | None = None


class SubsidyDetail(SubsidyPublic):
    """An entitlement with its workflow and history (申请 → 审核 → 公示 → 异议 → 发放记录)."""

    application_note: str | None = None
    applied_at: datetime | None = None
    reviewer_id: str | None = None
    reviewed_at: datetime | None = None
    review_reason: str | None = None
    checked: list[str] = Field(default_factory=list)
    notice_start: date | None = None
    objections: list[ObjectionPublic] = Field(default_factory=list)
    paid_amount: Decimal | None = None
    history: list[HistoryItem] = Field(default_factory=list)


class NoticeItem(BaseModel):
    """A line of the public notice (公示名单), masked as public lists are: the ID number keeps its address code."""

    seq: int
    subsidy_id: str
    name: str
    id_number_masked: str
    kind: str
    kind_label: str
    amount: Decimal
    organization_id: str
    organization_name: str | None = None
    notice_id: str
    notice_start: date
    notice_end: date
    status: str
    objections: int


class NoticePublic(BaseModel):
    items: list[NoticeItem]
    total: Decimal = Field(description="The sum of the lines not refused (an upheld objection refuses a line)")


class BudgetPublic(BaseModel):
    rule_region: str
    year: int
    budget: Decimal
    committed: Decimal
    paid: Decimal
    left: Decimal


class BudgetsPublic(BaseModel):
    items: list[BudgetPublic]
