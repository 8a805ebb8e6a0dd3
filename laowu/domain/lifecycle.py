"""Worker lifecycle and placements: organized output (有组织劳务输出) → 入职确认 → separation.

Worker states: registered → dispatched → placed → separated | returned; a rejected placement (no-show)
puts the worker back to available (registered). A worker has at most one active placement. Pure code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from laowu.domain import ids
from laowu.domain.outcome import Changes, Rejected
from laowu.domain.workers import WorkerRecord


def placement_id_for(dispatch_id: str, worker_id: str) -> str:
    """Deterministic, so the API can answer with it at once and a replay creates nothing new."""
    return "pl-" + uuid.uuid5(ids.DERIVED, f"{dispatch_id}\n{worker_id}").hex[:20]


AVAILABLE = frozenset({"registered", "separated", "returned"})
ACTIVE_PLACEMENT = frozenset({"dispatched", "confirmed"})


@dataclass
class PlacementRecord:
    placement_id: str
    dispatch_id: str
    worker_id: str
    employer_id: str
    organizer_id: str
    brand_id: str
    origin_region: str
    destination_region: str
    departure_date: date
    status: str = "dispatched"
    position: str | None = None
    start_date: date | None = None
    monthly_wage: Decimal | None = None
    contract: bool | None = None
    contract_months: int | None = None
    reject_reason: str | None = None
    end_date: date | None = None
    end_reason: str | None = None
    first_followup_date: date | None = None
    last_followup_date: date | None = None
    priority_group: bool = False
    version: int = 0
    demand_id: str | None = None
    """The job demand (用工需求) and position this placement fills, if its dispatch named one (issue 19)."""
    position_id: str | None = None


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


UNKNOWN_WORKER = "unknown worker: not in the real-name ledger"
ONLY_NAMED_EMPLOYER = "only the employer named on the dispatch may confirm or reject this placement"


def eligibility(state: str | None, current_placement_id: str | None) -> str | None:
    """Why a worker in ``state`` (None: unknown) cannot join a dispatch now, or None: the one wording of the rule
    "one active placement at a time", whoever asks (the API's pre-check, the Excel import, the ledger)."""
    if state is None:
        return UNKNOWN_WORKER
    if state not in AVAILABLE:
        return f"worker is {state} on placement {current_placement_id}; one active placement at a time"
    return None


def dispatch_refusal(worker: WorkerRecord | None) -> str | None:
    """Why this worker cannot join a dispatch now, or None."""
    if worker is None:
        return eligibility(None, None)
    return eligibility(worker.state, worker.current_placement_id)


def employer_refusal(named_employer_id: str, employer_id: str) -> str | None:
    """入职确认 and its refusal are the word of the employer named on the dispatch, nobody else's."""
    return None if employer_id == named_employer_id else ONLY_NAMED_EMPLOYER


def acts_on_placement(role: str, org: str, employer_id: str, organizer_id: str | None) -> bool:
    """Who may write about a placement: its employer, its organizer (the workstation that dispatched), an admin."""
    return role == "admin" or org in (employer_id, organizer_id)


def dispatch(worker: WorkerRecord, d: dict[str, Any], placement_id: str) -> tuple[PlacementRecord, Changes]:
    refusal = dispatch_refusal(worker)
    if refusal:
        raise Rejected(refusal)
    placement = PlacementRecord(
        placement_id=placement_id, dispatch_id=d["dispatch_id"], worker_id=worker.worker_id,
        employer_id=d["employer"]["employer_id"], organizer_id=d["organizer_id"], brand_id=d["brand_id"],
        origin_region=d["origin_region"], destination_region=d["destination_region"],
        departure_date=_as_date(d["departure_date"]), priority_group=bool(worker.priority_groups),
    )
    changes: Changes = {"state": [worker.state, "dispatched"],
                        "current_placement_id": [worker.current_placement_id, placement_id]}
    worker.state, worker.current_placement_id = "dispatched", placement_id
    return placement, changes


def _placement_of(
    worker: WorkerRecord | None, placement: PlacementRecord | None, placement_id: str
) -> tuple[WorkerRecord, PlacementRecord]:
    if placement is None:
        raise Rejected(f"unknown placement {placement_id}: it was never dispatched")
    if worker is None or worker.worker_id != placement.worker_id:
        raise Rejected("placement belongs to another worker")
    return worker, placement


def confirm(worker: WorkerRecord | None, placement: PlacementRecord | None, p: dict[str, Any]) -> Changes:
    """入职确认 — only by the employer named on the dispatch, only a dispatched placement."""
    worker, placement = _placement_of(worker, placement, p["placement_id"])
    refusal = employer_refusal(placement.employer_id, p["employer_id"])
    if refusal:
        raise Rejected(refusal)
    if placement.status != "dispatched":
        raise Rejected(f"placement is {placement.status}; only a dispatched placement can be confirmed")
    placement.status = "confirmed"
    placement.position = p["position"]
    placement.start_date = _as_date(p["start_date"])
    placement.monthly_wage = Decimal(str(p["monthly_wage"]))
    placement.contract = p["contract"]
    placement.contract_months = p.get("contract_months")
    changes: Changes = {"state": [worker.state, "placed"], "placement_status": ["dispatched", "confirmed"]}
    worker.state = "placed"
    return changes


def reject(worker: WorkerRecord | None, placement: PlacementRecord | None, p: dict[str, Any]) -> Changes:
    """No-show or not hired: the worker becomes available again."""
    worker, placement = _placement_of(worker, placement, p["placement_id"])
    refusal = employer_refusal(placement.employer_id, p["employer_id"])
    if refusal:
        raise Rejected(refusal)
    if placement.status != "dispatched":
        raise Rejected(f"placement is {placement.status}; only a dispatched placement can be rejected")
    placement.status, placement.reject_reason = "rejected", p["reason"]
    changes: Changes = {"state": [worker.state, "registered"], "placement_status": ["dispatched", "rejected"],
                        "current_placement_id": [worker.current_placement_id, None]}
    worker.state, worker.current_placement_id = "registered", None
    return changes


def end(worker: WorkerRecord | None, placement: PlacementRecord | None, p: dict[str, Any]) -> Changes:
    """Separation (离职): returned home counts as 返乡, any other reason as separated."""
    worker, placement = _placement_of(worker, placement, p["placement_id"])
    if placement.status != "confirmed":
        raise Rejected(f"placement is {placement.status}; only a confirmed placement can end")
    end_date = _as_date(p["end_date"])
    assert placement.start_date is not None
    if end_date < placement.start_date:
        raise Rejected(f"end_date {end_date} is before start_date {placement.start_date}")
    placement.status, placement.end_date, placement.end_reason = "ended", end_date, p["reason"]
    new_state = "returned" if p["reason"] == "returned_home" else "separated"
    changes: Changes = {"state": [worker.state, new_state], "placement_status": ["confirmed", "ended"],
                        "current_placement_id": [worker.current_placement_id, None]}
    worker.state, worker.current_placement_id = new_state, None
    return changes


def record_followup(worker: WorkerRecord | None, placement: PlacementRecord | None, p: dict[str, Any]) -> Changes:
    """跟踪服务: a visit or call after placement (also after separation, e.g. to someone back home)."""
    worker, placement = _placement_of(worker, placement, p["placement_id"])
    if placement.status not in ("confirmed", "ended"):
        raise Rejected(f"placement is {placement.status}; follow-up service starts once the placement is confirmed")
    day = _as_date(p["date"])
    if placement.start_date and day < placement.start_date:
        raise Rejected(f"follow-up date {day} is before the placement started ({placement.start_date})")
    # Offline workstations sync late: keep the earliest and latest by date, whatever the arrival order.
    if placement.first_followup_date is None or day < placement.first_followup_date:
        placement.first_followup_date = day
    if placement.last_followup_date is None or day > placement.last_followup_date:
        placement.last_followup_date = day
    changes: Changes = {}
    if worker.last_followup_at is None or day.isoformat() > worker.last_followup_at:
        changes["last_followup_at"] = [worker.last_followup_at, day.isoformat()]
        worker.last_followup_at = day.isoformat()
    return changes
