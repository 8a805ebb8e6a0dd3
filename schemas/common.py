"""Vocabulary shared by events and API bodies (enumerations from DOMAIN.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

RegionCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
"""GB/T 2260 six-digit administrative division code (行政区划代码)."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
"""Ids chosen by clients (brand_id, workstation_id, employer_id …): ASCII, URL- and key-safe."""

OccupationCode = Annotated[str, StringConstraints(pattern=r"^\d-\d{2}-\d{2}-\d{2}$")]
"""职业分类大典 code, e.g. ``4-03-02-01``."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Yuan = Annotated[Decimal, Field(ge=0, le=10_000_000, max_digits=12, decimal_places=2)]

Sex = Literal["M", "F"]
BrandCategory = Literal["skilled", "service", "culture_tourism", "livelihood", "agriculture"]
BrandLevel = Literal["national", "provincial", "municipal", "county"]
BrandStatus = Literal["candidate", "listed", "demonstration", "suspended", "revoked"]
OperatorKind = Literal["leading_enterprise", "training_institution", "industry_association", "hr_service_agency"]
PriorityGroup = Literal[
    "poverty_alleviated", "rural_low_income", "relocated", "left_behind_women", "disabled", "veteran"
]
CertificateKind = Literal["qualification", "skill_level", "special_ability", "special_operation"]
WorkerState = Literal["registered", "dispatched", "placed", "separated", "returned"]
DispatchMode = Literal["directed_interregional", "direct_intake", "cooperation"]
PlacementStatus = Literal["dispatched", "confirmed", "rejected", "ended"]
EndReason = Literal["contract_ended", "resigned", "dismissed", "returned_home", "injury"]
FollowUpChannel = Literal["phone", "visit", "online"]
EmploymentStatus = Literal["on_job", "changed_job", "unemployed", "returned_home"]
Problem = Literal["wage_arrears", "no_contract", "injury", "dispute"]
AlertKind = Literal["unconfirmed_placement", "followup_overdue", "wage_arrears", "injury", "early_separation"]
SubsidyKind = Literal["transport", "social_insurance", "employment_service"]
Role = Literal["workstation", "employer", "bureau", "admin"]


class Strict(BaseModel):
    """Unknown fields are an error: a typo in a field name must not silently drop data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Operator(Strict):
    """Brand operating organization (创建承办单位)."""

    name: Name
    uscc: str | None = Field(default=None, max_length=40, description="统一社会信用代码, 18 characters")
    kind: OperatorKind


class Certificate(Strict):
    """职业资格证书 · 职业技能等级证书 (levels 1–5) · 专项职业能力证书 · 特种作业操作证."""

    kind: CertificateKind
    name: Name
    level: int | None = Field(default=None, ge=1, le=5)
    number: str | None = Field(default=None, max_length=64)
    issuer: str | None = Field(default=None, max_length=128)
    issued_on: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class Training(Strict):
    name: Name
    provider: str | None = Field(default=None, max_length=128)
    hours: int | None = Field(default=None, ge=1, le=10_000)
    completed_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    occupation_code: OccupationCode | None = None


class Employer(Strict):
    employer_id: Identifier
    name: Name
    uscc: str | None = Field(default=None, max_length=40)


class Actor(Strict):
    """Who sent an event, as authenticated by the API — never taken from a request body."""

    role: Role
    org: str
    region: RegionCode | None = None
    subject: str | None = None


class PlacementTerms(Strict):
    """What an employer states when it confirms a placement (入职确认)."""

    employer_id: Identifier
    position: Name
    start_date: date
    monthly_wage: Yuan
    contract: bool
    contract_months: int | None = Field(default=None, ge=1, le=120)


class FollowUpFacts(Strict):
    """What a follow-up visit or call (跟踪服务) found."""

    date: date
    channel: FollowUpChannel
    employment_status: EmploymentStatus
    monthly_wage: Yuan | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    problems: list[Problem] = Field(default_factory=list)
    services: list[Text] = Field(default_factory=list, max_length=20)


class DispatchTerms(Strict):
    """An organized labor output (有组织劳务输出) as the organizer states it: who sends whom, where, when."""

    organizer_id: Identifier
    brand_id: Identifier
    mode: DispatchMode
    origin_region: RegionCode
    destination_region: RegionCode
    employer: Employer
    positions: list[Name] = Field(default_factory=list, max_length=50)
    departure_date: date
    group_transport: bool = False
