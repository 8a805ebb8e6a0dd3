"""Labour cooperation agreements (劳务协作协议) between an origin (输出地) and a destination (输入地) region.

An agreement names both regions (a province, a city or a county each), the bureaus of both sides, its period, a
target headcount and, optionally, the brands it is for. It is signed, may be updated (period, target, brands, name)
and is ended early with a date and a reason; every step is an event (``agreement.signed`` / ``agreement.updated`` /
``agreement.ended``), decided here without I/O.

A dispatch may name the agreement it falls under (``agreement_id``). It is covered when its origin lies in the
agreement's origin region, its destination in the destination region, its brand among the agreement's brands (an
agreement without brands covers every brand) and its departure date inside the period, up to the end date when
the agreement was ended early. Coverage is judged in event time (the departure date), so an agreement ended on
1 June still covers a dispatch that left on 31 May, whatever order the events arrive in. Progress is counted from
the dispatches that name it: people dispatched and placements confirmed, against the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from laowu.domain import regions
from laowu.domain.outcome import Changes, Rejected

UPDATABLE = ("name", "start_date", "end_date", "target_headcount", "brand_ids")


@dataclass
class AgreementRecord:
    agreement_id: str
    name: str
    origin_region: str
    destination_region: str
    origin_bureau_id: str
    destination_bureau_id: str
    start_date: date
    end_date: date
    target_headcount: int
    brand_ids: list[str] = field(default_factory=list)
    status: str = "active"  # active · ended
    ended_on: date | None = None
    end_reason: str | None = None
    signed_at: datetime | None = None
    version: int = 0


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def period_problem(start: date, end: date) -> str | None:
    return f"the period ends ({end}) before it starts ({start})" if end < start else None


def sign(old: AgreementRecord | None, p: dict[str, Any], at: datetime) -> tuple[AgreementRecord, Changes]:
    """签订: a new agreement; a second signing of the same id is refused."""
    if old is not None:
        raise Rejected(f"agreement {p['agreement_id']} already exists")
    start, end = _day(p["start_date"]), _day(p["end_date"])
    problem = period_problem(start, end)
    if problem:
        raise Rejected(problem)
    rec = AgreementRecord(
        agreement_id=p["agreement_id"], name=p["name"], origin_region=p["origin_region"],
        destination_region=p["destination_region"], origin_bureau_id=p["origin_bureau_id"],
        destination_bureau_id=p["destination_bureau_id"], start_date=start, end_date=end,
        target_headcount=int(p["target_headcount"]), brand_ids=list(dict.fromkeys(p.get("brand_ids") or [])),
        signed_at=at)
    return rec, {k: [None, v] for k, v in p.items() if k != "agreement_id"}


def _existing(old: AgreementRecord | None, p: dict[str, Any]) -> AgreementRecord:
    if old is None:
        raise Rejected(f"unknown agreement {p['agreement_id']}")
    return old


def update(old: AgreementRecord | None, p: dict[str, Any], at: datetime) -> tuple[AgreementRecord, Changes]:
    """变更: name, period, target, brands. An ended agreement is not changed any more."""
    rec = _existing(old, p)
    if rec.status == "ended":
        raise Rejected(f"agreement {rec.agreement_id} has ended and is not changed any more")
    new = {k: p[k] for k in UPDATABLE if p.get(k) is not None}
    for k in ("start_date", "end_date"):
        if k in new:
            new[k] = _day(new[k])
    if "brand_ids" in new:
        new["brand_ids"] = list(dict.fromkeys(new["brand_ids"]))
    problem = period_problem(new.get("start_date", rec.start_date), new.get("end_date", rec.end_date))
    if problem:
        raise Rejected(problem)
    changes: Changes = {}
    for k, v in new.items():
        if getattr(rec, k) != v:
            changes[k] = [getattr(rec, k), v]
            setattr(rec, k, v)
    return rec, changes


def end(old: AgreementRecord | None, p: dict[str, Any], at: datetime) -> tuple[AgreementRecord, Changes]:
    """终止: ended early on ``end_date`` with a reason; dispatches departing after that day are no longer covered."""
    rec = _existing(old, p)
    if rec.status == "ended":
        raise Rejected(f"agreement {rec.agreement_id} has already ended")
    day = _day(p["end_date"])
    if day < rec.start_date:
        raise Rejected(f"an agreement cannot end ({day}) before it starts ({rec.start_date})")
    changes: Changes = {"status": [rec.status, "ended"], "ended_on": [None, day], "end_reason": [None, p["reason"]]}
    rec.status, rec.ended_on, rec.end_reason = "ended", day, p["reason"]
    return rec, changes


def last_day(rec: AgreementRecord) -> date:
    """The last departure date the agreement covers."""
    return min(rec.end_date, rec.ended_on) if rec.ended_on is not None else rec.end_date


def coverage_refusal(rec: AgreementRecord | None, agreement_id: str, *, origin_region: str, destination_region: str,
                     brand_id: str, departure_date: Any) -> str | None:
    """Why a dispatch with these terms does not fall under the agreement (None: it does). The same words for the
    API (409) and the ledger (a rejected receipt)."""
    if rec is None:
        return f"unknown agreement {agreement_id}"
    if not origin_region.startswith(regions.prefix(rec.origin_region)):
        return f"origin_region {origin_region} is not in the agreement's origin region {rec.origin_region}"
    if not destination_region.startswith(regions.prefix(rec.destination_region)):
        return (f"destination_region {destination_region} is not in the agreement's destination region "
                f"{rec.destination_region}")
    if rec.brand_ids and brand_id not in rec.brand_ids:
        return f"brand {brand_id} is not one of the agreement's brands ({', '.join(rec.brand_ids)})"
    day = _day(departure_date)
    if not rec.start_date <= day <= last_day(rec):
        return f"departure_date {day} is outside the agreement's period ({rec.start_date} to {last_day(rec)})"
    return None


def party(rec: AgreementRecord, role: str, org: str, region: str | None) -> bool:
    """Whether a bureau is one of the two sides: its organization is named, or its region covers a side's region.
    (Admins are unbounded and decided by the caller.)"""
    if role != "bureau":
        return False
    if org in (rec.origin_bureau_id, rec.destination_bureau_id):
        return True
    return region is not None and any(code.startswith(regions.prefix(region))
                                      for code in (rec.origin_region, rec.destination_region))
