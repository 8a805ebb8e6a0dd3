"""Derived events as they travel: ``ledger.changed``, ``alert.raised``/``alert.closed``, ``subsidy.accrued``.

Both the ledger and the deadline sweeper emit them; their ids are deterministic (``laowu.domain.ids``), so an
alert raised by either, or twice, is one event downstream. Each is ``(topic, key, envelope)`` with the topic's
catalogue name (the writer adds the deployment's prefix) and the envelope as the JSON it is published as.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from laowu.domain import ids
from laowu.domain.ids import uuid5_str
from laowu.ledger.rules import NAME_OF
from schemas import events as ev
from schemas.topics import ALERTS, LEDGER_CHANGES, SUBSIDIES

Outgoing = tuple[str, str, dict[str, Any]]
"""(topic name in the catalogue, partition key, envelope)."""

CHANGED = NAME_OF[ev.LedgerChanged]
RAISED = NAME_OF[ev.AlertRaised]
CLOSED = NAME_OF[ev.AlertClosed]
ACCRUED = NAME_OF[ev.SubsidyAccrued]


def envelope(type: str, body: BaseModel | dict[str, Any], key: str, at: datetime, event_id: uuid.UUID | str,
             now: str, source: str) -> dict[str, Any]:
    """The envelope of a derived event; ``now`` (ISO text) is shared by a whole batch."""
    payload = body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
    return {"event_id": str(event_id), "type": type, "schema_version": 1, "occurred_at": at.isoformat(),
            "recorded_at": now, "source": source, "key": key, "payload": payload}


def ledger_changed(cause_id: uuid.UUID, cause_type: str, at: datetime, entity: str, entity_id: str,
                   regions: list[str], before: dict[str, Any] | None, after: dict[str, Any] | None, key: str,
                   now: str, source: str, facts: dict[str, Any] | None = None) -> Outgoing:
    # The hottest path of the ledger: a plain dict in the shape of schemas.events.LedgerChanged (its contract test
    # and the stats sink validate it), not a model validated and serialised twice.
    body = {"entity": entity, "entity_id": entity_id, "cause_event_id": str(cause_id), "cause_type": cause_type,
            "regions": regions, "before": before, "after": after}
    if facts is not None:
        body["facts"] = facts
    return LEDGER_CHANGES.name, key, envelope(CHANGED, body, key, at, uuid5_str(cause_id, f"{entity}:{entity_id}"),
                                              now, source)


def alert_raised(row: dict[str, Any], now: str, source: str) -> Outgoing:
    body = ev.AlertRaised(alert_id=row["alert_id"], kind=row["kind"], worker_id=row["worker_id"],
                          placement_id=row["placement_id"], regions=row["regions"], due_at=row.get("due_at"))
    return ALERTS.name, row["worker_id"], envelope(RAISED, body, row["worker_id"], row["raised_at"],
                                                   ids.alert_raised_id(row["alert_id"]), now, source)


def alert_closed(alert: dict[str, Any], at: datetime, now: str, source: str) -> Outgoing:
    """``alert``: alert_id, kind, worker_id, placement_id, regions."""
    body = ev.AlertClosed(alert_id=alert["alert_id"], kind=alert["kind"], worker_id=alert["worker_id"],
                          placement_id=alert["placement_id"], regions=alert["regions"])
    return ALERTS.name, alert["worker_id"], envelope(CLOSED, body, alert["worker_id"], at,
                                                     ids.alert_closed_id(alert["alert_id"]), now, source)


def subsidy_accrued(row: dict[str, Any], now: str, source: str) -> Outgoing:
    body = ev.SubsidyAccrued(kind=row["kind"], worker_id=row["worker_id"], organization_id=row["organization_id"],
                             placement_id=row["placement_id"], amount=row["amount"], rule_version=row["rule_version"])
    return SUBSIDIES.name, row["worker_id"], envelope(ACCRUED, body, row["worker_id"], row["accrued_at"],
                                                      ids.subsidy_accrued_id(row["subsidy_id"]), now, source)
