"""Alerts (预警) with deadlines in event time, so an offline batch that arrives late raises the right ones.

* unconfirmed_placement — no confirm/reject 7 days after ``departure_date``;
* followup_overdue — no follow-up within 30 days of the confirmed ``start_date`` (跟踪服务 duty);
* wage_arrears / injury — reported in a follow-up (欠薪 / 工伤);
* early_separation — a placement ended within 30 days of its start.
An alert closes itself when the missing event arrives. Ids are deterministic, so raising twice is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from laowu.domain.lifecycle import PlacementRecord
from laowu.domain.statistics import BEIJING

UNCONFIRMED_DAYS = 7
FOLLOWUP_DAYS = 30
EARLY_SEPARATION_DAYS = 30
CHINA = BEIJING  # field dates are Beijing dates


@dataclass(frozen=True)
class Alert:
    alert_id: str
    kind: str
    worker_id: str
    placement_id: str
    raised_at: datetime
    due_at: date | None = None
    detail: str | None = None
    closed_at: datetime | None = None


def day_start(day: date) -> datetime:
    """Dates in the field are Beijing dates; a deadline passes at the start of the next day there."""
    return datetime.combine(day, time(0), CHINA)


def alert_id(kind: str, placement_id: str, suffix: str = "") -> str:
    return f"{kind}:{placement_id}{':' + suffix if suffix else ''}"


def unconfirmed_due(p: PlacementRecord) -> date:
    return p.departure_date + timedelta(days=UNCONFIRMED_DAYS)


def followup_due(p: PlacementRecord) -> date | None:
    return p.start_date + timedelta(days=FOLLOWUP_DAYS) if p.start_date else None


def overdue(p: PlacementRecord, today: date) -> list[Alert]:
    """Deadline alerts this placement deserves on ``today`` (the sweeper calls this)."""
    out: list[Alert] = []
    if p.status == "dispatched" and today > unconfirmed_due(p):
        due = unconfirmed_due(p)
        out.append(Alert(alert_id("unconfirmed_placement", p.placement_id), "unconfirmed_placement", p.worker_id,
                         p.placement_id, day_start(due + timedelta(days=1)), due,
                         f"departed {p.departure_date}, no confirmation by {due}"))
    due_f = followup_due(p)
    if p.status in ("confirmed", "ended") and due_f and today > due_f:
        first = p.first_followup_date
        ended_before = p.end_date is not None and p.end_date <= due_f
        if (first is None or first > due_f) and not ended_before:
            # A late follow-up that is already in the ledger closes the alert at its own date.
            out.append(Alert(alert_id("followup_overdue", p.placement_id), "followup_overdue", p.worker_id,
                             p.placement_id, day_start(due_f + timedelta(days=1)), due_f,
                             f"started {p.start_date}, no follow-up by {due_f}",
                             closed_at=day_start(first) if first else None))
    return out


PROBLEM_KINDS = ("wage_arrears", "injury")


def problem_alerts(placement_id: str, worker_id: str, followups: list[tuple[str, date, list[str]]]) -> list[Alert]:
    """Wage arrears and injury reported in follow-ups, each closed by the first later follow-up without it.

    A function of the set of follow-ups, not of their arrival order: offline workstations sync late.
    """
    ordered = sorted(followups, key=lambda f: (f[1], f[0]))
    out = []
    for i, (followup_id, day, problems) in enumerate(ordered):
        for kind in PROBLEM_KINDS:
            if kind not in problems:
                continue
            cleared = next((d for _, d, later in ordered[i + 1:] if kind not in later), None)
            out.append(Alert(alert_id(kind, placement_id, followup_id), kind, worker_id, placement_id, day_start(day),
                             detail=f"reported in follow-up {followup_id} on {day}",
                             closed_at=day_start(cleared) if cleared else None))
    return out


def early_separation(p: PlacementRecord) -> Alert | None:
    if p.start_date and p.end_date and (p.end_date - p.start_date).days < EARLY_SEPARATION_DAYS:
        return Alert(alert_id("early_separation", p.placement_id), "early_separation", p.worker_id, p.placement_id,
                     day_start(p.end_date), detail=f"ended {p.end_date} after {(p.end_date - p.start_date).days} days")
    return None
