"""One payload model per event (DOMAIN.md), in the past tense, and the registry that maps ``type`` to it.

Personal information travels encrypted: ``*_enc`` fields hold ``enc1:<kid>:<base64>`` ciphertexts
(AES-256-GCM), because Kafka keeps events for replay and is storage too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator
from pydantic_core import PydanticCustomError

from schemas.common import (
    AlertKind,
    BrandCategory,
    BrandLevel,
    BrandStatus,
    Certificate,
    Clean,
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
    PlacementTerms,
    PriorityGroup,
    RegionCode,
    Sex,
    Strict,
    SubsidyKind,
    Text,
    Training,
    Yuan,
)

WorkerId = Clean
Ciphertext = Clean


# ---- brands (劳务品牌资源库) -------------------------------------------------------------------
class BrandRegistered(Strict):
    brand_id: Identifier
    name: Name
    region_code: RegionCode
    category: BrandCategory
    level: BrandLevel
    industry: Line64 | None = None
    occupation_code: OccupationCode | None = None
    operator: Operator | None = None
    trademark_number: Line64 | None = None


class BrandUpdated(Strict):
    brand_id: Identifier
    name: Name | None = None
    region_code: RegionCode | None = None
    category: BrandCategory | None = None
    level: BrandLevel | None = None
    industry: Line64 | None = None
    occupation_code: OccupationCode | None = None
    operator: Operator | None = None
    trademark_number: Line64 | None = None
    integrity_rating: Literal["A", "B", "C", "D"] | None = None


class BrandStatusChanged(Strict):
    brand_id: Identifier
    status: BrandStatus
    reason: Text


# ---- workers (实名制台账) -----------------------------------------------------------------------
class WorkerRegistered(Strict):
    worker_id: WorkerId
    id_number_enc: Ciphertext
    id_number_masked: Clean
    name: Name
    sex: Sex
    birth_date: date
    phone_enc: Ciphertext | None = None
    phone_masked: Clean | None = None
    household_region: RegionCode
    workstation_id: Identifier
    brand_ids: list[Identifier] = Field(default_factory=list, max_length=50)
    priority_groups: list[PriorityGroup] = Field(default_factory=list)
    occupation_code: OccupationCode | None = None
    intention: Intention | None = None  # 求职意向 recorded at registration (issue 19)


class WorkerUpdated(Strict):
    worker_id: WorkerId
    name: Name | None = None
    phone_enc: Ciphertext | None = None
    phone_masked: Clean | None = None
    household_region: RegionCode | None = Field(
        default=None, description="Events of older releases only; the ledger refuses it (see WorkerHouseholdMoved).")
    occupation_code: OccupationCode | None = None
    priority_groups: list[PriorityGroup] | None = None


class WorkerHouseholdMoved(Strict):
    """户籍迁移: the household region changes, with a reason, sent by the jurisdiction of ``from_region``."""

    worker_id: WorkerId
    from_region: RegionCode
    household_region: RegionCode
    reason: Text


class WorkerCertificateAdded(Strict):
    worker_id: WorkerId
    certificate: Certificate


class WorkerTrainingCompleted(Strict):
    worker_id: WorkerId
    training: Training


class WorkerBrandJoined(Strict):
    worker_id: WorkerId
    brand_id: Identifier


class WorkerBrandLeft(Strict):
    """退出品牌: a practitioner leaves a brand (changed occupation, left the trade, the brand was revoked), with why."""

    worker_id: WorkerId
    brand_id: Identifier
    reason: Text


# ---- organized output (有组织劳务输出), placement, follow-up (跟踪服务) --------------------------
class DispatchedWorker(Strict):
    worker_id: WorkerId
    placement_id: Identifier
    position_id: Identifier | None = Field(default=None, description="The position of the dispatch's demand it fills.")


class DispatchCreated(DispatchTerms):
    dispatch_id: Identifier
    placements: list[DispatchedWorker] = Field(min_length=1, max_length=1000)
    agreement_id: Identifier | None = None  # the cooperation agreement (劳务协作) it falls under (issue 19)


class PlacementConfirmed(PlacementTerms):
    placement_id: Identifier
    worker_id: WorkerId


class PlacementRejected(Strict):
    placement_id: Identifier
    worker_id: WorkerId
    employer_id: Identifier
    reason: Text


class PlacementEnded(Strict):
    placement_id: Identifier
    worker_id: WorkerId
    end_date: date
    reason: EndReason


class FollowUpRecorded(FollowUpFacts):
    followup_id: Identifier
    placement_id: Identifier
    worker_id: WorkerId


# ---- job demands (用工需求), intentions (求职意向) (issue 19) ---------------------------------------------
class DemandContact(Strict):
    """Who at the employer answers about the demand; the phone travels encrypted, as every phone does."""

    name: Name
    phone_enc: Ciphertext | None = None
    phone_masked: Clean | None = None


class DemandPosted(Strict):
    """用工需求: an employer's demand, posted by it or by a workstation or bureau on its behalf."""

    demand_id: Identifier
    employer: Employer
    title: Name
    positions: list[DemandPosition] = Field(min_length=1, max_length=50)
    contact: DemandContact
    closing_date: Day
    origin_regions: list[RegionCode] = Field(default_factory=list, max_length=50)
    agreement_id: Identifier | None = Field(default=None, description="A cooperation agreement it is published to.")
    description: Text | None = None

    @field_validator("positions")
    @classmethod
    def _distinct(cls, positions: list[DemandPosition]) -> list[DemandPosition]:
        if len({p.position_id for p in positions}) != len(positions):
            raise PydanticCustomError("duplicate_position", "two positions have the same position_id")
        return positions


