"""Subsidy rules (补贴) as data: which entitlements a placement earns, under which rule version.

Rules live in ``data/subsidy_rules.json`` per region (GB/T 2260; the most specific one covering the dispatch's origin
applies) and per year (the year of the day that earns the entitlement). Each rule set has a ``version`` that every
entitlement records, a yearly ``budget`` for the region and the days of public notice (公示) before payment.

* transport (一次性交通补助): per confirmed placement of a priority-group worker (优先输出就业服务对象) in organized
  output, tiered by the placement's distance class (``laowu.domain.distance``: 跨省 / 省内跨市 / 市内跨县; none
  within the county);
* social_insurance (社会保险补贴): per confirmed placement of a priority-group worker;
* employment_service (就业创业服务补助): to the organizing body, per placement still not ended ``retained_days`` after
  its start;
* migrant_bonus (外出务工奖补): to the worker, for a priority-group worker still in work outside the county
  ``retained_days`` after the start (the rules' "three months" is counted as 90 days).

The training subsidy (职业技能培训补贴) is not accrued: a training names its provider as free text and no placement,
so the ledger cannot tell a registered institution (see README, issue 21).
The platform computes entitlements and records the workflow to payment; it does not pay.
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
from laowu.domain.distance import distance_class
from laowu.domain.lifecycle import PlacementRecord

FEN = Decimal("0.01")


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
    rule_region: str = "default"
    period: int = 0


KINDS = ("transport", "social_insurance", "employment_service", "migrant_bonus")
ON_CONFIRM = ("transport", "social_insurance")
ON_RETENTION = ("employment_service", "migrant_bonus")
LABELS = {"transport": "一次性交通补助", "social_insurance": "社会保险补贴", "employment_service": "就业创业服务补助",
          "migrant_bonus": "外出务工奖补"}


def subsidy_id(kind: str, placement_id: str) -> str:
    """Deterministic: accruing twice is a no-op, and the ledger can look up what a placement already earned."""
    return f"{kind}:{placement_id}"


def subsidy_ids(placement_id: str) -> list[str]:
    return [subsidy_id(kind, placement_id) for kind in KINDS]


def fen(value: Decimal | str) -> Decimal:
    """An amount in yuan exact to the fen (分); more digits are an error, never rounded away."""
    amount = Decimal(value)
    if amount != amount.quantize(FEN):
        raise ValueError(f"{value} is not a whole number of fen")
    return amount.quantize(FEN)


@lru_cache(maxsize=1)
def default_rules() -> dict[str, Any]:
    text = (resources.files("laowu.domain") / "data" / "subsidy_rules.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def _rule_set(entry: Mapping[str, Any], code: str, year: int | None) -> Mapping[str, Any]:
    """A region's entry is either one rule set (older data, any year) or rule sets by year: the year asked for, else
    the latest before it, else the earliest."""
    if "version" in entry:
        return MappingProxyType(dict(entry, region=code, year=year or 0))
    years = sorted(int(y) for y in entry if not y.startswith("_"))
    if year is None:
        chosen = years[-1]
    else:
        before = [y for y in years if y <= year]
        chosen = before[-1] if before else years[0]
    return MappingProxyType(dict(entry[str(chosen)], region=code, year=year if year is not None else chosen))


def rules_for(region: str, rules: dict[str, Any] | None = None, on: date | None = None) -> Mapping[str, Any]:
    """The most specific rule set covering the region (county, then city, then province, then default) for the year
    of ``on`` (read-only; the default rules' answers are cached, as every confirmation asks). Adds ``region`` (the
    code whose rules apply: the budget they draw on) and ``year`` (the rule period)."""
    if rules is None:
        return _default_rules_for(region, on.year if on else None)
    for code in regions.rollup(region):
        if code in rules:
            return _rule_set(rules[code], code, on.year if on else None)
    return _rule_set(rules["default"], "default", on.year if on else None)


@lru_cache(maxsize=8192)
def _default_rules_for(region: str, year: int | None) -> Mapping[str, Any]:
    return rules_for(region, default_rules(), date(year, 1, 1) if year else None)


def _sets(rules: dict[str, Any]) -> list[Mapping[str, Any]]:
    out = []
    for key, entry in rules.items():
        if key.startswith("_"):
            continue
        out += [entry] if "version" in entry else [v for y, v in entry.items() if not y.startswith("_")]
    return out


def min_retained_days(rules: dict[str, Any] | None = None) -> int:
    """The shortest retention any region asks for: the sweeper's cheap pre-filter (the rules decide)."""
    return min(int(r[k]["retained_days"]) for r in _sets(rules or default_rules())
               for k in ON_RETENTION if k in r)


