"""Casework commands (跟踪帮扶): one per step a person takes on an alert, all decided by :func:`record_about_alert`.

Each step's payload is its body plus the ``alert_id`` the path names (``schemas.api.body_for``). Whoever may see the
alert may work it: a staff account whose region covers one of the regions the alert names, or the bureau it was
escalated to; to anyone else it does not exist (404). The ledger then decides the step against the case as it is
(``laowu.domain.casework``: a closed case is not worked, a case is acknowledged once …), so every door — the single
routes, ``/v1/events:batch``, Kafka — gives the same verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from pydantic import BaseModel

from laowu.application.commands import Command, Wants
from laowu.application.errors import Conflict, NotFound
from laowu.application.facts import Facts
from laowu.application.handlers import Decision
from laowu.domain.errors import DomainError
from laowu.domain.regions import prefix
from laowu.intake import CLOCK_SKEW, SPEC_OF, Context, Intake, InvalidRequest
from laowu.store.scope import covers, unbounded
from schemas.envelope import Envelope


@dataclass(frozen=True)
class RecordAboutAlert(Command):
    """Base of the casework commands (``about_alert``)."""

    alert_id: str
    body: BaseModel
    path_field: ClassVar[str | None] = "alert_id"
    payload: ClassVar[type[BaseModel]]

    def wants(self, w: Wants) -> None:
        w.alerts.add(self.alert_id)
        assignee = getattr(self.body, "assignee", None)
        if assignee:
            w.accounts.add(assignee)


def about_alert(name: str, payload: type[BaseModel]) -> type[RecordAboutAlert]:
    """A command for a casework event whose payload is the body plus ``alert_id``."""
    return type(name, (RecordAboutAlert,), {"payload": payload, "__module__": __name__, "__doc__": payload.__doc__})


def sees_alert(ctx: Context, regions: list[str]) -> bool:
    actor = ctx.actor
    if actor is None:
        return False
    return unbounded(actor) or (actor.role != "employer" and any(covers(actor, r) for r in regions))


def assignee_refusal(account: tuple[str, str | None] | None, regions: list[str]) -> str | None:
    """Why a case may not go to this account (None: it may): a person with an enabled staff account who sees it."""
    if account is None:
        return "no enabled account has this user name"
    role, region = account
    if role == "admin":
        return None
    if role == "employer" or not region or not any(r.startswith(prefix(region)) for r in regions):
        return "this account cannot see the alert (staff of a region the alert names)"
    return None


def record_about_alert(intake: Intake, cmd: RecordAboutAlert, facts: Facts, ctx: Context) -> Decision:
    regions = facts.alerts.get(cmd.alert_id)
    if regions is None or not sees_alert(ctx, regions):
        raise NotFound("alert", cmd.alert_id)
    assignee = getattr(cmd.body, "assignee", None)
    if assignee:
        refusal = assignee_refusal(facts.accounts.get(assignee), regions)
        if refusal:
            raise Conflict([DomainError("assignee", "assignee", refusal)])
    at = getattr(cmd.body, "occurred_at", None) or datetime.now(UTC)
    if at > datetime.now(UTC) + CLOCK_SKEW:
        raise InvalidRequest([DomainError("occurred_at", "future", "must not be in the future")])
    data = cmd.body.model_dump(exclude={"occurred_at"}, exclude_none=True)
    payload = cmd.payload(alert_id=cmd.alert_id, **data)
    env = Envelope.wrap(payload, type=SPEC_OF[type(payload)].name, key=cmd.alert_id,  # type: ignore[arg-type]
                        source=ctx.actor.org if ctx.actor else "api", occurred_at=at, event_id=ctx.event_id,
                        actor=ctx.actor)
    return Decision(env)
