"""Job demands (用工需求): what an employer asks for, and how dispatches fill it. Pure code: no I/O.

A demand is posted by its employer (or by a workstation or bureau on its behalf) with positions (岗位), each with
a headcount, some of which may be set aside for priority groups (爱心岗位). It is published to origin regions (or a
cooperation agreement); it is open until it is filled, closed by its employer, or its closing date passes.

Everything here is in **event time**: a dispatch fills a demand if it *happened* while the demand was open —
before the employer's closing event, on or before the closing date (a calendar day in China time) — whatever
order the events arrive in. So an offline workstation's batch synced days late is judged by the day it was done:
a dispatch made on the last day is accepted after the expiry; one dated after it is refused even if it arrives
first. The ledger decides fills (``laowu.ledger``), so every door (single request, batch, import, Kafka) agrees;
the API asks the same :func:`fill_refusal` against the ledger's current state for an early answer.

Status: ``open`` → ``partly_filled`` → ``filled`` by fills; ``closed`` by the employer. ``expired`` is not
stored: it is ``open``/``partly_filled`` read after the closing date (:func:`shown_status`), since nothing
happens at midnight that an event could carry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from laowu.domain.outcome import Changes, Rejected

CHINA = ZoneInfo("Asia/Shanghai")
LIVE = frozenset({"open", "partly_filled"})
"""Statuses in which a demand takes fills (until its closing date)."""
STATUSES = ("open", "partly_filled", "filled", "closed", "expired")


@dataclass
class DemandRecord:
    demand_id: str
    employer_id: str
    employer_name: str
    posted_by: str
    title: str
    positions: list[dict[str, Any]]
    origin_regions: list[str]
    closing_date: date
    posted_at: datetime
    contact: dict[str, Any] = field(default_factory=dict)
    agreement_id: str | None = None
    description: str | None = None
    status: str = "open"
    filled: dict[str, int] = field(default_factory=dict)
    """Posts filled per position id."""
    filled_priority: dict[str, int] = field(default_factory=dict)
    """Of those, by people of a priority group (they may take reserved posts)."""
    closed_at: datetime | None = None
    close_reason: str | None = None
    version: int = 0


def day_of(at: datetime) -> date:
    """The calendar day an instant falls on in China: closing dates are Beijing days."""
    return at.astimezone(CHINA).date()


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def post(rec: DemandRecord | None, p: dict[str, Any], at: datetime, posted_by: str = "") -> tuple[DemandRecord, Changes]:
    """demand.posted: a new demand; a second posting of the same id is refused (demands are not edited in place:
    close one and post another). ``posted_by``: the sender's organization (the ledger sets it from the envelope)."""
    if rec is not None:
        raise Rejected(f"demand {p['demand_id']} already exists")
    employer = p["employer"]
    rec = DemandRecord(
        demand_id=p["demand_id"], employer_id=employer["employer_id"], employer_name=employer["name"],
        posted_by=posted_by, title=p["title"], positions=[dict(x) for x in p["positions"]],
        origin_regions=list(dict.fromkeys(p.get("origin_regions", []))), closing_date=_as_date(p["closing_date"]),
        posted_at=at, contact=dict(p.get("contact") or {}), agreement_id=p.get("agreement_id"),
        description=p.get("description"),
        filled={x["position_id"]: 0 for x in p["positions"]}, filled_priority={x["position_id"]: 0 for x in p["positions"]},
    )
    changes: Changes = {"created": [None, True], "status": [None, "open"],
                        "positions": [None, [x["position_id"] for x in p["positions"]]]}
    return rec, changes


def close(rec: DemandRecord | None, p: dict[str, Any], at: datetime) -> tuple[DemandRecord, Changes]:
    """demand.closed: the employer stops it (filled elsewhere, cancelled). Fills that happened before ``at`` stand;
    later ones are refused (:func:`fill_refusal`)."""
    if rec is None:
        raise Rejected(f"unknown demand {p['demand_id']}")
    if p["employer_id"] != rec.employer_id:
        raise Rejected(f"demand {rec.demand_id} is employer {rec.employer_id}'s, not {p['employer_id']}'s")
    if rec.status == "closed":
        raise Rejected(f"demand {rec.demand_id} is already closed")
    changes: Changes = {"status": [rec.status, "closed"], "reason": [None, p["reason"]]}
    rec.status, rec.closed_at, rec.close_reason = "closed", at, p["reason"]
    return rec, changes


def position(rec: DemandRecord, position_id: str) -> dict[str, Any] | None:
    return next((x for x in rec.positions if x["position_id"] == position_id), None)