class DemandClosed(Strict):
    """The employer closes its demand (filled elsewhere, cancelled); fills that happened before stand."""

    demand_id: Identifier
    employer_id: Identifier
    reason: Text


class WorkerIntentionRecorded(Intention):
    """求职意向 (and 未就业原因) recorded or changed after registration; the newest ``occurred_at`` wins as a whole."""

    worker_id: WorkerId
# ---- organizations and the subsidy workflow (issue 21) ---------------------------------------------------------
OrganizationKind = Literal["employer", "workstation", "service_station", "training_institution",
                           "industry_association", "hr_service_agency", "labour_broker"]


class OrganizationRegistered(Strict):
    """机构登记: a firm by its credit code; a labour broker who is a person by an ID number, encrypted and masked as a
    worker's (the plaintext never travels)."""

    org_id: Identifier
    kind: OrganizationKind
    name: Name
    region_code: RegionCode
    uscc: Line64 | None = None
    id_number_enc: Ciphertext | None = None
    id_number_masked: Clean | None = None
    contact_name: Name | None = None
    contact_phone_enc: Ciphertext | None = None
    contact_phone_masked: Clean | None = None


class OrganizationVerified(Strict):
    """核实: the bureau's verdict on a registration (verified, rejected, suspended), with a reason."""

    org_id: Identifier
    region_code: RegionCode
    status: Literal["verified", "rejected", "suspended"]
    reason: Text


class SubsidyApplied(Strict):
    """申请: by the organizer, or for the person by a workstation. ``origin_region``: the entitlement's."""

    subsidy_id: Clean
    origin_region: RegionCode
    applicant_id: Identifier
    note: Text | None = None


class SubsidyReviewed(Strict):
    """审核: approved or refused with a reason, and what was checked."""

    subsidy_id: Clean
    origin_region: RegionCode
    reviewer_id: Identifier
    decision: Literal["approved", "refused"]
    reason: Text
    checked: list[Line64] = Field(default_factory=list, max_length=20)


class SubsidyNoticed(Strict):
    """公示: on public notice from ``start_date`` for ``days`` days (event time)."""

    subsidy_id: Clean
    origin_region: RegionCode
    notice_id: Identifier
    start_date: date
    days: int = Field(ge=1, le=90)


class SubsidyObjectionRaised(Strict):
    """异议: recorded by the bureau while the notice runs."""

    subsidy_id: Clean
    origin_region: RegionCode
    objection_id: Identifier
    summary: Text


class SubsidyObjectionDecided(Strict):
    subsidy_id: Clean
    origin_region: RegionCode
    objection_id: Identifier
    upheld: bool
    reason: Text


class SubsidyPaid(Strict):
    """发放记录: the platform records a payment made elsewhere (date, voucher number, amount); it does not pay."""

    subsidy_id: Clean
    origin_region: RegionCode
    paid_on: date
    voucher_number: Line64
    amount: Yuan


