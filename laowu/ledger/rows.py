"""The rows a decision writes, and the views of records that ``ledger.changed`` carries (no personal data)."""

from __future__ import annotations

from typing import Any

from laowu.domain.alerts import Alert, day_start
from laowu.domain.brands import BrandRecord
from laowu.domain.lifecycle import PlacementRecord
from laowu.domain.outcome import Changes
from laowu.domain.subsidies import Accrual
from laowu.domain.workers import WorkerRecord
from schemas.common import scrub
from schemas.envelope import Envelope


def row_of(record: Any) -> dict[str, Any]:
    """A record's fields as a shallow copy (dataclasses.asdict deep-copies, which cost a third of the batch).

    Dates, datetimes, UUIDs and Decimals stay as they are: the pool's orjson codec writes them.
    """
    return dict(vars(record))


def worker_view(w: WorkerRecord | None) -> dict[str, Any] | None:
    """What statistics need of a worker, before and after a change — no personal data."""
    if w is None:
        return None
    return {"worker_id": w.worker_id, "state": w.state, "brand_ids": list(w.brand_ids),
            "household_region": w.household_region, "priority_groups": list(w.priority_groups),
            "current_placement_id": w.current_placement_id, "registered_at": w.registered_at.isoformat()}


def placement_view(p: PlacementRecord | None) -> dict[str, Any] | None:
    return None if p is None else row_of(p)


def brand_view(b: BrandRecord | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {k: getattr(b, k) for k in ("brand_id", "name", "region_code", "category", "level", "status")}


def history(e: Envelope, entity_col: str, entity_id: str, changes: Changes) -> dict[str, Any]:
    """A ``worker_events`` / ``brand_events`` row."""
    return {entity_col: entity_id, "event_id": e.event_id, "type": e.type, "occurred_at": e.occurred_at,
            "recorded_at": e.recorded_at, "source": e.source, "actor": e.actor.model_dump() if e.actor else None,
            "changes": changes}


def receipt(e: Envelope, status: str, reason: str | None, entity: str | None) -> dict[str, Any]:
    return {"event_id": e.event_id, "type": e.type, "status": status, "reason": reason, "source": e.source,
            "entity_id": entity}


def rejected_receipt(event_id: Any, raw: Any, reason: str) -> dict[str, Any]:
    """The receipt of an event refused as it stands; its own text is scrubbed so that refusing it cannot fail."""
    raw = raw if isinstance(raw, dict) else {}
    return {"event_id": event_id, "type": scrub(str(raw.get("type", "unknown")))[:64], "status": "rejected",
            "reason": scrub(reason), "source": scrub(str(raw.get("source", "")))[:64], "entity_id": None}


def alert_row(a: Alert, regions: list[str]) -> dict[str, Any]:
    return {"alert_id": a.alert_id, "kind": a.kind, "worker_id": a.worker_id, "placement_id": a.placement_id,
            "regions": regions, "due_at": a.due_at, "raised_at": a.raised_at, "detail": a.detail,
            "closed_at": a.closed_at}


def subsidy_row(a: Accrual, placement: PlacementRecord, regions: list[str]) -> dict[str, Any]:
    """A subsidy carries its placement's origin region and brand: the statistics sum it per scope without a join."""
    return {"subsidy_id": a.subsidy_id, "kind": a.kind, "worker_id": a.worker_id, "organization_id": a.organization_id,
            "placement_id": a.placement_id, "amount": str(a.amount), "rule_version": a.rule_version,
            "accrued_at": day_start(a.accrued_on), "regions": regions, "origin_region": placement.origin_region,
            "brand_id": placement.brand_id, "period": a.period, "rule_region": a.rule_region}


FOLLOWUP_COLUMNS = ("followup_id", "placement_id", "worker_id", "date", "channel", "employment_status",
                    "monthly_wage", "satisfaction")


def followup_facts(payload: dict[str, Any]) -> dict[str, Any]:
    """What a follow-up found, as ``ledger.changed`` carries it for monitoring (务工监测, issue 20): no personal data."""
    return {k: payload.get(k) for k in ("followup_id", "date", "employment_status", "monthly_wage")}


def followup_row(e: Envelope) -> dict[str, Any]:
    p = e.payload
    return {k: p.get(k) for k in FOLLOWUP_COLUMNS} | {"problems": p.get("problems", []), "services": p.get("services", []),
                                                      "event_id": e.event_id, "source": e.source}
