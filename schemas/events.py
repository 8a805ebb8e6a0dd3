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
    Day,
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
    "agreement.signed",
    "agreement.updated",
    "agreement.ended",
]
