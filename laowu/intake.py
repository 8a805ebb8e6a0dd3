"""Intake: turn a validated request body into the one event envelope it stands for.

Shared by the single-event endpoints, ``/v1/events:batch`` and the Excel import, so every door applies
the same rules. Decides what the body alone can decide (API.md: check digits, ID ↔ birth date/sex,
regions that never existed, working age, future times) and reports every broken rule at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

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
from laowu.privacy import Privacy
from schemas import api as bodies
from schemas import events as ev
from schemas.common import Actor
from schemas.envelope import Envelope
from schemas.events import EventType

CLOCK_SKEW = timedelta(minutes=5)


class InvalidRequest(Exception):
    """Rules the body breaks; the API answers 422 with one entry per error."""

    def __init__(self, errors: list[DomainError], where: str = "body") -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors
        self.where = where


@dataclass(frozen=True)
class Context:
    """Who is sending (set by the API from the credential, never from the body) and the event's id."""

    actor: Actor | None = None
    event_id: uuid.UUID | None = None


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

    def _wrap(self, body: BaseModel, type: EventType, key: str, source: str, at: datetime, ctx: Context) -> Envelope:
        return Envelope.wrap(body, type=type, key=key, source=source, occurred_at=at,
                             event_id=ctx.event_id, actor=ctx.actor)

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
        worker_id = self.privacy.worker_id(info.number)
        payload = ev.WorkerRegistered(
            worker_id=worker_id,
            id_number_enc=self.privacy.cipher.encrypt(info.number, "id_number"),
            id_number_masked=mask_id_number(info.number),
            name=body.name, sex=info.sex, birth_date=info.birth_date,
            phone_enc=phone_enc, phone_masked=phone_masked,
            household_region=body.household_region, workstation_id=body.workstation_id,
            brand_ids=list(dict.fromkeys(body.brand_ids)), priority_groups=list(dict.fromkeys(body.priority_groups)),
            occupation_code=body.occupation_code,
        )
        return self._wrap(payload, "worker.registered", worker_id, self._source(ctx, body.workstation_id), at, ctx)

    def update_worker(self, worker_id: str, body: bodies.WorkerPatch, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        _region(errors, "household_region", body.household_region)
        phone_enc, phone_masked = self._phone(errors, body.phone)
        given = body.model_dump(exclude_unset=True, exclude={"occurred_at", "phone"})
        if not given and body.phone is None:
            errors.add("body", "empty", "nothing to change")
        errors.raise_any()
        if phone_enc is not None:
            given.update(phone_enc=phone_enc, phone_masked=phone_masked)
        payload = ev.WorkerUpdated(worker_id=worker_id, **given)
        return self._wrap(payload, "worker.updated", worker_id, self._source(ctx, "api"), at, ctx)

    def add_certificate(self, worker_id: str, body: bodies.CertificateCreate, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        errors.raise_any()
        cert = body.model_dump(exclude={"occurred_at"}, exclude_none=True)
        payload = ev.WorkerCertificateAdded(worker_id=worker_id, certificate=cert)  # type: ignore[arg-type]
        return self._wrap(payload, "worker.certificate_added", worker_id, self._source(ctx, "api"), at, ctx)

    def complete_training(self, worker_id: str, body: bodies.TrainingCreate, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        errors.raise_any()
        training = body.model_dump(exclude={"occurred_at"}, exclude_none=True)
        payload = ev.WorkerTrainingCompleted(worker_id=worker_id, training=training)  # type: ignore[arg-type]
        return self._wrap(payload, "worker.training_completed", worker_id, self._source(ctx, "api"), at, ctx)

    def join_brand(self, worker_id: str, body: bodies.BrandJoin, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        errors.raise_any()
        payload = ev.WorkerBrandJoined(worker_id=worker_id, brand_id=body.brand_id)
        return self._wrap(payload, "worker.brand_joined", worker_id, self._source(ctx, "api"), at, ctx)

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
        return self._wrap(payload, "brand.registered", payload.brand_id, self._source(ctx, "api"), at, ctx)

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
        return self._wrap(payload, "brand.updated", brand_id, self._source(ctx, "api"), at, ctx)

    def change_brand_status(self, brand_id: str, body: bodies.BrandStatusChange, ctx: Context = Context()) -> Envelope:
        errors = _Errors()
        at = _occurred(errors, body.occurred_at)
        errors.raise_any()
        payload = ev.BrandStatusChanged(brand_id=brand_id, status=body.status, reason=body.reason)
        return self._wrap(payload, "brand.status_changed", brand_id, self._source(ctx, "api"), at, ctx)

    # ---- batches ------------------------------------------------------------------------------
    def from_batch_item(self, item: bodies.BatchItem, ctx: Context) -> Envelope:
        """A batch item's payload is the single endpoint's body, plus the path id where it has one."""
        entry = BATCH_TYPES.get(item.type)
        if entry is None:
            raise InvalidRequest([DomainError("type", "not_accepted", f"{item.type} cannot be sent through the API")])
        model, id_field, build = entry
        payload = dict(item.payload)
        if item.occurred_at is not None:
            payload.setdefault("occurred_at", item.occurred_at.isoformat())
        path_id = None
        if id_field is not None:
            path_id = payload.pop(id_field, None)
            if not isinstance(path_id, str) or not path_id:
                raise InvalidRequest([DomainError(f"payload.{id_field}", "missing", "field required")])
        try:
            body = model.model_validate(payload)
        except ValidationError as exc:
            raise InvalidRequest([
                DomainError("payload." + ".".join(str(p) for p in err["loc"]), err["type"], err["msg"])
                for err in exc.errors()
            ]) from None
        args = (body, ctx) if id_field is None else (path_id, body, ctx)
        envelope: Envelope = build(self, *args)
        return envelope


BATCH_TYPES: dict[str, tuple[type[BaseModel], str | None, Callable[..., Envelope]]] = {
    "brand.registered": (bodies.BrandCreate, None, Intake.register_brand),
    "brand.updated": (bodies.BrandPatch, "brand_id", Intake.update_brand),
    "brand.status_changed": (bodies.BrandStatusChange, "brand_id", Intake.change_brand_status),
    "worker.registered": (bodies.WorkerCreate, None, Intake.register_worker),
    "worker.updated": (bodies.WorkerPatch, "worker_id", Intake.update_worker),
    "worker.certificate_added": (bodies.CertificateCreate, "worker_id", Intake.add_certificate),
    "worker.training_completed": (bodies.TrainingCreate, "worker_id", Intake.complete_training),
    "worker.brand_joined": (bodies.BrandJoin, "worker_id", Intake.join_brand),
}