# ---- cooperation agreements (劳务协作, issue 19) ----------------------------------------------------
class AgreementSigned(Strict):
    """签订劳务协作协议: an origin and a destination region (province, city or county each), both bureaus, the
    period, the target headcount and the brands it is for (none: every brand)."""

    agreement_id: Identifier
    name: Name
    origin_region: RegionCode
    destination_region: RegionCode
    origin_bureau_id: Identifier
    destination_bureau_id: Identifier
    start_date: Day
    end_date: Day
    target_headcount: int = Field(ge=1, le=10_000_000)
    brand_ids: list[Identifier] = Field(default_factory=list, max_length=50)


class AgreementUpdated(Strict):
    """变更: what may change of an agreement still in force (regions and parties may not: sign a new one)."""

    agreement_id: Identifier
    name: Name | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    target_headcount: int | None = Field(default=None, ge=1, le=10_000_000)
    brand_ids: list[Identifier] | None = Field(default=None, max_length=50)


class AgreementEnded(Strict):
    """终止: ended early, on ``end_date``, with a reason; later departures are no longer covered."""

    agreement_id: Identifier
    end_date: Day
    reason: Text


# ---- derived events ---------------------------------------------------------------------------
class LedgerChanged(BaseModel):
    """Emitted after a ledger transaction commits; before/after let a processor compute deltas."""

    entity: Literal["worker", "brand", "dispatch", "placement", "followup"]
    entity_id: str
    cause_event_id: str
    cause_type: str
    regions: list[RegionCode] = Field(default_factory=list)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    facts: dict[str, Any] | None = None
    """What the cause found beyond the entity's view: a follow-up's date, status and wage (monitoring, issue 20)."""


class StatsUpdated(BaseModel):
    scope: Literal["overview", "region", "brand"]
    scope_id: str
    figures: dict[str, Any]


class AlertRaised(BaseModel):
    alert_id: str
    kind: AlertKind
    worker_id: WorkerId
    placement_id: str | None = None
    regions: list[RegionCode] = Field(default_factory=list)
    due_at: date | None = None


class AlertClosed(BaseModel):
    alert_id: str
    kind: AlertKind
    worker_id: WorkerId
    placement_id: str | None = None
    regions: list[RegionCode] = Field(default_factory=list)


class SubsidyAccrued(BaseModel):
    kind: SubsidyKind
    worker_id: WorkerId
    organization_id: str
    placement_id: str
    amount: Yuan
    rule_version: str


# ---- alert casework (issue 20) --------------------------------------------------------------------------------
AlertRef = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
"""An alert's id (``kind:subject[:suffix]``, e.g. ``wage_arrears:pl-…:fu-…``): deterministic, longer than a client id."""
Username = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9._-]+$")]
CaseAction = Literal["phone_visit", "home_visit", "labor_inspection", "legal_aid", "job_referral"]
CaseOutcome = Literal["resolved", "referred", "unreachable", "no_action_needed"]


class AlertAssigned(Strict):
    """分派: the case goes to an account (a user name) or a team (an organization id), or both."""

    alert_id: AlertRef
    assignee: Username | None = None
    team: Identifier | None = None
    note: Text | None = None


class AlertAcknowledged(Strict):
    """签收: someone answers for the case from now on (the deadline to acknowledge is met or missed here)."""

    alert_id: AlertRef
    note: Text | None = None


class AlertWorked(Strict):
    """跟踪办理: a note, an action taken (电话回访, 上门走访, 转劳动监察, 法律援助, 再就业推荐), or both."""

    alert_id: AlertRef
    action: CaseAction | None = None
    note: Text | None = None


class AlertResolved(Strict):
    """办结: closed by a person with an outcome (the alert's own closing, ``alert.closed``, is the ledger's)."""

    alert_id: AlertRef
    outcome: CaseOutcome
    note: Text | None = None


class AlertReopened(Strict):
    """重新打开: a closed case is worked again, with why."""

    alert_id: AlertRef
    reason: Text


class AlertEscalated(BaseModel):
    """Derived by the sweeper: not acknowledged by its deadline, the case goes to the bureau one level up."""

    alert_id: str
    kind: str
    worker_id: WorkerId
    regions: list[RegionCode] = Field(default_factory=list)
    escalated_to: RegionCode
    rule_version: str
# ---- brand dynamic management (动态管理, issue 21) ----
ApplicationKind = Literal["entry", "promotion"]
"""入库 (a candidate brand into the library) or 晋级 (a listed brand one level up or more)."""
RecheckDecision = Literal["keep", "promote", "warn", "suspend", "revoke"]
PersonTitle = Literal["founder", "inheritor", "leader", "ambassador"]
"""典型人物: 创立人, 传承人, 领军人, 形象代言人."""
Grade = Literal["A", "B", "C", "D"]