def budget_of(rule_region: str, year: int, rules: dict[str, Any] | None = None) -> Decimal:
    """A region's yearly subsidy budget (0 where the rules set none: nothing may be approved against it)."""
    rules = rules or default_rules()
    entry = rules.get(rule_region)
    if entry is None:
        return Decimal("0.00")
    r = _rule_set(entry, rule_region, year)
    return fen(r.get("budget", "0"))


def notice_days(rule_region: str, year: int, rules: dict[str, Any] | None = None) -> int:
    """The shortest public notice (公示) the region's rules allow."""
    rules = rules or default_rules()
    entry = rules.get(rule_region) or rules["default"]
    return int(_rule_set(entry, rule_region, year).get("notice_days", 5))


def transport_amount(rule: Mapping[str, Any], origin: str, destination: str) -> Decimal | None:
    """一次性交通补助 by distance class; a flat ``amount`` (older rule data) applies to every class."""
    tiers = rule.get("tiers")
    if tiers is None:
        return fen(rule["amount"])
    amount = tiers.get(distance_class(origin, destination))
    return fen(amount) if amount is not None and Decimal(amount) > 0 else None


def _accrual(kind: str, p: PlacementRecord, r: Mapping[str, Any], amount: Decimal, on: date) -> Accrual:
    # organization_id: the organizing body (所属机构) — the payee of the service subsidy, the applicant for the rest
    return Accrual(subsidy_id(kind, p.placement_id), kind, p.worker_id, p.organizer_id, p.placement_id, amount,
                   r["version"], on, r["region"], int(r["year"]) or on.year)


def on_confirm(p: PlacementRecord, rules: dict[str, Any] | None = None) -> list[Accrual]:
    assert p.start_date is not None
    r = rules_for(p.origin_region, rules, p.start_date)
    out = []
    for kind in ON_CONFIRM:
        rule = r.get(kind)
        if rule is None or (rule.get("priority_groups_only", True) and not p.priority_group):
            continue
        amount = (transport_amount(rule, p.origin_region, p.destination_region) if kind == "transport"
                  else fen(rule["amount"]))
        if amount is not None:
            out.append(_accrual(kind, p, r, amount, p.start_date))
    return out


def retention_due(p: PlacementRecord, rules: dict[str, Any] | None = None, kind: str = "employment_service"
                  ) -> date | None:
    if p.start_date is None:
        return None
    rule = rules_for(p.origin_region, rules, p.start_date).get(kind)
    if rule is None:
        return None
    return p.start_date + timedelta(days=int(rule["retained_days"]))


def _retained(p: PlacementRecord, today: date, kind: str, rules: dict[str, Any] | None) -> Accrual | None:
    due = retention_due(p, rules, kind)
    if due is None or p.status not in ("confirmed", "ended") or today < due:
        return None
    if p.end_date is not None and p.end_date < due:
        return None
    r = rules_for(p.origin_region, rules, due)
    rule = r.get(kind)
    if rule is None:
        return None
    if kind == "migrant_bonus":
        if rule.get("priority_groups_only", True) and not p.priority_group:
            return None
        if distance_class(p.origin_region, p.destination_region) == "in_county":
            return None  # 外出务工: work outside the county only
    return _accrual(kind, p, r, fen(rule["amount"]), due)


def employment_service(p: PlacementRecord, today: date, rules: dict[str, Any] | None = None) -> Accrual | None:
    """Due once the placement has lasted ``retained_days`` — judged on its dates, not on when we look."""
    return _retained(p, today, "employment_service", rules)


def on_retention(p: PlacementRecord, today: date, rules: dict[str, Any] | None = None) -> list[Accrual]:
    """What a placement has earned by staying: the organizer's service subsidy and the worker's migrant bonus."""
    return [a for kind in ON_RETENTION if (a := _retained(p, today, kind, rules)) is not None]


__all__ = ["KINDS", "LABELS", "Accrual", "budget_of", "day_start", "employment_service", "fen", "notice_days",
           "on_confirm", "on_retention", "retention_due", "rules_for", "subsidy_id", "subsidy_ids",
           "transport_amount"]
