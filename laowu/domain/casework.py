"""Casework on alerts (预警跟踪帮扶): someone owns each alert until it is closed with an outcome.

An alert used to appear and close by itself with nobody answerable for it. Now each alert is a case that is assigned
(to an account or a team), acknowledged (签收), worked (notes and actions: 电话回访, 上门走访, 转劳动监察, 法律援助,
再就业推荐), closed with an outcome and, if need be, reopened. Every step is an event with who and when; this module
decides whether a step may happen and what it changes. Deadlines are rules as data (``data/casework_rules.json``,
per alert kind and region): a case not acknowledged in time escalates to the bureau one level up (the sweeper applies
it at the deadline, in event time), and closing in time is what the closure rate (办结率) counts.

An alert that closes itself because the missing event arrived (a follow-up after the deadline, a wage paid) still
does: the case then counts as closed at that moment with the outcome ``self_closed`` and its history says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from statistics import median
from typing import Any

from laowu.domain import regions
from laowu.domain.outcome import Changes, Rejected

ACTIONS: dict[str, str] = {
    "phone_visit": "电话回访",
    "home_visit": "上门走访",
    "labor_inspection": "转劳动监察",
    "legal_aid": "法律援助",
    "job_referral": "再就业推荐",
}
OUTCOMES: dict[str, str] = {
    "resolved": "已解决",
    "referred": "已转办",
    "unreachable": "无法联系",
    "no_action_needed": "无需处理",
}
SELF_CLOSED = "self_closed"  # the alert closed itself: the missing event arrived (自动关闭)
STATES = ("open", "assigned", "acknowledged", "in_progress", "closed")


@dataclass
class Case:
    """An alert as a case. ``alert_closed_at`` is the alert's own closing (the ledger's); the rest is casework."""

    alert_id: str
    kind: str
    regions: list[str]
    raised_at: datetime
    alert_closed_at: datetime | None = None
    state: str = "open"
    assignee: str | None = None
    team: str | None = None
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    reopened_at: datetime | None = None
    escalated_to: str | None = None
    escalated_at: datetime | None = None
    version: int = 0

    @property
    def home(self) -> str:
        """The region whose bureau answers for the case: the first the alert names (the household region)."""
        return self.regions[0] if self.regions else ""


def _open(case: Case, what: str) -> None:
    if effective_closure(case) is not None:
        raise Rejected(f"alert {case.alert_id} is closed; reopen it before it can be {what}")


def assign(case: Case, payload: dict[str, Any], at: datetime) -> Changes:
    """分派: to an account (``assignee``, a user name), a team (``team``, an organization id) or both."""
    _open(case, "assigned")
    assignee, team = payload.get("assignee"), payload.get("team")
    if not assignee and not team:
        raise Rejected("an assignment names an account or a team")
    changes: Changes = {}
    if assignee != case.assignee:
        changes["assignee"] = [case.assignee, assignee]
    if team != case.team:
        changes["team"] = [case.team, team]
    case.assignee, case.team = assignee, team
    if case.state == "open":
        changes["state"] = [case.state, "assigned"]
        case.state = "assigned"
    return changes


def acknowledge(case: Case, payload: dict[str, Any], at: datetime) -> Changes:
    """签收: once; the deadline to acknowledge is met or missed by ``at`` (event time)."""
    _open(case, "acknowledged")
    if case.acknowledged_at is not None:
        raise Rejected(f"alert {case.alert_id} was already acknowledged")
    case.acknowledged_at = at
    old, case.state = case.state, "acknowledged"
    return {"state": [old, "acknowledged"], "acknowledged_at": [None, at.isoformat()]}


def work(case: Case, payload: dict[str, Any], at: datetime) -> Changes:
    """跟踪办理: a note and/or an action taken; working a case that was not acknowledged acknowledges it."""
    _open(case, "worked")
    action = payload.get("action")
    if action is not None and action not in ACTIONS:
        raise Rejected(f"unknown action {action}")
    changes: Changes = {}
    if case.acknowledged_at is None:
        case.acknowledged_at = at
        changes["acknowledged_at"] = [None, at.isoformat()]
    if case.state != "in_progress":
        changes["state"] = [case.state, "in_progress"]
        case.state = "in_progress"
    return changes


def close(case: Case, payload: dict[str, Any], at: datetime) -> Changes:
    """办结 with an outcome; closing also counts as acknowledging (a case closed at once was seen)."""
    _open(case, "closed")
    outcome = payload.get("outcome")
    if outcome not in OUTCOMES:
        raise Rejected(f"unknown outcome {outcome}")
    changes: Changes = {"state": [case.state, "closed"], "outcome": [case.outcome, outcome],
                        "closed_at": [None, at.isoformat()]}
    if case.acknowledged_at is None:
        case.acknowledged_at = at
    case.state, case.outcome, case.closed_at = "closed", outcome, at
    return changes


def reopen(case: Case, payload: dict[str, Any], at: datetime) -> Changes:
    """重新打开: a closed case (closed by a person, or by itself) is worked again."""
    closed = effective_closure(case)
    if closed is None:
        raise Rejected(f"alert {case.alert_id} is not closed")
    if at < closed[0]:
        raise Rejected(f"alert {case.alert_id} was closed at {closed[0].isoformat()}, after this reopening")
    changes: Changes = {"state": [case.state, "in_progress"], "outcome": [closed[1], None]}
    case.state, case.outcome, case.closed_at, case.reopened_at = "in_progress", None, None, at
    return changes


def effective_closure(case: Case) -> tuple[datetime, str] | None:
    """When and how the case is closed: by a person (their outcome), or by the alert itself (``self_closed``) unless
    it was reopened after that; None while open."""
    if case.state == "closed" and case.closed_at is not None:
        return case.closed_at, str(case.outcome)
    if case.alert_closed_at is not None and (case.reopened_at is None or case.alert_closed_at > case.reopened_at):
        return case.alert_closed_at, SELF_CLOSED
    return None


# ---- deadlines (rules as data) ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deadlines:
    acknowledge_days: int
    close_days: int
    version: str

    def acknowledge_by(self, case: Case) -> datetime:
        return case.raised_at + timedelta(days=self.acknowledge_days)

    def close_by(self, case: Case) -> datetime:
        return case.raised_at + timedelta(days=self.close_days)


@cache
def _rules() -> dict[str, Any]:
    return dict(json.loads((resources.files("laowu.domain") / "data" / "casework_rules.json").read_text(encoding="utf-8")))


def deadlines(case: Case, data: dict[str, Any] | None = None) -> Deadlines:
    """The rule for the case's kind in its home region: the finest region level the rule file names wins."""
    data = data or _rules()
    levels = [data["default"], *(data.get("regions", {}).get(code, {}) for code in reversed(regions.rollup(case.home)))]
    chosen: dict[str, Any] = {}
    for level in levels:
        chosen |= level.get("*", {})
    for level in levels:
        chosen |= level.get(case.kind, {})
    return Deadlines(int(chosen["acknowledge_days"]), int(chosen["close_days"]), str(data["version"]))


