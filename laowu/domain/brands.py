"""Brand resource library (劳务品牌资源库) under dynamic management (动态管理).

Status lifecycle: candidate (培育) → listed (入库) → demonstration (示范); any → suspended → revoked.
A suspended brand may be reinstated to where it can stand again; revoked is final.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from laowu.domain.outcome import Changes, Rejected

TRANSITIONS: dict[str, frozenset[str]] = {
    "candidate": frozenset({"listed", "suspended", "revoked"}),
    "listed": frozenset({"demonstration", "suspended", "revoked"}),
    "demonstration": frozenset({"listed", "suspended", "revoked"}),
    "suspended": frozenset({"candidate", "listed", "revoked"}),
    "revoked": frozenset(),
}

UPDATABLE = (
    "name", "region_code", "category", "level", "industry", "occupation_code", "operator",
    "trademark_number", "integrity_rating",
)


def check_transition(current: str, target: str) -> None:
    if target == current:
        raise Rejected(f"brand is already {current}")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (revoked is final)"
        raise Rejected(f"illegal brand status transition {current} → {target}; allowed from {current}: {allowed}")


@dataclass
class BrandRecord:
    brand_id: str
    name: str
    region_code: str
    category: str
    level: str
    status: str = "candidate"
    industry: str | None = None
    occupation_code: str | None = None
    operator: dict[str, Any] | None = None
    trademark_number: str | None = None
    integrity_rating: str | None = None
    field_times: dict[str, str] = field(default_factory=dict)
    version: int = 0
    status_since: datetime | None = None
    management: dict[str, Any] = field(default_factory=dict)
    """动态管理: applications and their reviews, yearly re-checks, complaints, typical persons
    (``laowu.domain.brand_review``); one JSON document, as only the brand's own events change it."""


CLOSED = frozenset({"suspended", "revoked"})


def closed_at(brand: BrandRecord | None, at: datetime) -> str | None:
    """Why the brand takes no new members or dispatches at event time ``at``, or None.

    Judged in event time: a registration that happened before the brand was revoked stands, however late it
    is applied. An unknown brand is not refused here — the API checked it existed when it took the request,
    and brands and workers travel on different topics, so a replay may apply the worker first.
    """
    if brand is None or brand.status not in CLOSED:
        return None
    if brand.status_since is not None and brand.status_since > at:
        return None
    return f"brand {brand.brand_id} is {brand.status}"

def register(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    if rec is not None:
        raise Rejected(f"brand {p['brand_id']} is already registered")
    rec = BrandRecord(brand_id=p["brand_id"], name=p["name"], region_code=p["region_code"], category=p["category"],
                      level=p["level"], status_since=at)
    for name in UPDATABLE:
        if p.get(name) is not None:
            setattr(rec, name, p[name])
            rec.field_times[name] = at.isoformat()
    return rec, {"created": [None, True], "status": [None, "candidate"]}


def update(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    if rec is None:
        raise Rejected("unknown brand")
    if rec.status == "revoked":
        raise Rejected("brand is revoked and can no longer be changed")
    changes: Changes = {}
    for name in UPDATABLE:
        if name not in p:
            continue
        previous = rec.field_times.get(name)
        if previous is not None and datetime.fromisoformat(previous) > at:
            continue
        rec.field_times[name] = at.isoformat()
        if getattr(rec, name) != p[name]:
            changes[name] = [getattr(rec, name), p[name]]
            setattr(rec, name, p[name])
    return rec, changes


def change_status(rec: BrandRecord | None, p: dict[str, Any], at: datetime) -> tuple[BrandRecord, Changes]:
    if rec is None:
        raise Rejected("unknown brand")
    check_transition(rec.status, p["status"])
    changes: Changes = {"status": [rec.status, p["status"]], "reason": [None, p["reason"]]}
    rec.status = p["status"]
    rec.status_since = at
    return rec, changes
