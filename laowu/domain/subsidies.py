"""Subsidy rules (补贴) as data: which accruals a placement earns, under which rule version.

* transport (一次性交通补助) and social_insurance (社保补贴): one each per confirmed placement of a
  priority-group worker (优先输出就业服务对象) in organized output;
* employment_service (就业创业服务补助): to the organizing body, per placement still not ended
  ``retained_days`` after its start.
The platform computes eligibility and accruals; it does not pay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from laowu.domain import regions
from laowu.domain.alerts import day_start
from laowu.domain.lifecycle import PlacementRecord


@dataclass(frozen=True)
class Accrual:
    subsidy_id: str
    kind: str
    worker_id: str
    organization_id: str
    placement_id: str
    amount: Decimal
    rule_version: str
    accrued_on: date


KINDS = ("transport", "social_insurance", "employment_service")
ON_CONFIRM = ("transport", "social_insurance")


def subsidy_id(kind: str, placement_id: str) -> str:
    """Deterministic: accruing twice is a no-op, and the ledger can look up what a placement already earned."""
    return f"{kind}:{placement_id}"


def subsidy_ids(placement_id: str) -> list[str]:
    return [subsidy_id(kind, placement_id) for kind in KINDS]


@lru_cache(maxsize=1)
def default_rules() -> dict[str, Any]:
    text = (resources.files("laowu.domain") / "data" / "subsidy_rules.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def rules_for(region: str, rules: dict[str, Any] | None = None) -> Mapping[str, Any]:
    """The most specific rule set covering the region: county, then city, then province, then default (read-only:
    the default rules' answer is cached, as every confirmation asks it)."""
    if rules is None:
        return _default_rules_for(region)
    for code in regions.rollup(region):
        if code in rules:
            return MappingProxyType(rules[code])
    return MappingProxyType(rules["default"])


@lru_cache(maxsize=8192)
def _default_rules_for(region: str) -> Mapping[str, Any]:
    return rules_for(region, default_rules())


def min_retained_days(rules: dict[str, Any] | None = None) -> int:
    """The shortest retention any region asks for: the sweeper's cheap pre-filter (the rules decide)."""
    rules = rules or default_rules()
    return min(int(r["employment_service"]["retained_days"]) for k, r in rules.items()
               if not k.startswith("_") and "employment_service" in r)


def on_confirm(p: PlacementRecord, rules: dict[str, Any] | None = None) -> list[Accrual]:
    r = rules_for(p.origin_region, rules)
    out = []
    for kind in ON_CONFIRM:
        rule = r.get(kind)
        if rule is None or (rule.get("priority_groups_only", True) and not p.priority_group):
            continue
        assert p.start_date is not None
        out.append(Accrual(subsidy_id(kind, p.placement_id), kind, p.worker_id, p.organizer_id, p.placement_id,
                           Decimal(rule["amount"]), r["version"], p.start_date))
    return out


def retention_due(p: PlacementRecord, rules: dict[str, Any] | None = None) -> date | None:
    rule = rules_for(p.origin_region, rules).get("employment_service")
    if rule is None or p.start_date is None:
        return None
    return p.start_date + timedelta(days=int(rule["retained_days"]))


def employment_service(p: PlacementRecord, today: date, rules: dict[str, Any] | None = None) -> Accrual | None:
    """Due once the placement has lasted ``retained_days`` — judged on its dates, not on when we look."""
    due = retention_due(p, rules)
    if due is None or p.status not in ("confirmed", "ended") or today < due:
        return None
    if p.end_date is not None and p.end_date < due:
        return None
    r = rules_for(p.origin_region, rules)
    return Accrual(subsidy_id("employment_service", p.placement_id), "employment_service", p.worker_id, p.organizer_id,
                   p.placement_id, Decimal(r["employment_service"]["amount"]), r["version"], due)


__all__ = ["KINDS", "Accrual", "day_start", "employment_service", "on_confirm", "retention_due", "rules_for", "subsidy_id",
           "subsidy_ids"]