def escalation_target(region: str) -> str | None:
    """The bureau one level up: a county's city (a province-administered county's province), a city's province."""
    if not region or regions.region_level(region) == "province":
        return None
    city = regions.city_of(region)
    if regions.region_level(region) == "county" and city and city != region:
        return city
    return region[:2] + "0000"


def escalation(case: Case, now: datetime, data: dict[str, Any] | None = None) -> tuple[str, datetime] | None:
    """(bureau, when) if the case missed its deadline to be acknowledged by ``now`` and has not escalated yet.

    In event time: a case acknowledged late (after the deadline) still escalated at the deadline, even if the
    sweeper noticed only afterwards; one acknowledged (or closed) in time never does.
    """
    if case.escalated_to is not None:
        return None
    due = deadlines(case, data).acknowledge_by(case)
    if now <= due:
        return None
    settled = [t for t in (case.acknowledged_at, (effective_closure(case) or (None,))[0]) if t is not None]
    if settled and min(settled) <= due:
        return None
    target = escalation_target(case.home)
    return (target, due) if target else None


def overdue(case: Case, now: datetime, data: dict[str, Any] | None = None) -> bool:
    """Open and past a deadline: not acknowledged in time, or not closed in time."""
    if effective_closure(case) is not None:
        return False
    d = deadlines(case, data)
    return now > d.close_by(case) or (case.acknowledged_at is None and now > d.acknowledge_by(case))


# ---- figures ----------------------------------------------------------------------------------------------------
@dataclass
class Figures:
    """Casework figures of a set of cases at ``now``: open and overdue cases, the closure rate within the deadline
    (办结率: cases closed in time over cases closed or past their deadline) and the median time to close."""

    open: int = 0
    overdue: int = 0
    closed: int = 0
    due: int = 0
    closed_in_time: int = 0
    hours_to_close: list[float] = field(default_factory=list)

    @property
    def closure_rate(self) -> Decimal | None:
        if not self.due:
            return None
        return (Decimal(self.closed_in_time) / self.due).quantize(Decimal("0.0001"), ROUND_HALF_UP)

    @property
    def median_hours_to_close(self) -> float | None:
        return round(median(self.hours_to_close), 2) if self.hours_to_close else None

    def as_dict(self) -> dict[str, Any]:
        return {"open": self.open, "overdue": self.overdue, "closed": self.closed, "due": self.due,
                "closed_in_time": self.closed_in_time, "closure_rate": self.closure_rate,
                "median_hours_to_close": self.median_hours_to_close}


def figures(cases: Iterable[Case], now: datetime, data: dict[str, Any] | None = None) -> Figures:
    f = Figures()
    for case in cases:
        closure = effective_closure(case)
        close_by = deadlines(case, data).close_by(case)
        if closure is None:
            f.open += 1
            f.overdue += overdue(case, now, data)
            f.due += now > close_by
            continue
        at = closure[0]
        f.closed += 1
        f.due += 1
        f.closed_in_time += at <= close_by
        f.hours_to_close.append(max(0.0, (at - case.raised_at).total_seconds() / 3600))
    return f


def history_of(case: Case) -> list[dict[str, Any]]:
    """The steps the ledger took by itself, in the case's history beside the people's events: the alert raised,
    the alert closed itself (and why), the escalation."""
    out = [{"type": "raised", "occurred_at": case.raised_at, "actor": None, "detail": {"kind": case.kind}}]
    if case.alert_closed_at is not None:
        out.append({"type": SELF_CLOSED, "occurred_at": case.alert_closed_at, "actor": None,
                    "detail": {"note": "所缺事件已到达，预警自动关闭"}})
    if case.escalated_to is not None and case.escalated_at is not None:
        out.append({"type": "escalated", "occurred_at": case.escalated_at, "actor": None,
                    "detail": {"escalated_to": case.escalated_to, "note": "逾期未签收，升级至上级人社部门"}})
    return out