def posts_left(rec: DemandRecord, position_id: str) -> tuple[int, int]:
    """(posts left for anyone, of which reserved for priority groups still open) of a position."""
    pos = position(rec, position_id)
    if pos is None:
        return 0, 0
    filled = rec.filled.get(position_id, 0)
    reserved_left = max(0, int(pos.get("reserved_posts", 0)) - rec.filled_priority.get(position_id, 0))
    return max(0, int(pos["headcount"]) - filled), reserved_left


def open_at(rec: DemandRecord, at: datetime) -> str | None:
    """Why the demand took no fills at ``at`` (event time), or None: closed by then, or past its closing date."""
    if rec.closed_at is not None and at >= rec.closed_at:
        return f"demand {rec.demand_id} was closed by its employer at {rec.closed_at.isoformat()}"
    if day_of(at) > rec.closing_date:
        return (f"demand {rec.demand_id} expired on its closing date {rec.closing_date.isoformat()}; "
                f"this dispatch is of {day_of(at).isoformat()}")
    return None


def fill_refusal(rec: DemandRecord | None, demand_id: str, employer_id: str, at: datetime,
                 fills: Iterable[tuple[str | None, bool]]) -> str | None:
    """Why a dispatch of ``at`` to ``employer_id`` may not fill these posts of the demand, or None.

    ``fills``: one ``(position_id, of a priority group)`` per worker the dispatch would place. A position is never
    overfilled; its reserved posts (爱心岗位) are kept for people of a priority group: others may take at most
    ``headcount - reserved_posts`` of it.
    """
    if rec is None:
        return f"unknown demand {demand_id}"
    if employer_id != rec.employer_id:
        return f"demand {demand_id} is employer {rec.employer_id}'s; the dispatch names {employer_id}"
    closed = open_at(rec, at)
    if closed:
        return closed
    wanted: Counter[str] = Counter()
    others: Counter[str] = Counter()
    for position_id, priority in fills:
        if position_id is None:
            if len(rec.positions) != 1:
                return f"demand {demand_id} has {len(rec.positions)} positions: name the position each worker fills"
            position_id = rec.positions[0]["position_id"]
        if position(rec, position_id) is None:
            return f"demand {demand_id} has no position {position_id}"
        wanted[position_id] += 1
        if not priority:
            others[position_id] += 1
    for position_id, n in wanted.items():
        pos = position(rec, position_id)
        assert pos is not None
        left, _ = posts_left(rec, position_id)
        if n > left:
            return (f"position {position_id} of demand {demand_id} has {left} of {pos['headcount']} posts left; "
                    f"this dispatch would fill {n} (a position is never overfilled)")
        reserved = int(pos.get("reserved_posts", 0))
        taken_by_others = rec.filled.get(position_id, 0) - rec.filled_priority.get(position_id, 0)
        open_to_others = max(0, int(pos["headcount"]) - reserved - taken_by_others)
        if others[position_id] > open_to_others:
            return (f"position {position_id} of demand {demand_id} keeps {reserved} posts for priority groups "
                    f"(爱心岗位): {open_to_others} left for others, this dispatch would give {others[position_id]}")
    return None


def fill(rec: DemandRecord, fills: Iterable[tuple[str | None, bool]]) -> Changes:
    """Count the posts a dispatch filled (after :func:`fill_refusal` said None) and move the status."""
    before = rec.status
    changes: Changes = {}
    for position_id, priority in fills:
        pid = position_id or rec.positions[0]["position_id"]
        rec.filled[pid] = rec.filled.get(pid, 0) + 1
        if priority:
            rec.filled_priority[pid] = rec.filled_priority.get(pid, 0) + 1
    if rec.status != "closed":
        total = sum(int(x["headcount"]) for x in rec.positions)
        done = sum(rec.filled.values())
        rec.status = "filled" if done >= total else "partly_filled" if done else "open"
    changes["filled"] = [None, dict(rec.filled)]
    if rec.status != before:
        changes["status"] = [before, rec.status]
    return changes


def unfill(rec: DemandRecord, position_id: str | None, priority: bool) -> Changes:
    """A placement of the demand was turned away (未到岗): its post is open again, the status moves back (a closed
    demand stays closed)."""
    pid = position_id or rec.positions[0]["position_id"]
    before = rec.status
    rec.filled[pid] = max(0, rec.filled.get(pid, 0) - 1)
    if priority:
        rec.filled_priority[pid] = max(0, rec.filled_priority.get(pid, 0) - 1)
    if rec.status != "closed":
        done = sum(rec.filled.values())
        rec.status = "partly_filled" if done else "open"
    changes: Changes = {"filled": [None, dict(rec.filled)]}
    if rec.status != before:
        changes["status"] = [before, rec.status]
    return changes


def shown_status(status: str, closing_date: date, today: date) -> str:
    """What a reader is told: a live demand past its closing date is ``expired``."""
    return "expired" if status in LIVE and today > closing_date else status


def today() -> date:
    return datetime.now(CHINA).date()
