"""Commands and handlers of brand dynamic management (动态管理, issue 21), the same for every door.

The handlers attach what only the platform may say — the criteria evaluated from the ledger, the re-check's
proposal, the reviewer's identity, an encrypted phone — and give the ledger's verdict early by running the ledger's
own rule (``laowu.domain.brand_review``) over the applied brand: a refusal is a 409 with the words the ledger would
use. Something accepted and not yet applied (reviewers just assigned) is not seen: wait for its receipt, as for a
brand's status change.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from laowu.accounts_policy import username_of
from laowu.application.commands import Command, Wants
from laowu.application.errors import Conflict, Forbidden, NotFound
from laowu.application.facts import Facts
from laowu.application.handlers import Decision
from laowu.domain import brand_criteria as criteria
from laowu.domain import brand_review as review
from laowu.domain.brands import BrandRecord
from laowu.domain.errors import DomainError
from laowu.domain.outcome import Rejected
from laowu.intake import Context, Intake, _Errors, _occurred
from laowu.store.brand_figures import BrandFile
from laowu.store.scope import covers, unbounded
from schemas import brand_api as bodies
from schemas import events as ev


# ---- commands ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _ManagedBrand(Command):
    brand_id: str
    path_field: ClassVar[str | None] = "brand_id"

    def wants(self, w: Wants) -> None:
        w.brand_files.add(self.brand_id)


@dataclass(frozen=True)
class SubmitBrandApplication(_ManagedBrand):
    body: bodies.ApplicationCreate


@dataclass(frozen=True)
class AssignReviewers(_ManagedBrand):
    body: bodies.ReviewersAssign


@dataclass(frozen=True)
class ScoreReview(_ManagedBrand):
    body: bodies.ReviewScore


@dataclass(frozen=True)
class DecideApplication(_ManagedBrand):
    body: bodies.ApplicationDecide


@dataclass(frozen=True)
class DecideRecheck(_ManagedBrand):
    body: bodies.RecheckDecide


@dataclass(frozen=True)
class RecordComplaint(_ManagedBrand):
    body: bodies.ComplaintCreate


@dataclass(frozen=True)
class NameTypicalPerson(_ManagedBrand):
    body: bodies.PersonCreate

    def wants(self, w: Wants) -> None:
        super().wants(w)
        if self.body.worker_id is not None:
            w.workers.add(self.body.worker_id)


# ---- shared rules -------------------------------------------------------------------------------------------------
def _file(facts: Facts, ctx: Context, brand_id: str) -> BrandFile:
    """The applied brand, in the sender's jurisdiction; a reviewer reaches any brand (the assignment is the gate,
    which the ledger's rule checks). Anyone else's brand answers 404."""
    found = facts.brand_files.get(brand_id)
    actor = ctx.actor
    if found is None or actor is None:
        raise NotFound("brand", brand_id)
    if actor.role != "reviewer" and not covers(actor, found.region_code):
        raise NotFound("brand", brand_id)
    return found


def _at(body: BaseModel) -> datetime:
    errors = _Errors()
    at = _occurred(errors, getattr(body, "occurred_at", None))
    errors.raise_any()
    return at


def _early(found: BrandFile, rule: Callable[..., Any], payload: BaseModel, at: datetime, field: str) -> None:
    """The ledger's rule over a copy of the applied brand: its refusal now, as a 409, in its own words."""
    rec = BrandRecord(found.brand_id, found.name, found.region_code, "", found.level, status=found.status,
                      management=copy.deepcopy(found.management))
    try:
        rule(rec, payload.model_dump(mode="json"), at)
    except Rejected as exc:
        raise Conflict([DomainError(field, "conflict", exc.reason, review.chinese(exc.reason))]) from None


def _envelope(intake: Intake, payload: BaseModel, at: datetime, ctx: Context) -> Decision:
    return Decision(intake._wrap(payload, payload.brand_id, intake._source(ctx, "api"), at, ctx))  # type: ignore[attr-defined]


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# ---- handlers -----------------------------------------------------------------------------------------------------
def submit_application(intake: Intake, cmd: SubmitBrandApplication, facts: Facts, ctx: Context) -> Decision:
    """入库/晋级申请 with the criteria of the target level evaluated now, from the ledger."""
    found = _file(facts, ctx, cmd.brand_id)
    body, at = cmd.body, _at(cmd.body)
    target = body.target_level or (found.level if body.kind == "entry" else criteria.next_level(found.level))
    if target is None:
        raise Conflict([DomainError("target_level", "conflict", f"a {found.level} brand has no level above it")])
    evaluation = criteria.evaluate(found.figures, target, found.region_code).public()
    payload = ev.BrandApplicationSubmitted(brand_id=cmd.brand_id, application_id=body.application_id or _new_id("app"),
                                           kind=body.kind, target_level=target, evaluation=evaluation, note=body.note)
    _early(found, review.submit, payload, at, "kind")
    return _envelope(intake, payload, at, ctx)


