"""The ledger's decisions about organizations (机构) and subsidy claims (补贴申领), issue 21.

Kept beside ``decide`` rather than in it: the registry and the claims are records of their own, with their own
history tables, that the worker and placement rules never read. ``decide`` hands their events here and calls
:func:`first_use` after a dispatch applies.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from laowu.domain import organizations as org_rules
from laowu.domain import subsidies as subsidy_rules
from laowu.domain.organizations import OrganizationRecord
from laowu.domain.outcome import Rejected
from laowu.domain.subsidy_claims import Budget, ClaimContext, ClaimRecord
from laowu.ledger import rows
from laowu.ledger.rules import RULES
from laowu.ledger.state import LedgerState
from schemas.envelope import Envelope


@dataclass
class RegistryDecision:
    """What the batch writes for the registry and the claims."""

    organizations: dict[str, OrganizationRecord] = field(default_factory=dict)
    organization_history: list[dict[str, Any]] = field(default_factory=list)
    claims: dict[str, ClaimRecord] = field(default_factory=dict)
    claim_history: list[dict[str, Any]] = field(default_factory=list)
    budgets: dict[tuple[str, int], Budget] = field(default_factory=dict)


def apply_organization(s: LedgerState, out: RegistryDecision, e: Envelope) -> str:
    oid = e.payload["org_id"]
    old = s.organizations.get(oid)
    record, changes = RULES[e.type].apply(copy.copy(old), e.payload, e.occurred_at, e.source)  # type: ignore[misc]
    record.version += 1
    s.organizations[oid] = out.organizations[oid] = record
    out.organization_history.append(rows.history(e, "org_id", oid, changes))
    return str(oid)


def first_use(s: LedgerState, out: RegistryDecision, e: Envelope) -> None:
    """The organizer and the employer a dispatch names, registered on the sender's word if the registry lacks
    them, pending the bureau's verification (never verified by being named)."""
    d = e.payload
    region = e.actor.region if e.actor is not None and e.actor.region else d["origin_region"]
    named = [(d["organizer_id"], "workstation", d["organizer_id"], region, None),
             (d["employer"]["employer_id"], "employer", d["employer"]["name"], d["destination_region"],
              d["employer"].get("uscc"))]
    for oid, kind, name, code, uscc in named:
        if oid in s.organizations:
            continue
        record, changes = org_rules.first_use(oid, kind, name, code, uscc, e.occurred_at, e.source)
        record.version = 1
        s.organizations[oid] = out.organizations[oid] = record
        out.organization_history.append(rows.history(e, "org_id", oid, changes | {"dispatch_id": [None, d["dispatch_id"]]}))


def budget(s: LedgerState, out: RegistryDecision, claim: ClaimRecord) -> Budget:
    key = claim.budget_key
    if key not in s.budgets:
        s.budgets[key] = Budget(key[0], key[1], subsidy_rules.budget_of(*key))
    return s.budgets[key]


def apply_claim(s: LedgerState, out: RegistryDecision, e: Envelope) -> str:
    sid = e.payload["subsidy_id"]
    held = s.claims.get(sid)
    if held is None:
        raise Rejected(f"unknown subsidy {sid} (an entitlement is accrued by the ledger)")
    claim = copy.deepcopy(held)
    if e.payload["origin_region"] != claim.origin_region:
        raise Rejected(f"subsidy {sid} belongs to {claim.origin_region}, not {e.payload['origin_region']}")
    account = copy.copy(budget(s, out, claim))
    ctx = ClaimContext(dict(s.rivals.get(claim.rival_key, {})), account,
                       subsidy_rules.notice_days(claim.rule_region, claim.period))
    changes = RULES[e.type].apply(claim, e.payload, e.occurred_at, ctx)  # type: ignore[misc]
    claim.version += 1
    s.claims[sid] = out.claims[sid] = claim
    s.budgets[claim.budget_key] = out.budgets[claim.budget_key] = account
    s.rivals.setdefault(claim.rival_key, {})[sid] = claim.status
    out.claim_history.append(rows.history(e, "subsidy_id", sid, changes))
    return str(sid)
