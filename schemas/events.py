"""One payload model per event (DOMAIN.md), in the past tense, and the registry that maps ``type`` to it.

Personal information travels encrypted: ``*_enc`` fields hold ``enc1:<kid>:<base64>`` ciphertexts
(AES-256-GCM), because Kafka keeps events for replay and is storage too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.common import (
    AlertKind,
    BrandCategory,
    BrandLevel,
    BrandStatus,
    Certificate,
    Clean,
    DispatchTerms,
    EndReason,
    FollowUpFacts,
    Identifier,
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


class DispatchCreated(DispatchTerms):
    dispatch_id: Identifier
    placements: list[DispatchedWorker] = Field(min_length=1, max_length=1000)


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


# ---- the event catalogue ----------------------------------------------------------------------------
# Who may send an event through the API (the batch door checks each item against it); derived events (the
# ledger's, the stream workers', the sweeper's) have no senders: no client may send them.
LIBRARY = frozenset({"bureau", "admin"})
FIELD = frozenset({"workstation", "admin"})
STAFF = frozenset({"workstation", "bureau", "admin"})
DERIVED: frozenset[str] = frozenset()


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
    "organization.registered",
    "organization.verified",
    "subsidy.applied",
    "subsidy.reviewed",
    "subsidy.noticed",
    "subsidy.objection_raised",
    "subsidy.objection_decided",
    "subsidy.paid",
]
