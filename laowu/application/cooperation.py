"""Cooperation between regions (issue 19): the commands and handlers of cooperation agreements (劳务协作), and the
rule a dispatch naming an agreement must meet. The catalogue (``laowu.application.catalogue``) holds their entries.

Who signs: the bureau of one of the two sides, naming itself as that side's bureau, with that side's region in its
jurisdiction (or an admin). Who changes or ends: the bureau of either side (or an admin); to anyone else the
agreement does not exist (404). An agreement is changed, ended or named on a dispatch once it is applied: the
handler decides against the ledger's agreement (``laowu.domain.agreements``), and the ledger decides again.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from laowu.application.commands import Command, Wants
from laowu.application.errors import Conflict, Forbidden, Invalid, NotFound
from laowu.application.facts import Facts
from laowu.application.handlers import Decision
from laowu.application.scoping import scope_problem
from laowu.domain import agreements as rules
from laowu.domain import regions
from laowu.domain.errors import DomainError
from laowu.domain.outcome import Rejected
from laowu.intake import CLOCK_SKEW, Context, Intake, InvalidRequest
from laowu.store.scope import covers, unbounded
from schemas import events as ev
from schemas.cooperation import AgreementCreate, AgreementEnd, AgreementPatch
from schemas.envelope import Envelope
from schemas.events import CATALOGUE

_NAMES = {spec.payload: spec.name for spec in CATALOGUE}


# ---- commands -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SignAgreement(Command):
    body: AgreementCreate

    def wants(self, w: Wants) -> None:
        w.brands.update(self.body.brand_ids)
        if self.body.agreement_id:
            w.agreements.add(self.body.agreement_id)


@dataclass(frozen=True)
class _AboutAgreement(Command):
    agreement_id: str
    path_field: ClassVar[str | None] = "agreement_id"

    def wants(self, w: Wants) -> None:
        w.agreements.add(self.agreement_id)


@dataclass(frozen=True)
class UpdateAgreement(_AboutAgreement):
    body: AgreementPatch

    def wants(self, w: Wants) -> None:
        super().wants(w)
        w.brands.update(self.body.brand_ids or ())


@dataclass(frozen=True)
class EndAgreement(_AboutAgreement):
    body: AgreementEnd


# ---- the envelope ---------------------------------------------------------------------------------------------
def _when(at: datetime | None) -> datetime:
    now = datetime.now(UTC)
    if at is not None and at > now + CLOCK_SKEW:
        raise InvalidRequest([DomainError("occurred_at", "future", "must not be in the future")])
    return at or now


def _envelope(payload: ev.AgreementSigned | ev.AgreementUpdated | ev.AgreementEnded, at: datetime | None,
              ctx: Context) -> Envelope:
    return Envelope.wrap(payload, type=_NAMES[type(payload)], key=payload.agreement_id,  # type: ignore[arg-type]
                         source=ctx.actor.org if ctx.actor else "api", occurred_at=_when(at), event_id=ctx.event_id,
                         actor=ctx.actor)


def _credential(ctx: Context, env: Envelope) -> Envelope:
    problem = scope_problem(ctx.actor, env.type, env.payload)
    if problem is not None:
        raise Forbidden(problem.reason)
    return env


def _known_brands(facts: Facts, brand_ids: list[str] | None) -> None:
    for i, b in enumerate(brand_ids or ()):
        if b not in facts.brands:
            raise Conflict([DomainError(f"brand_ids.{i}", "conflict", f"unknown brand {b}")])


def _party(facts: Facts, ctx: Context, agreement_id: str) -> rules.AgreementRecord:
    """The applied agreement, if the sender is one of its sides (or an admin); otherwise it does not exist."""
    rec = facts.agreements.get(agreement_id)
    actor = ctx.actor
    if rec is None or actor is None or not (unbounded(actor) or rules.party(rec, actor.role, actor.org, actor.region)):
        raise NotFound("agreement", agreement_id)
    return rec


# ---- handlers -------------------------------------------------------------------------------------------------
def sign_agreement(intake: Intake, cmd: SignAgreement, facts: Facts, ctx: Context) -> Decision:
    body = cmd.body
    errors = [DomainError(f, "region", f"{code} is not a GB/T 2260 region code")
              for f, code in (("origin_region", body.origin_region), ("destination_region", body.destination_region))
              if not regions.region_exists(code)]
    problem = rules.period_problem(body.start_date, body.end_date)
    if problem:
        errors.append(DomainError("end_date", "period", problem))
    if errors:
        raise Invalid(errors)
    data = body.model_dump(exclude={"occurred_at", "agreement_id"})
    agreement_id = body.agreement_id or f"agr-{uuid.uuid4().hex[:12]}"
    env = _credential(ctx, _envelope(ev.AgreementSigned(agreement_id=agreement_id, **data), body.occurred_at, ctx))
    actor = ctx.actor
    assert actor is not None
    if not unbounded(actor) and not (
            (actor.org == body.origin_bureau_id and covers(actor, body.origin_region))
            or (actor.org == body.destination_bureau_id and covers(actor, body.destination_region))):
        raise Forbidden("an agreement is signed by the bureau of one of its sides: name your organization "
                        f"({actor.org}) as origin_bureau_id or destination_bureau_id, with that side's region in your "
                        f"jurisdiction ({actor.region})")
    if agreement_id in facts.agreements:
        raise Conflict([DomainError("agreement_id", "conflict", f"agreement {agreement_id} already exists")])
    _known_brands(facts, body.brand_ids)
    return Decision(env)


def update_agreement(intake: Intake, cmd: UpdateAgreement, facts: Facts, ctx: Context) -> Decision:
    rec = _party(facts, ctx, cmd.agreement_id)
    data = cmd.body.model_dump(exclude={"occurred_at"}, exclude_none=True)
    if not data:
        raise Invalid([DomainError("body", "empty", "nothing to change")])
    env = _credential(ctx, _envelope(ev.AgreementUpdated(agreement_id=cmd.agreement_id, **data),
                                     cmd.body.occurred_at, ctx))
    _known_brands(facts, cmd.body.brand_ids)
    _decided_by_rule(rules.update, rec, env)
    return Decision(env)


def end_agreement(intake: Intake, cmd: EndAgreement, facts: Facts, ctx: Context) -> Decision:
    rec = _party(facts, ctx, cmd.agreement_id)
    env = _credential(ctx, _envelope(ev.AgreementEnded(agreement_id=cmd.agreement_id, end_date=cmd.body.end_date,
                                                       reason=cmd.body.reason), cmd.body.occurred_at, ctx))
    _decided_by_rule(rules.end, rec, env)
    return Decision(env)


def _decided_by_rule(rule: Callable[..., object], rec: rules.AgreementRecord, env: Envelope) -> None:
    """The ledger's own rule on a copy of the applied agreement: what it would refuse is a 409 now."""
    try:
        rule(copy.deepcopy(rec), env.payload, env.occurred_at)
    except Rejected as exc:
        raise Conflict([DomainError("body", "conflict", exc.reason)]) from None