class CriterionVerdict(Strict):
    """One entry criterion judged: the figure, its bound, the threshold, the value (None: nothing to judge)."""

    figure: Identifier
    label: Line64
    bound: Literal["min", "max"]
    threshold: Decimal
    value: Decimal | None = None
    met: bool


class BrandFigures(Strict):
    """A brand's figures from the ledger (``laowu.domain.brand_criteria.Figures``): counts and the sums that rates
    and averages are made of."""

    members: int = Field(ge=0)
    trained: int = Field(ge=0)
    certified: int = Field(ge=0)
    placed: int = Field(ge=0)
    retention_3m_due: int = Field(ge=0)
    retention_3m_kept: int = Field(ge=0)
    retention_6m_due: int = Field(ge=0)
    retention_6m_kept: int = Field(ge=0)
    wage_sum: Decimal
    wage_count: int = Field(ge=0)
    wage_arrears_alerts: int = Field(ge=0)
    injury_alerts: int = Field(ge=0)
    satisfaction_sum: int = Field(ge=0)
    satisfaction_count: int = Field(ge=0)


class CriteriaEvaluation(Strict):
    """入库标准 of one level judged against a brand's figures, under a rules version and the region rule that applied."""

    level: BrandLevel
    region_rule: Line64
    rules_version: Line64
    met: bool
    failed: list[Identifier] = Field(default_factory=list, max_length=50)
    criteria: list[CriterionVerdict] = Field(max_length=50)
    figures: BrandFigures


class ItemScore(Strict):
    item: Identifier
    score: int = Field(ge=0, le=1000)


class BrandApplicationSubmitted(Strict):
    """入库/晋级申请, with the criteria the platform evaluated from the ledger when it was submitted
    (``laowu.domain.brand_criteria.Evaluation.public``): reviewers judge what the figures were, not what they became."""

    brand_id: Identifier
    application_id: Identifier
    kind: ApplicationKind
    target_level: BrandLevel
    evaluation: CriteriaEvaluation
    note: Text | None = None


class BrandReviewersAssigned(Strict):
    """评审专家 assigned to an application, by account user name."""

    brand_id: Identifier
    application_id: Identifier
    reviewers: list[Identifier] = Field(min_length=1, max_length=15)


class BrandReviewScored(Strict):
    """A reviewer's scores on the rubric (``data/brand_rules.json``); ``reviewer`` is the sender's account."""

    brand_id: Identifier
    application_id: Identifier
    reviewer: Identifier
    scores: list[ItemScore] = Field(min_length=1, max_length=20)
    comment: Text | None = None


class BrandApplicationDecided(Strict):
    """The bureau closes a review; the decision rule decides from the scores (the outcome is in the history)."""

    brand_id: Identifier
    application_id: Identifier
    reason: Text | None = None


class BrandRecheckDecided(Strict):
    """年度复核: the platform's proposal and the figures it came from, and the bureau's decision with its reason."""

    brand_id: Identifier
    year: int = Field(ge=2000, le=2100)
    proposal: RecheckDecision
    reasons: list[Text] = Field(default_factory=list, max_length=20)
    evaluation: CriteriaEvaluation
    integrity_grade: Grade | None = None
    decision: RecheckDecision
    reason: Text


class BrandComplaintRecorded(Strict):
    """A complaint (投诉) or labour dispute (劳动争议) about a brand: an input of its integrity rating."""

    brand_id: Identifier
    complaint_id: Identifier
    kind: Literal["complaint", "dispute"]
    summary: Text
    substantiated: bool


class BrandPersonNamed(Strict):
    """典型人物 of a brand: a registered worker (``worker_id``) or a named person (``name``, phone encrypted)."""

    brand_id: Identifier
    person_id: Identifier
    title: PersonTitle
    worker_id: WorkerId | None = None
    name: Name | None = None
    phone_enc: Ciphertext | None = None
    phone_masked: Clean | None = None
    story: Text | None = None


# ---- the event catalogue ----------------------------------------------------------------------------
# Who may send an event through the API (the batch door checks each item against it); derived events (the
# ledger's, the stream workers', the sweeper's) have no senders: no client may send them.
LIBRARY = frozenset({"bureau", "admin"})
FIELD = frozenset({"workstation", "admin"})
STAFF = frozenset({"workstation", "bureau", "admin"})
DERIVED: frozenset[str] = frozenset()
REVIEWERS = frozenset({"reviewer"})  # 评审专家 (issue 21): only the expert scores, an admin must not forge it


