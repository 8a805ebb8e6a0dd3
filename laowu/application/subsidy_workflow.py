"""Commands and handlers of the organizations registry (机构) and the subsidy workflow (补贴申领), issue 21.

Each handler resolves what its command names (404 when the sender cannot see it), builds the one event it stands
for (422 for what the body alone decides), asks the scoping rule (403) and refuses at once what the facts already
decide (409: a second application for the same entitlement, naming the first). The ledger decides the rest (one
person, one kind, once per period; the budget; the notice period) and the receipt tells.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel

from laowu.application.commands import Command, Wants
from laowu.application.errors import Conflict, NotFound
from laowu.application.facts import Facts
from laowu.application.handlers import Decision, _scoped
from laowu.domain import regions
from laowu.domain import subsidies as subsidy_rules
from laowu.domain.errors import DomainError
from laowu.domain.identity import mask_id_number, mask_phone, parse_id_number, validate_phone, validate_uscc
from laowu.domain.subsidy_claims import LABELS
from laowu.intake import CLOCK_SKEW, SPEC_OF, Context, Intake, InvalidRequest, SubsidyRef
from laowu.store.scope import covers, unbounded
from schemas import api as bodies
from schemas import events as ev
from schemas.envelope import Envelope


# ---- commands ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterOrganization(Command):
    body: bodies.OrganizationCreate

    def wants(self, w: Wants) -> None:
        if self.body.org_id:
            w.organizations.add(self.body.org_id)


@dataclass(frozen=True)
class VerifyOrganization(Command):
    org_id: str
    body: bodies.OrganizationVerify
    path_field: ClassVar[str | None] = "org_id"

    def wants(self, w: Wants) -> None:
        w.organizations.add(self.org_id)


@dataclass(frozen=True)
class _AboutSubsidy(Command):
    subsidy_id: str
    path_field: ClassVar[str | None] = "subsidy_id"

    def wants(self, w: Wants) -> None:
        w.subsidies.add(self.subsidy_id)


@dataclass(frozen=True)
class ApplySubsidy(_AboutSubsidy):
    body: bodies.SubsidyApply


@dataclass(frozen=True)
class ReviewSubsidy(_AboutSubsidy):
    body: bodies.SubsidyReview


@dataclass(frozen=True)
class NoticeSubsidy(_AboutSubsidy):
    body: bodies.SubsidyNotice


@dataclass(frozen=True)
class RaiseSubsidyObjection(_AboutSubsidy):
    body: bodies.SubsidyObjection


@dataclass(frozen=True)
class DecideSubsidyObjection(_AboutSubsidy):
    body: bodies.SubsidyObjectionDecision


@dataclass(frozen=True)
class PaySubsidy(_AboutSubsidy):
    body: bodies.SubsidyPayment


# ---- the envelope ------------------------------------------------------------------------------------------------
def _at(given: datetime | None) -> datetime:
    now = datetime.now(UTC)
    if given is None:
        return now
    if given > now + CLOCK_SKEW:
        raise InvalidRequest([DomainError("occurred_at", "future", "must not be in the future")])
    return given


def _wrap(payload: BaseModel, key: str, body: bodies.Write, ctx: Context) -> Envelope:
    source = ctx.actor.org if ctx.actor else "api"
    return Envelope.wrap(payload, type=SPEC_OF[type(payload)].name, key=key,  # type: ignore[arg-type]
                         source=source, occurred_at=_at(body.occurred_at), event_id=ctx.event_id, actor=ctx.actor)


def _org_id(body: bodies.OrganizationCreate, uscc: str | None, intake: Intake, number: str | None) -> str:
    """Chosen, else derived: from the credit code, or for a person from the keyed hash of the ID number (the
    number itself never becomes a key)."""
    if body.org_id:
        return body.org_id
    if uscc:
        return f"org-{uscc}"
    if number:
        return f"broker-{intake.privacy.worker_id(number)[:20]}"
    return f"org-{uuid.uuid4().hex[:16]}"


def organization_event(intake: Intake, body: bodies.OrganizationCreate, ctx: Context) -> Envelope:
    """机构登记: the credit code checked (GB 32100, ``stdnum.cn.uscc``); a person's ID number and a phone encrypted
    and masked as a worker's."""
    errors: list[DomainError] = []
    uscc = number = None
    if body.uscc is not None:
        try:
            uscc = validate_uscc(body.uscc)
        except DomainError as exc:
            errors.append(exc)
    if body.id_number is not None:
        if body.kind != "labour_broker":
            errors.append(DomainError("id_number", "not_allowed", "only a labour broker who is a person is named by "
                                      "an ID number", "只有个人劳务经纪人登记身份证号"))
        else:
            try:
                number = parse_id_number(body.id_number).number
            except DomainError as exc:
                errors.append(DomainError("id_number", exc.rule, exc.message, exc.message_zh))
    if body.kind == "labour_broker" and (body.uscc is None) == (body.id_number is None):
        errors.append(DomainError("uscc", "broker_identity",
                                  "a labour broker gives a credit code (a firm) or an ID number (a person), one of the two",
                                  "劳务经纪人须填写统一社会信用代码（机构）或身份证号（个人）之一"))
    if body.kind not in ("labour_broker", "workstation", "service_station") and body.uscc is None:
        errors.append(DomainError("uscc", "missing", "an organization is registered by its unified social credit code",
                                  "请填写统一社会信用代码"))
    if not regions.region_exists(body.region_code):
        errors.append(DomainError("region_code", "region", f"{body.region_code} is not a GB/T 2260 region code"))
    phone = None
    if body.contact_phone is not None:
        try:
            phone = validate_phone(body.contact_phone)
        except DomainError as exc:
            errors.append(DomainError("contact_phone", exc.rule, exc.message, exc.message_zh))
    if errors:
        raise InvalidRequest(errors)
    cipher = intake.privacy.cipher
    payload = ev.OrganizationRegistered(
        org_id=_org_id(body, uscc, intake, number), kind=body.kind, name=body.name, region_code=body.region_code,
        uscc=uscc, id_number_enc=cipher.encrypt(number, "id_number") if number else None,
        id_number_masked=mask_id_number(number) if number else None, contact_name=body.contact_name,
        contact_phone_enc=cipher.encrypt(phone, "phone") if phone else None,
        contact_phone_masked=mask_phone(phone) if phone else None)
    return _wrap(payload, payload.org_id, body, ctx)


