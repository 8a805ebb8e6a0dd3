"""HTTP models of issue 19's cooperation between regions: agreements (劳务协作), flows (劳务流向) and posted
workstations (驻外工作站). ``XCreate`` in, ``XPublic`` out, as ``schemas.api``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from schemas.api import Write
from schemas.common import Day, Identifier, Name, RegionCode, Strict, Text


class AgreementCreate(Write):
    """签订劳务协作协议. ``agreement_id`` is generated when absent."""

    agreement_id: Identifier | None = None
    name: Name
    origin_region: RegionCode
    destination_region: RegionCode
    origin_bureau_id: Identifier
    destination_bureau_id: Identifier
    start_date: Day
    end_date: Day
    target_headcount: int = Field(ge=1, le=10_000_000)
    brand_ids: list[Identifier] = Field(default_factory=list, max_length=50)


class AgreementPatch(Write):
    name: Name | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    target_headcount: int | None = Field(default=None, ge=1, le=10_000_000)
    brand_ids: list[Identifier] | None = Field(default=None, max_length=50)


class AgreementEnd(Write):
    end_date: Day
    reason: Text


class AgreementProgress(BaseModel):
    """Counted from the dispatches that name the agreement (applied ones)."""

    dispatches: int
    dispatched: int = Field(description="distinct people dispatched under the agreement")
    placements: int = Field(description="placements created (person-times)")
    confirmed: int = Field(description="distinct people whose placement under the agreement was confirmed")
    target_headcount: int
    share: float = Field(description="dispatched ÷ target headcount, 0-1 (may exceed 1), six decimals")


class AgreementPublic(BaseModel):
    agreement_id: str
    name: str
    origin_region: str
    origin_region_name: str | None = None
    destination_region: str
    destination_region_name: str | None = None
    origin_bureau_id: str
    destination_bureau_id: str
    start_date: date
    end_date: date
    target_headcount: int
    brand_ids: list[str]
    status: Literal["active", "ended"]
    ended_on: date | None = None
    end_reason: str | None = None
    version: int
    updated_at: datetime
    progress: AgreementProgress


class AgreementsPublic(BaseModel):
    items: list[AgreementPublic]
    next_cursor: str | None = None


class FlowPublic(BaseModel):
    origin_region: str
    origin_region_name: str | None = None
    destination_region: str
    destination_region_name: str | None = None
    distance_class: Literal["cross_province", "cross_city", "cross_county", "in_county"]
    distance_label: str
    month: str | None = Field(default=None, description="YYYY-MM when split by month")
    brand_id: str | None = Field(default=None, description="when split by brand")
    sent: int
    confirmed: int


class FlowsPublic(BaseModel):
    level: Literal["province", "city", "county"]
    items: list[FlowPublic]
    totals: dict[str, int] = Field(description="people sent per distance class")


class PostingCreate(Strict):
    """驻外工作站: a workstation posted to a destination region sees the people sent into it, masked."""

    posted_region: RegionCode
    note: Text | None = None


class PostingPublic(BaseModel):
    workstation_id: str
    posted_region: str
    posted_region_name: str | None = None
    note: str | None = None
    posted_by: str
    posted_at: datetime


class PostingsPublic(BaseModel):
    items: list[PostingPublic]
    next_cursor: str | None = None


class ReceivedPublic(BaseModel):
    """One person sent into the caller's region (输入地) and the active placement that brought them, masked."""

    worker_id: str
    id_number_masked: str
    name: str
    sex: str
    birth_month: str
    household_region: str
    household_region_name: str | None = None
    brand_ids: list[str]
    placement_id: str
    dispatch_id: str
    origin_region: str
    origin_region_name: str | None = None
    destination_region: str
    destination_region_name: str | None = None
    employer_id: str
    employer_name: str
    status: Literal["dispatched", "confirmed"]
    departure_date: date
    start_date: date | None = None
    position: str | None = None
    brand_id: str
    agreement_id: str | None = None


class ReceivedListPublic(BaseModel):
    items: list[ReceivedPublic]
    next_cursor: str | None = None