@dataclass(frozen=True)
class EventSpec:
    """One event type, declared once: what it carries, where it travels, who may send it, what scopes it.

    ``org_field`` must name the sender's own organization; ``region_field`` must lie in the sender's jurisdiction
    (``api.scoping``). ``key`` is the payload field the partition key is taken from (for a derived event, what it
    is keyed by).
    """

    name: str
    payload: type[BaseModel]
    topic: str
    key: str
    senders: frozenset[str] = DERIVED
    org_field: str | None = None
    region_field: str | None = None
    versions: frozenset[int] = frozenset({1})


_W, _B, _D = "laowu.workers.v1", "laowu.brands.v1", "laowu.dispatches.v1"
CATALOGUE: tuple[EventSpec, ...] = (
    EventSpec("brand.registered", BrandRegistered, _B, "brand_id", LIBRARY, region_field="region_code"),
    EventSpec("brand.updated", BrandUpdated, _B, "brand_id", LIBRARY, region_field="region_code"),
    EventSpec("brand.status_changed", BrandStatusChanged, _B, "brand_id", LIBRARY),
    EventSpec("worker.registered", WorkerRegistered, _W, "worker_id", FIELD, "workstation_id", "household_region"),
    EventSpec("worker.updated", WorkerUpdated, _W, "worker_id", FIELD),
    # the current household region: its jurisdiction moves the person (户籍迁移)
    EventSpec("worker.household_moved", WorkerHouseholdMoved, _W, "worker_id", STAFF, region_field="from_region"),
    EventSpec("worker.certificate_added", WorkerCertificateAdded, _W, "worker_id", FIELD),
    EventSpec("worker.training_completed", WorkerTrainingCompleted, _W, "worker_id", FIELD),
    EventSpec("worker.brand_joined", WorkerBrandJoined, _W, "worker_id", FIELD),
    EventSpec("worker.brand_left", WorkerBrandLeft, _W, "worker_id", FIELD),
    EventSpec("dispatch.created", DispatchCreated, _D, "dispatch_id", FIELD, "organizer_id", "origin_region"),
    EventSpec("placement.confirmed", PlacementConfirmed, _W, "worker_id", frozenset({"employer"}), "employer_id"),
    EventSpec("placement.rejected", PlacementRejected, _W, "worker_id", frozenset({"employer"}), "employer_id"),
    EventSpec("placement.ended", PlacementEnded, _W, "worker_id", frozenset({"employer", "workstation"})),
    EventSpec("followup.recorded", FollowUpRecorded, _W, "worker_id", frozenset({"workstation"})),
    EventSpec("ledger.changed", LedgerChanged, "laowu.ledger-changes.v1", "the worker's or the brand's id"),
    EventSpec("stats.updated", StatsUpdated, "laowu.stats.v1", "scope:scope_id"),
    EventSpec("alert.raised", AlertRaised, "laowu.alerts.v1", "worker_id"),
    EventSpec("alert.closed", AlertClosed, "laowu.alerts.v1", "worker_id"),
    EventSpec("subsidy.accrued", SubsidyAccrued, "laowu.subsidies.v1", "worker_id"),
    # alert casework (issue 20): people's steps travel with the workers' events, keyed by the alert
    EventSpec("alert.assigned", AlertAssigned, _W, "alert_id", STAFF),
    EventSpec("alert.acknowledged", AlertAcknowledged, _W, "alert_id", STAFF),
    EventSpec("alert.worked", AlertWorked, _W, "alert_id", STAFF),
    EventSpec("alert.resolved", AlertResolved, _W, "alert_id", STAFF),
    EventSpec("alert.reopened", AlertReopened, _W, "alert_id", STAFF),
    EventSpec("alert.escalated", AlertEscalated, "laowu.alerts.v1", "worker_id"),
    # brand dynamic management (动态管理, issue 21): on the brand's partition, in order with its other events
    EventSpec("brand.application_submitted", BrandApplicationSubmitted, _B, "brand_id", LIBRARY),
    EventSpec("brand.reviewers_assigned", BrandReviewersAssigned, _B, "brand_id", LIBRARY),
    EventSpec("brand.review_scored", BrandReviewScored, _B, "brand_id", REVIEWERS),
    EventSpec("brand.application_decided", BrandApplicationDecided, _B, "brand_id", LIBRARY),
    EventSpec("brand.recheck_decided", BrandRecheckDecided, _B, "brand_id", LIBRARY),
    EventSpec("brand.complaint_recorded", BrandComplaintRecorded, _B, "brand_id", STAFF),
    EventSpec("brand.person_named", BrandPersonNamed, _B, "brand_id", LIBRARY),
    # job demands, intentions (issue 19): a demand's events travel on the dispatches' topic, keyed by the demand
    EventSpec("demand.posted", DemandPosted, _D, "demand_id", frozenset({"employer", "workstation", "bureau", "admin"})),
    EventSpec("demand.closed", DemandClosed, _D, "demand_id", frozenset({"employer", "workstation", "bureau", "admin"})),
    EventSpec("worker.intention_recorded", WorkerIntentionRecorded, _W, "worker_id", STAFF),
    # organizations and the subsidy workflow (issue 21): the registry travels with the library, a claim's events
    # with the dispatches, keyed by the subsidy; the bureau of the entitlement's origin decides
    EventSpec("organization.registered", OrganizationRegistered, _B, "org_id", STAFF, region_field="region_code"),
    EventSpec("organization.verified", OrganizationVerified, _B, "org_id", LIBRARY, region_field="region_code"),
    EventSpec("subsidy.applied", SubsidyApplied, _D, "subsidy_id", FIELD, "applicant_id", "origin_region"),
    EventSpec("subsidy.reviewed", SubsidyReviewed, _D, "subsidy_id", LIBRARY, "reviewer_id", "origin_region"),
    EventSpec("subsidy.noticed", SubsidyNoticed, _D, "subsidy_id", LIBRARY, region_field="origin_region"),
    EventSpec("subsidy.objection_raised", SubsidyObjectionRaised, _D, "subsidy_id", LIBRARY,
              region_field="origin_region"),
    EventSpec("subsidy.objection_decided", SubsidyObjectionDecided, _D, "subsidy_id", LIBRARY,
              region_field="origin_region"),
    EventSpec("subsidy.paid", SubsidyPaid, _D, "subsidy_id", LIBRARY, region_field="origin_region"),
    # cooperation agreements (劳务协作, issue 19): bureaus of either side; the handler checks the sides
    EventSpec("agreement.signed", AgreementSigned, _B, "agreement_id", LIBRARY),
    EventSpec("agreement.updated", AgreementUpdated, _B, "agreement_id", LIBRARY),
    EventSpec("agreement.ended", AgreementEnded, _B, "agreement_id", LIBRARY),
)
SPECS: dict[str, EventSpec] = {spec.name: spec for spec in CATALOGUE}

