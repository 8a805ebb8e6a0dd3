"""API bodies and answers of priority-group monitoring (务工监测) and alert casework (跟踪帮扶), issue 20.

Everything here is masked (``id_number_masked`` keeps the address code only); the collection sheet's full numbers
come only through the audited reveal (``MonitoringRevealExport``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from schemas.common import CLEAN_MULTILINE, Intention, RegionCode, Strict

Month = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


# ---- monitoring -------------------------------------------------------------------------------------------------
class MonitoringChange(BaseModel):
    previous: int
    vs_previous: int
    vs_previous_pct: Decimal | None
    last_year: int
    vs_last_year: int
    vs_last_year_pct: Decimal | None


class MonitoringRow(BaseModel):
    """Priority-group people of a region in a month: monitored, in work (by distance class), average income."""

    region: str
    region_name: str | None
    month: str
    monitored: int
    in_work: int
    by_distance: dict[str, int]
    income_sum: Decimal
    income_count: int
    average_income: Decimal | None
    change: MonitoringChange
    falling: bool


class DistanceClassLabel(BaseModel):
    key: str
    label: str


class DropRuleOut(BaseModel):
    threshold_pct: Decimal
    min_base: int
    version: str


class MonitoringTable(BaseModel):
    region: str | None
    region_name: str | None
    month: str
    distance_classes: list[DistanceClassLabel]
    total: MonitoringRow | None
    rows: list[MonitoringRow]
    series: list[MonitoringRow]
    rule: DropRuleOut | None


class MonthRecordOut(BaseModel):
    worker_id: str
    month: str
    household_region: str
    in_work: bool
    placement_id: str | None
    destination_region: str | None
    distance: str | None
    distance_label: str | None
    income: Decimal | None
    income_source: str | None
    months_in_work_ytd: int


class MonthRecords(BaseModel):
    items: list[MonthRecordOut]


class ListedPerson(BaseModel):
    worker_id: str
    name: str
    sex: str
    id_number_masked: str
    phone_masked: str | None
    household_region: str
    priority_groups: list[str]
    state: str


class LastContact(BaseModel):
    date: date
    channel: str
    channel_label: str | None
    employment_status: str


class ReturnedHomeItem(BaseModel):
    worker: ListedPerson | None
    returned_on: date
    source: Literal["separation", "followup"]
    placement_id: str
    from_region: str
    from_region_name: str | None
    last_contact: LastContact | None


class ReturnedHomeList(BaseModel):
    items: list[ReturnedHomeItem]


class NotInWorkItem(BaseModel):
    worker: ListedPerson | None
    priority_groups: list[str]
    reason: str
    reason_source: str
    intentions: Intention | None = Field(default=None, description="求职意向 as last stated, with 未就业原因")
    last_placement_id: str | None
    last_contact: LastContact | None


class NotInWorkList(BaseModel):
    month: str
    items: list[NotInWorkItem]


class MonitoringRevealExport(Strict):
    """The collection sheet with full ID numbers and phones: each person one audited reveal, with this purpose."""

    region: RegionCode | None = None
    month: Month | None = None
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=500), CLEAN_MULTILINE]


# ---- casework ---------------------------------------------------------------------------------------------------
class CaseOut(BaseModel):
    alert_id: str
    kind: str
    kind_label: str
    regions: list[str]
    region_name: str | None
    raised_at: datetime
    state: str
    state_label: str
    assignee: str | None
    team: str | None
    acknowledged_at: datetime | None
    acknowledge_by: datetime
    close_by: datetime
    overdue: bool
    closed_at: datetime | None
    outcome: str | None
    outcome_label: str | None
    reopened_at: datetime | None
    escalated_to: str | None
    escalated_to_name: str | None
    escalated_at: datetime | None
    rule_version: str
    worker_id: str | None = None
    placement_id: str | None = None
    detail: str | None = None


class CaseStep(BaseModel):
    event_id: uuid.UUID | None
    type: str
    label: str | None
    occurred_at: datetime
    actor: dict[str, Any] | None
    detail: dict[str, Any]
    changes: dict[str, Any]


class CasePage(CaseOut):
    history: list[CaseStep]


class CaseList(BaseModel):
    items: list[CaseOut]


class CaseFigures(BaseModel):
    region: str | None
    region_name: str | None
    open: int
    overdue: int
    closed: int
    due: int
    closed_in_time: int
    closure_rate: Decimal | None
    median_hours_to_close: float | None


class CaseFiguresOut(BaseModel):
    region: str | None
    kind: str | None
    as_of: datetime
    total: CaseFigures
    rows: list[CaseFigures]


class CaseAccepted(BaseModel):
    event_id: uuid.UUID
    status: Literal["accepted"] = "accepted"
    alert_id: str
