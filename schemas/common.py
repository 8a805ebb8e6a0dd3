"""Vocabulary shared by events and API bodies (enumerations from DOMAIN.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

RegionCode = Annotated[str, StringConstraints(pattern=r"^\d{6}$")]
"""GB/T 2260 six-digit administrative division code (行政区划代码)."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
"""Ids chosen by clients (brand_id, workstation_id, employer_id …): ASCII, URL- and key-safe."""

OccupationCode = Annotated[str, StringConstraints(pattern=r"^\d-\d{2}-\d{2}-\d{2}$")]
"""职业分类大典 code, e.g. ``4-03-02-01``."""

# "Clean text": what PostgreSQL can store in text/jsonb and a clerk can see. U+0000 cannot be stored at all (one
# such event once halted the ledger); other C0/C1 controls are invisible and break spreadsheets; lone surrogates
# cannot be encoded as UTF-8; non-characters are not text. Tab, line feed and carriage return are allowed only in
# multi-line text (reasons, notes).
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_NOT_TEXT = "\ud800-\udfff\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
_UNCLEAN_MULTILINE = re.compile(f"[{_CONTROLS}{_NOT_TEXT}]")
_UNCLEAN_ONE_LINE = re.compile(f"[\t\n\r{_CONTROLS}{_NOT_TEXT}]")


def unclean_character(value: str, multiline: bool = False) -> str | None:
    """The first character of ``value`` that is not clean text, as ``U+XXXX``; None when it is clean.

    The one definition every door uses: request bodies and Kafka payloads (through the types below), query and path
    parameters (api.middleware), Excel/CSV rows (their ``WorkerCreate``).
    """
    found = (_UNCLEAN_MULTILINE if multiline else _UNCLEAN_ONE_LINE).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def scrub(value: str) -> str:
    """``value`` with every unclean character replaced by U+FFFD: for text we must store although it came from a
    message we refuse (a receipt's reason, source and type), so that refusing it cannot fail in turn."""
    return _UNCLEAN_MULTILINE.sub("\ufffd", value)


# The same rule as a JSON Schema ``pattern`` for the OpenAPI document, so that clients and fuzzers know it. ECMA-262
# escapes only, and only what common regex engines can express: lone surrogates (which no UTF-8 body can carry
# unescaped) and the astral non-characters (U+1FFFE …, no portable escape) are left out; the server still refuses
# them.
_PATTERN_NOT_TEXT = r"\uFDD0-\uFDEF\uFFFE\uFFFF"
_PATTERN_CONTROLS = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F"
CLEAN_PATTERN = f"^[^\\t\\n\\r{_PATTERN_CONTROLS}{_PATTERN_NOT_TEXT}]*$"
CLEAN_MULTILINE_PATTERN = f"^[^{_PATTERN_CONTROLS}{_PATTERN_NOT_TEXT}]*$"


@dataclass(frozen=True)
class CleanText:
    """Annotation that checks clean text (``unclean_character``) after the type's own checks, and documents it as
    the ``pattern`` of the field's JSON Schema."""

    multiline: bool

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
                                     ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", CLEAN_MULTILINE_PATTERN if self.multiline else CLEAN_PATTERN)
        return json_schema

    def check(self, value: str) -> str:
        bad = unclean_character(value, self.multiline)
        if bad is not None:
            raise PydanticCustomError(
                "string_unclean", "含有不可见或无法保存的字符 {char} (control characters, surrogates and "
                "non-characters are refused)", {"char": bad})
        return value


CLEAN = CleanText(multiline=False)
CLEAN_MULTILINE = CleanText(multiline=True)


# One-line free text by its longest length (uscc as typed, certificate numbers, issuers, providers, industries).
Clean = Annotated[str, CLEAN]
"""Any length, clean (ids and ciphertexts computed by the API, checked again when a payload is read from Kafka)."""
Line40 = Annotated[str, StringConstraints(max_length=40), CLEAN]
Line64 = Annotated[str, StringConstraints(max_length=64), CLEAN]
Line128 = Annotated[str, StringConstraints(max_length=128), CLEAN]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), CLEAN]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), CLEAN_MULTILINE]


def _written(value: object) -> object:
    """Dates and timestamps arrive as text (API.md: ``YYYY-MM-DD``, RFC 3339 with offset). Pydantic's lax mode
    would also take a number as seconds since 1970, so ``"occurred_at": 0`` became 1970-01-01: refused instead."""
    if isinstance(value, (int, float, Decimal)):
        raise PydanticCustomError("date_text", "a date or timestamp must be written as text (YYYY-MM-DD, or RFC 3339 "
                                  "with an offset), not a number")
    return value


Day = Annotated[date, BeforeValidator(_written)]
"""A calendar date as ``YYYY-MM-DD``."""
Timestamp = Annotated[AwareDatetime, BeforeValidator(_written)]
"""An instant as RFC 3339 with an offset."""

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
AlertKind = Literal[
    "unconfirmed_placement", "followup_overdue", "wage_arrears", "injury", "early_separation", "employment_drop"
]
SubsidyKind = Literal["transport", "social_insurance", "employment_service", "migrant_bonus"]
Role = Literal["workstation", "employer", "bureau", "admin", "reviewer"]