# ---- handlers ------------------------------------------------------------------------------------------------------
def register_organization(intake: Intake, cmd: RegisterOrganization, facts: Facts, ctx: Context) -> Decision:
    env = _scoped(ctx, organization_event(intake, cmd.body, ctx))
    oid = env.payload["org_id"]
    if oid in facts.organizations:
        raise Conflict([DomainError("org_id", "conflict", f"organization {oid} is already registered")])
    return Decision(env)


def verify_organization(intake: Intake, cmd: VerifyOrganization, facts: Facts, ctx: Context) -> Decision:
    ref = facts.organizations.get(cmd.org_id)
    if ref is None or ref.region_code is None or ctx.actor is None or not covers(ctx.actor, ref.region_code):
        raise NotFound("organization", cmd.org_id)  # another region's organization does not exist for this bureau
    payload = ev.OrganizationVerified(org_id=cmd.org_id, region_code=ref.region_code, status=cmd.body.status,
                                      reason=cmd.body.reason)
    return Decision(_scoped(ctx, _wrap(payload, cmd.org_id, cmd.body, ctx)))


def _subsidy(facts: Facts, ctx: Context, subsidy_id: str) -> SubsidyRef:
    ref = facts.subsidies.get(subsidy_id)
    if ref is None or ctx.actor is None:
        raise NotFound("subsidy", subsidy_id)
    return ref