PAYLOADS: dict[str, type[BaseModel]] = {spec.name: spec.payload for spec in CATALOGUE}
SCHEMA_VERSIONS: dict[str, frozenset[int]] = {spec.name: spec.versions for spec in CATALOGUE}
"""Versions each type accepts; a new version is added to its entry with its model before producers send it."""

# The type checker needs the names as a Literal; tests/unit/test_catalogue.py holds it to the catalogue.
EventType = Literal[
    "brand.registered",
    "brand.updated",
    "brand.status_changed",
    "worker.registered",
    "worker.updated",
    "worker.household_moved",
    "worker.certificate_added",
    "worker.training_completed",
    "worker.brand_joined",
    "worker.brand_left",
    "dispatch.created",
    "placement.confirmed",
    "placement.rejected",
    "placement.ended",
    "followup.recorded",
    "ledger.changed",
    "stats.updated",
    "alert.raised",
    "alert.closed",
    "subsidy.accrued",
    "alert.assigned",
    "alert.acknowledged",
    "alert.worked",
    "alert.resolved",
    "alert.reopened",
    "alert.escalated",
    "brand.application_submitted",
    "brand.reviewers_assigned",
    "brand.review_scored",
    "brand.application_decided",
    "brand.recheck_decided",
    "brand.complaint_recorded",
    "brand.person_named",
    "demand.posted",
    "demand.closed",
    "worker.intention_recorded",
    "organization.registered",
    "organization.verified",
    "subsidy.applied",
    "subsidy.reviewed",
    "subsidy.noticed",
    "subsidy.objection_raised",
    "subsidy.objection_decided",
    "subsidy.paid",
    "agreement.signed",
    "agreement.updated",
    "agreement.ended",
]
