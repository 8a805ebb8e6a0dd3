"""A ledger rule: which domain rule decides an event type, and what follows from it.

Each event type's rule is declared once, in its application catalogue entry (``laowu.application.catalogue``);
``laowu.ledger.rules`` collects them by name. A rule's ``kind`` says what the event is about: a brand (品牌库), a
worker (实名制台账), a dispatch (有组织劳务输出), a placement (入职确认, 离职, 跟踪服务) or a cooperation agreement (劳务协作).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from laowu.domain import alerts as alert_rules
from laowu.domain import lifecycle
from laowu.domain import subsidies as subsidy_rules
from laowu.domain.lifecycle import PlacementRecord
from laowu.ledger import rows
from schemas.envelope import Envelope

Kind = Literal["brand", "worker", "dispatch", "placement", "case", "demand", "organization", "claim", "agreement"]


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


def after_confirm(out: Effects, e: Envelope, p: PlacementRecord, regions: list[str]) -> None:
    out.closures.append((p.placement_id, ("unconfirmed_placement",), e.occurred_at))
    out.accruals += [rows.subsidy_row(a, p, regions) for a in subsidy_rules.on_confirm(p)]


def after_reject(out: Effects, e: Envelope, p: PlacementRecord, regions: list[str]) -> None:
    out.closures.append((p.placement_id, ("unconfirmed_placement",), e.occurred_at))


def after_end(out: Effects, e: Envelope, p: PlacementRecord, regions: list[str]) -> None:
    alert = alert_rules.early_separation(p)
    if alert:
        out.alerts.append(rows.alert_row(alert, regions))


def after_followup(out: Effects, e: Envelope, p: PlacementRecord, regions: list[str]) -> None:
    out.followups.append(rows.followup_row(e))
    out.closures.append((p.placement_id, ("followup_overdue",), alert_rules.day_start(lifecycle._as_date(e.payload["date"]))))
    out.problem_placements[p.placement_id] = (p.worker_id, regions)


FACTS_OF: dict[Effect, frozenset[str]] = {
    after_confirm: frozenset({"alerts", "subsidies"}),
    after_reject: frozenset({"alerts"}),
    after_end: frozenset({"alerts"}),
    after_followup: frozenset({"alerts", "followups"}),
}
"""What of a placement each effect reads: its alerts, its accrued subsidies, its follow-ups (loaded only for those)."""


@dataclass(frozen=True)
class Rule:
    """``apply(record, payload, occurred_at) → (record, changes)`` for brands, workers and demands;
    ``apply(case, payload, occurred_at) → changes`` for an alert's casework (issue 20);
    ``apply(record, payload, occurred_at, source) → (record, changes)`` for organizations (机构);
    ``apply(claim, payload, occurred_at, context) → changes`` for a subsidy claim's workflow (issue 21);
    ``apply(worker, placement, payload) → changes`` for placements; none for a dispatch (``decide`` splits it
    into placements with ``lifecycle.dispatch``)."""

    kind: Kind
    apply: Callable[..., Any] | None = None
    registers: bool = False  # what waits for ``<kind>:<id>`` waits for this event
    joins_brand: bool = False  # its ``brand_id`` must be in the library and open (besides any ``brand_ids``)
    effects: Effect | None = None
    entity: str | None = None  # the ``ledger.changed`` entity, where it is not the kind
    frees_post: bool = False  # a placement event that gives its job demand's post back (未到岗, issue 19)
    history_only: bool = False
    """Adds to its worker's history without changing the worker's own record (跟踪服务: the follow-up is the
    placement's). The worker is read without a lock and not rewritten; what such a rule changes of the worker may
    only be derived on read (``laowu.domain.workers.DERIVED_FIELDS``). Issue 22: a follow-up locked and rewrote
    the worker only to move ``last_followup_at``."""

    @property
    def receipt_from_history(self) -> bool:
        """Applied, the event is a ``worker_events`` row under its event_id, and that row is its receipt (回执):
        the ledger writes a receipt of its own only when it rejects it (issue 22). Every worker and placement event
        applied adds exactly that row (``decide.worker_changed``, or the history-only path)."""
        return self.kind in ("worker", "placement")