class Strict(BaseModel):
    """Unknown fields are an error: a typo in a field name must not silently drop data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Operator(Strict):
    """Brand operating organization (创建承办单位)."""

    name: Name
    uscc: Line40 | None = Field(default=None, description="统一社会信用代码, 18 characters")
    kind: OperatorKind


class Certificate(Strict):
    """职业资格证书 · 职业技能等级证书 (levels 1–5) · 专项职业能力证书 · 特种作业操作证."""

    kind: CertificateKind
    name: Name
    level: int | None = Field(default=None, ge=1, le=5)
    number: Line64 | None = None
    issuer: Line128 | None = None
    issued_on: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


class Training(Strict):
    name: Name
    provider: Line128 | None = None
    hours: int | None = Field(default=None, ge=1, le=10_000)
    completed_on: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    occupation_code: OccupationCode | None = None


class Employer(Strict):
    employer_id: Identifier
    name: Name
    uscc: Line40 | None = None


class Actor(Strict):
    """Who sent an event, as authenticated by the API — never taken from a request body."""

    role: Role
    org: Clean
    region: RegionCode | None = None
    subject: Clean | None = None


class PlacementTerms(Strict):
    """What an employer states when it confirms a placement (入职确认)."""

    employer_id: Identifier
    position: Name
    start_date: Day
    monthly_wage: Yuan
    contract: bool
    contract_months: int | None = Field(default=None, ge=1, le=120)


class FollowUpFacts(Strict):
    """What a follow-up visit or call (跟踪服务) found."""

    date: Day
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
    departure_date: Day
    group_transport: bool = False
    demand_id: Identifier | None = Field(default=None, description="The job demand (用工需求) this dispatch fills.")


# ---- job demands and intentions (issue 19) ----------------------------------------------------------------------
NotWorkingReason = Literal["caring_for_family", "illness", "disability", "in_training", "no_suitable_job",
                           "seasonal_farming", "waiting_for_work", "other"]
"""未就业原因: why a person of working age is not in work (照料家庭, 疾病, 残疾, 参加培训, 无合适岗位, 农忙, 待岗, 其他)."""


class Intention(Strict):
    """求职意向: what a person wants; recorded at registration or later, newest ``occurred_at`` wins as a whole."""

    occupations: list[OccupationCode] = Field(default_factory=list, max_length=10)
    destinations: list[RegionCode] = Field(default_factory=list, max_length=20)
    min_monthly_wage: Yuan | None = None
    available_from: Day | None = None
    training_wanted: list[Name] = Field(default_factory=list, max_length=10)
    not_working_reason: NotWorkingReason | None = None


class RequiredCertificate(Strict):
    """A certificate a position requires: of this kind (and name, if given), at ``level`` or higher (职业技能等级
    1–5, 1 = 一级/高级技师 the highest; so a worker's level must be at most this number)."""

    kind: CertificateKind
    name: Name | None = None
    level: int | None = Field(default=None, ge=1, le=5)


class DemandPosition(Strict):
    """One position (岗位) of a job demand."""

    position_id: Identifier
    title: Name
    occupation_code: OccupationCode
    headcount: int = Field(ge=1, le=10_000)
    wage_min: Yuan
    wage_max: Yuan
    work_region: RegionCode
    start_date: Day
    certificates: list[RequiredCertificate] = Field(default_factory=list, max_length=10)
    age_min: int | None = Field(default=None, ge=16, le=70)
    age_max: int | None = Field(default=None, ge=16, le=70)
    brand_id: Identifier | None = Field(default=None, description="A brand preferred (劳务品牌优先).")
    reserved_posts: int = Field(default=0, ge=0, le=10_000, description="Posts set aside for priority groups (爱心岗位).")

    # Field-level, so a form shows the message at the field; in the model, so every door (Kafka too) agrees.
    @field_validator("wage_max")
    @classmethod
    def _wage_range(cls, v: Decimal, info: ValidationInfo) -> Decimal:
        low = info.data.get("wage_min")
        if low is not None and v < low:
            raise PydanticCustomError("wage_range", "wage_max must not be below wage_min ({low})", {"low": str(low)})
        return v

    @field_validator("age_max")
    @classmethod
    def _age_range(cls, v: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("age_min")
        if v is not None and low is not None and v < low:
            raise PydanticCustomError("age_range", "age_max must not be below age_min ({low})", {"low": low})
        return v

    @field_validator("reserved_posts")
    @classmethod
    def _reserved(cls, v: int, info: ValidationInfo) -> int:
        headcount = info.data.get("headcount")
        if headcount is not None and v > headcount:
            raise PydanticCustomError("reserved_posts", "reserved_posts must not exceed headcount ({headcount})",
                                      {"headcount": headcount})
        return v
