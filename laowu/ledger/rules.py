"""Which domain rule decides each event type the ledger consumes, and what follows from it.

Keyed by the payload model of the contract catalogue (``schemas.events.CATALOGUE``), so the event's name has one
home. A rule's ``kind`` says what the event is about: a brand (品牌库), a worker (实名制台账), a dispatch
(有组织劳务输出) or a placement (入职确认, 离职, 跟踪服务).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from laowu.domain import alerts as alert_rules
from laowu.domain import brands as brand_rules
from laowu.domain import lifecycle
from laowu.domain import subsidies as subsidy_rules
from laowu.domain import workers as worker_rules
from laowu.domain.lifecycle import PlacementRecord
from laowu.ledger import rows
from schemas import events as ev
from schemas.envelope import Envelope
from schemas.events import CATALOGUE

Kind = Literal["brand", "worker", "dispatch", "placement"]


class Effects:
    """What placement events cause beyond their own records — alerts to close or raise, subsidies to accrue,
    follow-ups to record and recount problems from. Filled by a rule's ``effects``, settled by ``decide``."""

    def __init__(self) -> None:
        self.closures: list[tuple[str, tuple[str, ...], datetime]] = []
        self.alerts: list[dict[str, Any]] = []
        self.accruals: list[dict[str, Any]] = []
        self.followups: list[dict[str, Any]] = []
        self.problem_placements: dict[str, tuple[str, list[str]]] = {}


Effect = Callable[[Effects, Envelope, PlacementRecord, list[str]], None]


def _confirmed(out: Effects, e: Envelope, p: PlacementRecord, regions: list[str]) -> None:
    out.closures.append((p.placement_id, ("unconfirmed_placement",), e.occurred_at))
    out.accruals += [rows.subsidy_row(a, p, regions) for a in subsidy_rules.on_confirm(p)]


def _rejected(out: Effects, e: Envelope, p: PlacementRecord, regions: list[str]) -> None:
    out.closures.append((p.placement_id, ("unconfirmed_placement",), e.occurred_at))


def _ended(out: Effects, e: Envelope, p: PlacementRecord, regions: list[str]) -> None:
    alert = alert_rules.early_separation(p)
    if alert:
        out.alerts.append(rows.alert_row(alert, regions))


def _followed_up(out: Effects, e: Envelope, p: PlacementRecord, regions: list[str]) -> None:
    out.followups.append(rows.followup_row(e))
    out.closures.append((p.placement_id, ("followup_overdue",), alert_rules.day_start(lifecycle._as_date(e.payload["date"]))))
    out.problem_placements[p.placement_id] = (p.worker_id, regions)


@dataclass(frozen=True)
class Rule:
    """``apply(record, payload, occurred_at) → (record, changes)`` for brands and workers;
    ``apply(worker, placement, payload) → changes`` for placements; none for a dispatch (``decide`` splits it
    into placements with ``lifecycle.dispatch``)."""

    kind: Kind
    apply: Callable[..., Any] | None = None
    registers: bool = False  # what waits for ``<kind>:<id>`` waits for this event
    joins_brand: bool = False  # its ``brand_id`` must be in the library and open (besides any ``brand_ids``)
    effects: Effect | None = None
    entity: str | None = None  # the ``ledger.changed`` entity, where it is not the kind


BY_PAYLOAD: dict[type[BaseModel], Rule] = {
    ev.BrandRegistered: Rule("brand", brand_rules.register, registers=True),
    ev.BrandUpdated: Rule("brand", brand_rules.update),
    ev.BrandStatusChanged: Rule("brand", brand_rules.change_status),
    ev.WorkerRegistered: Rule("worker", worker_rules.register, registers=True),
    ev.WorkerUpdated: Rule("worker", worker_rules.update),
    ev.WorkerHouseholdMoved: Rule("worker", worker_rules.move_household),
    ev.WorkerCertificateAdded: Rule("worker", worker_rules.add_certificate),
    ev.WorkerTrainingCompleted: Rule("worker", worker_rules.complete_training),
    ev.WorkerBrandJoined: Rule("worker", worker_rules.join_brand, joins_brand=True),
    ev.DispatchCreated: Rule("dispatch", joins_brand=True),
    ev.PlacementConfirmed: Rule("placement", lifecycle.confirm, effects=_confirmed),
    ev.PlacementRejected: Rule("placement", lifecycle.reject, effects=_rejected),
    ev.PlacementEnded: Rule("placement", lifecycle.end, effects=_ended),
    ev.FollowUpRecorded: Rule("placement", lifecycle.record_followup, effects=_followed_up, entity="followup"),
}
RULES: dict[str, Rule] = {spec.name: BY_PAYLOAD[spec.payload] for spec in CATALOGUE if spec.payload in BY_PAYLOAD}
"""The event types the ledger consumes, by name; every other type is derived and has no business on its topics."""

NAME_OF: dict[type[BaseModel], str] = {spec.payload: spec.name for spec in CATALOGUE}