def assign_reviewers(intake: Intake, cmd: AssignReviewers, facts: Facts, ctx: Context) -> Decision:
    found = _file(facts, ctx, cmd.brand_id)
    at = _at(cmd.body)
    payload = ev.BrandReviewersAssigned(brand_id=cmd.brand_id, application_id=cmd.body.application_id,
                                        reviewers=cmd.body.reviewers)
    _early(found, review.assign_reviewers, payload, at, "application_id")
    return _envelope(intake, payload, at, ctx)


def score_review(intake: Intake, cmd: ScoreReview, facts: Facts, ctx: Context) -> Decision:
    """The reviewer is the sender's account (a machine credential: its organization), never the body's word."""
    found = _file(facts, ctx, cmd.brand_id)
    actor = ctx.actor
    if actor is None or actor.role != "reviewer":
        raise Forbidden("only a reviewer (评审专家) scores an application")
    at = _at(cmd.body)
    payload = ev.BrandReviewScored(brand_id=cmd.brand_id, application_id=cmd.body.application_id,
                                   reviewer=username_of(actor.subject) or actor.org, scores=cmd.body.scores,
                                   comment=cmd.body.comment)
    _early(found, review.score, payload, at, "scores")
    return _envelope(intake, payload, at, ctx)


def decide_application(intake: Intake, cmd: DecideApplication, facts: Facts, ctx: Context) -> Decision:
    found = _file(facts, ctx, cmd.brand_id)
    at = _at(cmd.body)
    payload = ev.BrandApplicationDecided(brand_id=cmd.brand_id, application_id=cmd.body.application_id,
                                         reason=cmd.body.reason)
    _early(found, review.decide, payload, at, "application_id")
    return _envelope(intake, payload, at, ctx)


def recheck_proposal(found: BrandFile) -> dict[str, Any]:
    """年度复核's proposal for a brand today, with the integrity rating it took into account."""
    rating = criteria.integrity(criteria.integrity_inputs(found.figures, found.management))
    return criteria.propose(found.figures, found.level, found.region_code, rating["grade"]) | {"integrity": rating}


def decide_recheck(intake: Intake, cmd: DecideRecheck, facts: Facts, ctx: Context) -> Decision:
    """The bureau decides with a reason; the proposal and figures it decided on travel with the decision."""
    found = _file(facts, ctx, cmd.brand_id)
    at = _at(cmd.body)
    proposed = recheck_proposal(found)
    payload = ev.BrandRecheckDecided(brand_id=cmd.brand_id, year=cmd.body.year, proposal=proposed["proposal"],
                                     reasons=proposed["reasons"], evaluation=proposed["evaluation"],
                                     integrity_grade=proposed["integrity_grade"], decision=cmd.body.decision,
                                     reason=cmd.body.reason)
    _early(found, review.recheck, payload, at, "decision")
    return _envelope(intake, payload, at, ctx)


def record_complaint(intake: Intake, cmd: RecordComplaint, facts: Facts, ctx: Context) -> Decision:
    found = _file(facts, ctx, cmd.brand_id)
    at = _at(cmd.body)
    b = cmd.body
    payload = ev.BrandComplaintRecorded(brand_id=cmd.brand_id, complaint_id=b.complaint_id or _new_id("cmp"),
                                        kind=b.kind, summary=b.summary, substantiated=b.substantiated)
    _early(found, review.record_complaint, payload, at, "complaint_id")
    return _envelope(intake, payload, at, ctx)


def name_person(intake: Intake, cmd: NameTypicalPerson, facts: Facts, ctx: Context) -> Decision:
    """典型人物: a worker the sender may act on, or a named person whose phone is encrypted and masked here."""
    found = _file(facts, ctx, cmd.brand_id)
    b = cmd.body
    errors = _Errors()
    at = _occurred(errors, b.occurred_at)
    if (b.worker_id is None) == (b.name is None):
        errors.add("worker_id", "one_of", "name a registered worker (worker_id) or a person (name), not both")
    if b.worker_id is not None and b.phone is not None:
        errors.add("phone", "not_allowed", "a registered worker's phone is on their record")
    phone_enc, phone_masked = intake._phone(errors, b.phone)  # type: ignore[attr-defined]
    errors.raise_any()
    actor = ctx.actor
    if b.worker_id is not None and not (actor is not None and unbounded(actor)) and b.worker_id not in facts.workers:
        raise NotFound("worker", b.worker_id)
    payload = ev.BrandPersonNamed(brand_id=cmd.brand_id, person_id=b.person_id or _new_id("person"), title=b.title,
                                  worker_id=b.worker_id, name=b.name, phone_enc=phone_enc, phone_masked=phone_masked,
                                  story=b.story)
    _early(found, review.name_person, payload, at, "person_id")
    return _envelope(intake, payload, at, ctx)
