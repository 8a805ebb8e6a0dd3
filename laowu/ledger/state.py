"""What ``decide`` reads: the records an input's events name, loaded once, changed in memory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from laowu.domain.agreements import AgreementRecord
from laowu.domain.brands import BrandRecord
from laowu.domain.casework import Case
from laowu.domain.demands import DemandRecord
from laowu.domain.lifecycle import PlacementRecord
from laowu.domain.organizations import OrganizationRecord
from laowu.domain.subsidy_claims import Budget, ClaimRecord
from laowu.domain.workers import WorkerRecord
from schemas.envelope import Envelope

FollowUpFact = tuple[str, date, list[str]]
"""(followup_id, date, problems): what the wage-arrears and injury alerts are recounted from."""


@dataclass
class AlertFact:
    """An alert the ledger holds, as far as closing it again needs."""

    alert_id: str
    kind: str
    worker_id: str
    placement_id: str
    regions: list[str]
    closed_at: datetime | None


@dataclass
class LedgerState:
    brands: dict[str, BrandRecord] = field(default_factory=dict)
    workers: dict[str, WorkerRecord] = field(default_factory=dict)
    unlocked_workers: set[str] = field(default_factory=set)
    """Workers read without a lock, for events that only add to their history: never to be rewritten."""
    placements: dict[str, PlacementRecord] = field(default_factory=dict)
    agreements: dict[str, AgreementRecord] = field(default_factory=dict)
    """Cooperation agreements the batch changes or its dispatches name (issue 19)."""
    dispatches: set[str] = field(default_factory=set)
    """Dispatch ids already in the ledger (a second ``dispatch.created`` of one is rejected)."""
    refused_placements: dict[str, str] = field(default_factory=dict)
    """Placements a dispatch refused, with the reason: events about them can never apply."""
    refused_registrations: dict[str, str] = field(default_factory=dict)
    """``worker:<id>`` / ``brand:<id>`` whose registration was rejected (and is not accepted again), with why."""
    deferred_registrations: set[str] = field(default_factory=set)
    """Workers whose registration waits (for a brand): their other events wait behind it."""
    waiting: dict[str, list[Envelope]] = field(default_factory=dict)
    """Stored deferred events by the key they wait for, in arrival order."""
    stored_waits: dict[uuid.UUID, str] = field(default_factory=dict)
    """Every stored deferred event loaded, and what it waited for when stored."""
    unreadable_waits: list[tuple[uuid.UUID, Any, str]] = field(default_factory=list)
    """Stored deferred events that no longer validate (deferred by an older release): (event_id, raw, why)."""
    alerts: dict[str, AlertFact] = field(default_factory=dict)
    """Alerts of the loaded placements."""
    subsidies: set[str] = field(default_factory=set)
    """Subsidy ids accrued for the loaded placements."""
    followups: dict[str, list[FollowUpFact]] = field(default_factory=dict)
    """Follow-ups of the loaded placements."""
    cases: dict[str, Case] = field(default_factory=dict)
    """Alerts worked by this batch's casework events, as cases (issue 20)."""
    demands: dict[str, DemandRecord] = field(default_factory=dict)
    """Job demands the batch's events name (locked: fills are counted one batch at a time)."""
    organizations: dict[str, OrganizationRecord] = field(default_factory=dict)
    """Organizations the batch registers, verifies, or names in a dispatch (registered on first use)."""
    claims: dict[str, ClaimRecord] = field(default_factory=dict)
    """Entitlements whose workflow the batch moves (issue 21)."""
    rivals: dict[tuple[str, str, int], dict[str, str]] = field(default_factory=dict)
    """(worker, kind, period) → the person's entitlements of that kind and period in a workflow, with their status."""
    budgets: dict[tuple[str, int], Budget] = field(default_factory=dict)
    """(rule region, year) → the budget and what is committed and paid from it (locked)."""