def apply_subsidy(intake: Intake, cmd: ApplySubsidy, facts: Facts, ctx: Context) -> Decision:
    """申请: the organizer, or a workstation of the origin for the person (the scoping rule: the applicant is the
    sender, the origin its jurisdiction; an organizer elsewhere applies through its own region's station)."""
    ref = _subsidy(facts, ctx, cmd.subsidy_id)
    assert ctx.actor is not None
    if ref.status != "entitled":
        raise Conflict([DomainError("subsidy_id", "already_applied",
                                    f"subsidy {ref.subsidy_id} was already applied for by {ref.applicant_id} on "
                                    f"{ref.applied_on} (now {ref.status})",
                                    f"该补贴已由 {ref.applicant_id} 于 {ref.applied_on} 申请"
                                    f"（{LABELS.get(ref.status, ref.status)}），不能重复申请")])
    payload = ev.SubsidyApplied(subsidy_id=ref.subsidy_id, origin_region=ref.origin_region,
                                applicant_id=ctx.actor.org if not unbounded(ctx.actor) else ref.organization_id,
                                note=cmd.body.note)
    return Decision(_scoped(ctx, _wrap(payload, ref.subsidy_id, cmd.body, ctx)))


def review_subsidy(intake: Intake, cmd: ReviewSubsidy, facts: Facts, ctx: Context) -> Decision:
    ref = _subsidy(facts, ctx, cmd.subsidy_id)
    assert ctx.actor is not None
    b = cmd.body
    payload = ev.SubsidyReviewed(subsidy_id=ref.subsidy_id, origin_region=ref.origin_region,
                                 reviewer_id=ctx.actor.org, decision=b.decision, reason=b.reason, checked=b.checked)
    return Decision(_scoped(ctx, _wrap(payload, ref.subsidy_id, b, ctx)))


def notice_subsidy(intake: Intake, cmd: NoticeSubsidy, facts: Facts, ctx: Context) -> Decision:
    """公示 for the days asked, else the region's rules' ``notice_days`` (the ledger refuses fewer)."""
    ref = _subsidy(facts, ctx, cmd.subsidy_id)
    b = cmd.body
    days = b.days or int(subsidy_rules.rules_for(ref.origin_region, on=b.start_date).get("notice_days", 7))
    payload = ev.SubsidyNoticed(subsidy_id=ref.subsidy_id, origin_region=ref.origin_region, notice_id=b.notice_id,
                                start_date=b.start_date, days=days)
    return Decision(_scoped(ctx, _wrap(payload, ref.subsidy_id, b, ctx)))


def raise_objection(intake: Intake, cmd: RaiseSubsidyObjection, facts: Facts, ctx: Context) -> Decision:
    ref = _subsidy(facts, ctx, cmd.subsidy_id)
    b = cmd.body
    payload = ev.SubsidyObjectionRaised(subsidy_id=ref.subsidy_id, origin_region=ref.origin_region,
                                        objection_id=b.objection_id or f"obj-{uuid.uuid4().hex[:12]}",
                                        summary=b.summary)
    return Decision(_scoped(ctx, _wrap(payload, ref.subsidy_id, b, ctx)))


def decide_objection(intake: Intake, cmd: DecideSubsidyObjection, facts: Facts, ctx: Context) -> Decision:
    ref = _subsidy(facts, ctx, cmd.subsidy_id)
    b = cmd.body
    payload = ev.SubsidyObjectionDecided(subsidy_id=ref.subsidy_id, origin_region=ref.origin_region,
                                         objection_id=b.objection_id, upheld=b.upheld, reason=b.reason)
    return Decision(_scoped(ctx, _wrap(payload, ref.subsidy_id, b, ctx)))


def pay_subsidy(intake: Intake, cmd: PaySubsidy, facts: Facts, ctx: Context) -> Decision:
    ref = _subsidy(facts, ctx, cmd.subsidy_id)
    b = cmd.body
    payload = ev.SubsidyPaid(subsidy_id=ref.subsidy_id, origin_region=ref.origin_region, paid_on=b.paid_on,
                             voucher_number=b.voucher_number, amount=b.amount)
    return Decision(_scoped(ctx, _wrap(payload, ref.subsidy_id, b, ctx)))
