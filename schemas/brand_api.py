"""HTTP bodies and answers of brand dynamic management (动态管理, issue 21): applications, expert review, the
yearly re-check, complaints and typical persons. A batch item's payload is the body plus ``brand_id``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.api import RawPhone, Write
from schemas.common import BrandLevel, Identifier, Name, Text
from schemas.events import ApplicationKind, ItemScore, PersonTitle, RecheckDecision, WorkerId


class ApplicationCreate(Write):
    """入库/晋级申请; the platform attaches the criteria it evaluates from the ledger."""

    application_id: Identifier | None = None
    kind: ApplicationKind
    target_level: BrandLevel | None = Field(
        default=None, description="Entry: defaults to the brand's level; promotion: to the next level up.")
    note: Text | None = None


class ReviewersAssign(Write):
    application_id: Identifier
    reviewers: list[Identifier] = Field(min_length=1, max_length=15, description="Reviewers' account user names.")


class ReviewScore(Write):
    application_id: Identifier
    scores: list[ItemScore] = Field(min_length=1, max_length=20, description="Every rubric item once (GET /v1/brand-rules).")
    comment: Text | None = None


class ApplicationDecide(Write):
    application_id: Identifier
    reason: Text | None = None


class RecheckDecide(Write):
    """The bureau's decision on a year's re-check; the platform attaches its proposal and the figures."""

    year: int = Field(ge=2000, le=2100)
    decision: RecheckDecision
    reason: Text


class ComplaintCreate(Write):
    complaint_id: Identifier | None = None
    kind: Literal["complaint", "dispute"] = "complaint"
    summary: Text
    substantiated: bool = True


class PersonCreate(Write):
    """A typical person: a registered worker (``worker_id``) or a named person (``name``, optional ``phone``)."""

    person_id: Identifier | None = None
    title: PersonTitle
    worker_id: WorkerId | None = None
    name: Name | None = None
    phone: RawPhone | None = None
    story: Text | None = None


class ManagementPublic(BaseModel):
    brand_id: str
    applications: list[dict[str, Any]]
    rechecks: list[dict[str, Any]]
    complaints: list[dict[str, Any]]
    persons: list[dict[str, Any]]
