"""Intake: turn a validated request body into the one event envelope it stands for.

The command handlers (``laowu.application``) build every envelope here, whatever the door (single requests,
``/v1/events:batch``, the Excel import, the simulator). Decides what the body alone can decide (API.md: check
digits, ID ↔ birth date/sex, regions that never existed, working age, future times) and reports every broken rule
at once. The event type of an envelope is the catalogue entry of its payload model (``schemas.events``): no event
name is written here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from laowu.domain import regions
from laowu.domain.errors import DomainError
from laowu.domain.identity import (
    check_declared,
    check_working_age,
    mask_id_number,
    mask_phone,
    parse_id_number,
    validate_phone,
    validate_uscc,
)
from laowu.domain.lifecycle import placement_id_for
from laowu.privacy import Privacy
from schemas import api as bodies
from schemas import events as ev
from schemas.common import Actor
from schemas.envelope import Envelope, Outgoing, RawEnvelope
from schemas.events import CATALOGUE, EventSpec

CLOCK_SKEW = timedelta(minutes=5)
SPEC_OF: dict[type[BaseModel], EventSpec] = {spec.payload: spec for spec in CATALOGUE}
"""The catalogue entry of each payload model: an envelope's type is its payload's."""


class InvalidRequest(Exception):
    """Rules the body breaks; the API answers 422 with one entry per error."""

    def __init__(self, errors: list[DomainError], where: str = "body") -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
        self.where = where


@dataclass(frozen=True)
class PlacementRef:
    """What the API looked up about a placement before accepting an event about it."""

    placement_id: str
    worker_id: str
    employer_id: str
    organizer_id: str | None = None


@dataclass(frozen=True)
class OrganizationRef:
    """What the API looked up about a registered (or accepted) organization (issue 21)."""

    org_id: str
    status: str
    region_code: str | None


@dataclass(frozen=True)
class SubsidyRef:
    """What the API looked up about an entitlement before accepting a workflow event about it (issue 21)."""

    subsidy_id: str
    worker_id: str
    organization_id: str
    origin_region: str
    status: str
    applicant_id: str | None = None
    applied_on: str | None = None


@dataclass(frozen=True)
class Context:
    """Who is sending (set by the API from the credential, never from the body) and the event's id.

    ``lean``: build the lean envelope where there is one (a registration's :class:`RawEnvelope`), as the batch door
    does for speed; the bytes are the same (tests/unit/test_raw_envelope.py).
    """

    actor: Actor | None = None
    event_id: uuid.UUID | None = None
    lean: bool = False


class _Errors:
    def __init__(self) -> None:
        self.items: list[DomainError] = []

    def check(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except DomainError as exc:
            self.items.append(exc)
            return None

    def add(self, field: str, rule: str, message: str) -> None:
        self.items.append(DomainError(field, rule, message))

    def raise_any(self) -> None:
        if self.items:
            raise InvalidRequest(self.items)


def _occurred(errors: _Errors, at: datetime | None) -> datetime:
    now = datetime.now(UTC)
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        errors.add("occurred_at", "future", "must not be in the future")
    return at


def _region(errors: _Errors, field: str, code: str | None) -> None:
    if code is not None and not regions.region_exists(code):
        errors.add(field, "region", f"{code} is not a GB/T 2260 region code")


def _uscc(errors: _Errors, field: str, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_uscc(value)
    except DomainError as exc:
        errors.items.append(DomainError(field, exc.rule, exc.message, exc.message_zh))
        return None


class Intake:
    def __init__(self, privacy: Privacy) -> None:
        self.privacy = privacy

    def _wrap(self, body: BaseModel, key: str, source: str, at: datetime, ctx: Context) -> Envelope:
        return Envelope.wrap(body, type=SPEC_OF[type(body)].name, key=key,  # type: ignore[arg-type]
                             source=source, occurred_at=at, event_id=ctx.event_id, actor=ctx.actor)

    def _source(self, ctx: Context, fallback: str) -> str:
        return ctx.actor.org if ctx.actor else fallback

    def _phone(self, errors: _Errors, raw: str | None) -> tuple[str | None, str | None]:
        if raw is None:
            return None, None
        phone = errors.check(lambda: validate_phone(raw))
        if phone is None:
            return None, None
        return self.privacy.cipher.encrypt(phone, "phone"), mask_phone(phone)

    # ---- workers ------------------------------------------------------------------------------
    def register_worker(self, body: bodies.WorkerCreate, ctx: Context = Context()) -> Envelope:
        return self._registered(*self._registration(body, ctx), ctx)

    def registration(self, body: bodies.WorkerCreate, ctx: Context = Context()) -> Outgoing:
        """``register_worker``, or its lean twin when ``ctx.lean`` (the batch door)."""
        return self._raw_registration(body, ctx) if ctx.lean else self.register_worker(body, ctx)

    def _registered(self, fields: dict[str, Any], at: datetime, source: str, ctx: Context) -> Envelope:
        payload = ev.WorkerRegistered(**fields)
        return self._wrap(payload, payload.worker_id, source, at, ctx)

    def _registration(self, body: bodies.WorkerCreate, ctx: Context) -> tuple[dict[str, Any], datetime, str]:
        """The ``worker.registered`` payload's fields (the model's order; ``None`` where absent), time and source."""
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        info = errors.check(lambda: parse_id_number(body.id_number))
        if info is not None:
            errors.check(lambda: check_declared(info, sex=body.sex, birth_date=body.birth_date))
        errors.check(lambda: check_working_age(body.birth_date, at.date()))
        _region(errors, "household_region", body.household_region)
        phone_enc, phone_masked = self._phone(errors, body.phone)
        errors.raise_any()
        assert info is not None
        fields = {
            "worker_id": self.privacy.worker_id(info.number),
            "id_number_enc": self.privacy.cipher.encrypt(info.number, "id_number"),
            "id_number_masked": mask_id_number(info.number),
            "name": body.name, "sex": info.sex, "birth_date": info.birth_date,
            "phone_enc": phone_enc, "phone_masked": phone_masked,
            "household_region": body.household_region, "workstation_id": body.workstation_id,
            "brand_ids": list(dict.fromkeys(body.brand_ids)),
            "priority_groups": list(dict.fromkeys(body.priority_groups)),
            "occupation_code": body.occupation_code,
        }
        if body.intention is not None:  # 求职意向 stated at registration (issue 19); JSON as the payload carries it
            fields["intention"] = body.intention.model_dump(mode="json", exclude_none=True)
        return fields, at, self._source(ctx, body.workstation_id)

    def _raw_registration(self, body: bodies.WorkerCreate, ctx: Context) -> Outgoing:
        """``register_worker`` for the batch door, without the payload and envelope models.

        Every field either comes from the validated ``WorkerCreate`` under the same constraints as in
        ``WorkerRegistered``, or is computed here (ids, ciphertexts, masks), so validating the payload again
        could not fail; the envelope adds its own bounds on ``source`` (checked here) and ``key`` (a worker_id).
        tests/unit/test_raw_envelope.py checks that both doors publish the same event.
        """
        fields, at, source = self._registration(body, ctx)
        if not 0 < len(source) <= 64:  # Envelope.source: the model refuses it, as it always did
            return self._registered(fields, at, source, ctx)
        data = {k: v for k, v in fields.items() if v is not None}
        data["birth_date"] = fields["birth_date"].isoformat()
        return RawEnvelope(event_id=ctx.event_id or uuid.uuid4(), type=REGISTERED.name,  # type: ignore[arg-type]
                           occurred_at=at,
                           recorded_at=datetime.now(UTC), source=source, actor=ctx.actor, key=fields["worker_id"],
                           payload=data)

    def update_worker(self, worker_id: str, body: bodies.WorkerPatch, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        phone_enc, phone_masked = self._phone(errors, body.phone)
        given = body.model_dump(exclude_unset=True, exclude={"occurred_at", "phone"})
        if not given and body.phone is None:
            errors.add("body", "empty", "nothing to change")
        errors.raise_any()
        if phone_enc is not None:
            given.update(phone_enc=phone_enc, phone_masked=phone_masked)
        payload = ev.WorkerUpdated(worker_id=worker_id, **given)
        return self._wrap(payload, worker_id, self._source(ctx, "api"), at, ctx)

    def move_household(self, worker_id: str, body: bodies.HouseholdMove, current_region: str,
                       ctx: Context = Context()) -> Envelope:
        """户籍迁移 from ``current_region`` (the ledger's, looked up by the caller): ``from_region`` in the event is what
        the sender's jurisdiction is checked against (``api.scoping``) and what the ledger applies it over."""
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        _region(errors, "household_region", body.household_region)
        if body.household_region == current_region:
            errors.add("household_region", "unchanged", f"the household region is already {current_region}")
        errors.raise_any()
        payload = ev.WorkerHouseholdMoved(worker_id=worker_id, from_region=current_region,
                                          household_region=body.household_region, reason=body.reason)
        return self._wrap(payload, worker_id, self._source(ctx, "api"), at, ctx)

    def add_certificate(self, worker_id: str, body: bodies.CertificateCreate, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        errors.raise_any()
        cert = body.model_dump(exclude={"occurred_at"}, exclude_none=True)
        payload = ev.WorkerCertificateAdded(worker_id=worker_id, certificate=cert)  # type: ignore[arg-type]
        return self._wrap(payload, worker_id, self._source(ctx, "api"), at, ctx)

    def complete_training(self, worker_id: str, body: bodies.TrainingCreate, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        errors.raise_any()
        training = body.model_dump(exclude={"occurred_at"}, exclude_none=True)
        payload = ev.WorkerTrainingCompleted(worker_id=worker_id, training=training)  # type: ignore[arg-type]
        return self._wrap(payload, worker_id, self._source(ctx, "api"), at, ctx)

    def about_worker(self, payload: type[BaseModel], worker_id: str, body: BaseModel, ctx: Context = Context()
                     ) -> Envelope:
        """An event whose payload is ``body`` plus ``worker_id`` (``schemas.api.body_for``)."""
        errors = _Errors()
        at = _occurred(errors, getattr(body, "occurred_at", None))
        errors.raise_any()
        data = body.model_dump(exclude={"occurred_at"}, exclude_none=True)
        return self._wrap(payload(worker_id=worker_id, **data), worker_id, self._source(ctx, "api"), at, ctx)

    def join_brand(self, worker_id: str, body: bodies.BrandJoin, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        errors.raise_any()
        payload = ev.WorkerBrandJoined(worker_id=worker_id, brand_id=body.brand_id)
        return self._wrap(payload, worker_id, self._source(ctx, "api"), at, ctx)

    # ---- brands -------------------------------------------------------------------------------
    def register_brand(self, body: bodies.BrandCreate, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        _region(errors, "region_code", body.region_code)
        data = body.model_dump(exclude={"occurred_at"}, exclude_none=True)
        if body.operator is not None and body.operator.uscc is not None:
            data["operator"]["uscc"] = _uscc(errors, "operator.uscc", body.operator.uscc)
        errors.raise_any()
        data["brand_id"] = body.brand_id or f"brand-{uuid.uuid4().hex[:12]}"
        payload = ev.BrandRegistered(**data)
        return self._wrap(payload, payload.brand_id, self._source(ctx, "api"), at, ctx)

    def update_brand(self, brand_id: str, body: bodies.BrandPatch, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        _region(errors, "region_code", body.region_code)
        data = body.model_dump(exclude={"occurred_at"}, exclude_unset=True)
        if body.operator is not None and body.operator.uscc is not None:
            data["operator"]["uscc"] = _uscc(errors, "operator.uscc", body.operator.uscc)
        if not data:
            errors.add("body", "empty", "nothing to change")
        errors.raise_any()
        payload = ev.BrandUpdated(brand_id=brand_id, **data)
        return self._wrap(payload, brand_id, self._source(ctx, "api"), at, ctx)

    def change_brand_status(self, brand_id: str, body: bodies.BrandStatusChange, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        errors.raise_any()
        payload = ev.BrandStatusChanged(brand_id=brand_id, status=body.status, reason=body.reason)
        return self._wrap(payload, brand_id, self._source(ctx, "api"), at, ctx)

    # ---- organized output, placements, follow-up ----------------------------------------------
    def create_dispatch(self, body: bodies.DispatchCreate, worker_ids: list[str], ctx: Context = Context()) -> Envelope:
        """``worker_ids``: those the API's pre-check let through (the consumer checks again)."""
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        _region(errors, "origin_region", body.origin_region)
        _region(errors, "destination_region", body.destination_region)
        employer = body.employer.model_dump(exclude_none=True)
        if body.employer.uscc is not None:
            employer["uscc"] = _uscc(errors, "employer.uscc", body.employer.uscc)
        if len(set(body.worker_ids)) != len(body.worker_ids):
            errors.add("worker_ids", "duplicate", "a worker appears twice in the dispatch")
        if body.position_id is not None and body.demand_id is None:
            errors.add("position_id", "demand_required", "a position is one of a demand's: name demand_id too")
        errors.raise_any()
        dispatch_id = body.dispatch_id or f"dsp-{uuid.uuid4().hex[:12]}"
        payload = ev.DispatchCreated(
            dispatch_id=dispatch_id, organizer_id=body.organizer_id, brand_id=body.brand_id, mode=body.mode,
            origin_region=body.origin_region, destination_region=body.destination_region,
            employer=employer,  # type: ignore[arg-type]
            positions=body.positions, departure_date=body.departure_date, group_transport=body.group_transport,
            demand_id=body.demand_id,
            placements=[ev.DispatchedWorker(worker_id=w, placement_id=placement_id_for(dispatch_id, w),
                                            position_id=body.position_id) for w in worker_ids],
            agreement_id=body.agreement_id,
        )
        return self._wrap(payload, dispatch_id, self._source(ctx, body.organizer_id), at, ctx)

    # ---- job demands (用工需求, issue 19) ----------------------------------------------------------
    def post_demand(self, body: bodies.DemandPost, ctx: Context = Context()) -> Envelope:
        """A demand as posted: regions that exist, the contact's phone sealed, an id if none was chosen."""
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        for i, code in enumerate(body.origin_regions):
            _region(errors, f"origin_regions.{i}", code)
        for i, pos in enumerate(body.positions):
            _region(errors, f"positions.{i}.work_region", pos.work_region)
        if not body.origin_regions and body.agreement_id is None:
            errors.add("origin_regions", "missing", "name the origin regions it is published to, or an agreement")
        phone_enc, phone_masked = self._phone(errors, body.contact.phone)
        employer = body.employer.model_dump(exclude_none=True)
        if body.employer.uscc is not None:
            employer["uscc"] = _uscc(errors, "employer.uscc", body.employer.uscc)
        errors.raise_any()
        data = body.model_dump(mode="json", exclude={"occurred_at", "contact", "employer", "demand_id"},
                               exclude_none=True)
        contact = {"name": body.contact.name, "phone_enc": phone_enc, "phone_masked": phone_masked}
        payload = ev.DemandPosted(demand_id=body.demand_id or f"dmd-{uuid.uuid4().hex[:12]}", employer=employer,
                                  contact={k: v for k, v in contact.items() if v is not None}, **data)
        return self._wrap(payload, payload.demand_id, self._source(ctx, body.employer.employer_id), at, ctx)

    def close_demand(self, demand_id: str, body: bodies.DemandClose, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        errors.raise_any()
        payload = ev.DemandClosed(demand_id=demand_id, employer_id=body.employer_id, reason=body.reason)
        return self._wrap(payload, demand_id, self._source(ctx, body.employer_id), at, ctx)

    def _placement_event(self, ref: PlacementRef, data: dict[str, Any], at_raw: datetime | None,
                         model: type[BaseModel], ctx: Context) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, at_raw)
        errors.raise_any()
        payload = model(placement_id=ref.placement_id, worker_id=ref.worker_id, **data)
        source = self._source(ctx, str(data.get("employer_id") or ref.employer_id))
        return self._wrap(payload, ref.worker_id, source, at, ctx)

    def confirm_placement(self, ref: PlacementRef, body: bodies.PlacementConfirm, ctx: Context = Context()) -> Envelope:
        data = body.model_dump(exclude={"occurred_at"}, exclude_none=True)
        return self._placement_event(ref, data, body.occurred_at, ev.PlacementConfirmed, ctx)

    def reject_placement(self, ref: PlacementRef, body: bodies.PlacementReject, ctx: Context = Context()) -> Envelope:
        data = body.model_dump(exclude={"occurred_at"}, exclude_none=True)
        return self._placement_event(ref, data, body.occurred_at, ev.PlacementRejected, ctx)

    def end_placement(self, ref: PlacementRef, body: bodies.PlacementEnd, ctx: Context = Context()) -> Envelope:
        data = body.model_dump(exclude={"occurred_at", "employer_id"}, exclude_none=True)
        return self._placement_event(ref, data, body.occurred_at, ev.PlacementEnded, ctx)

    def record_followup(self, ref: PlacementRef, body: bodies.FollowUpCreate, ctx: Context = Context()) -> Envelope:
        data = body.model_dump(exclude={"occurred_at", "placement_id"}, exclude_none=True)
        data["followup_id"] = body.followup_id or f"fu-{uuid.uuid4().hex[:12]}"
        return self._placement_event(ref, data, body.occurred_at, ev.FollowUpRecorded, ctx)


REGISTERED = SPEC_OF[ev.WorkerRegistered]
