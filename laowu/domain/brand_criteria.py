"""Entry criteria (入库标准), the yearly re-check (年度复核) and the integrity rating (诚信评价) — pure code over a
brand's figures, with the thresholds as data (``data/brand_rules.json``).

The figures are gathered from the ledger by ``laowu.store.brand_figures`` in one query set; everything here only
judges them, so the same figures always give the same verdict, whichever door asked and whenever it is replayed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from laowu.domain import regions

LEVELS = ("county", "municipal", "provincial", "national")
"""Brand levels, lowest first: a promotion (晋级) moves one step up."""

FIGURE_LABELS = {
    "members": "从业人数", "trained": "参加培训人数", "certified": "持证人数", "placed": "实现就业人数",
    "retention_3m": "3个月稳岗率", "retention_6m": "6个月稳岗率", "average_wage": "月平均工资(元)",
    "wage_arrears_alerts": "欠薪预警数", "injury_alerts": "工伤预警数", "satisfaction": "满意度(1-5)",
}
Proposal = Literal["keep", "promote", "warn", "suspend", "revoke"]
PROPOSALS: tuple[Proposal, ...] = ("keep", "promote", "warn", "suspend", "revoke")
PROPOSAL_LABELS = {"keep": "保持", "promote": "晋级", "warn": "警示", "suspend": "暂停", "revoke": "撤销"}


@dataclass(frozen=True)
class Figures:
    """What the ledger says of a brand today: counts, and the sums rates and averages are made of (so a recount
    compares integers, never rounded rates)."""

    members: int = 0
    trained: int = 0
    certified: int = 0
    placed: int = 0
    retention_3m_due: int = 0
    retention_3m_kept: int = 0
    retention_6m_due: int = 0
    retention_6m_kept: int = 0
    wage_sum: Decimal = Decimal(0)
    wage_count: int = 0
    wage_arrears_alerts: int = 0
    injury_alerts: int = 0
    satisfaction_sum: int = 0
    satisfaction_count: int = 0

    def value(self, figure: str) -> Decimal | int | None:
        """A criterion's figure; a rate or an average of nothing is None (unknown, so not met)."""
        if figure in ("retention_3m", "retention_6m"):
            due, kept = getattr(self, f"{figure}_due"), getattr(self, f"{figure}_kept")
            return _round(Decimal(kept) / Decimal(due), "0.0001") if due else None
        if figure == "average_wage":
            return _round(Decimal(self.wage_sum) / self.wage_count, "0.01") if self.wage_count else None
        if figure == "satisfaction":
            return _round(Decimal(self.satisfaction_sum) / self.satisfaction_count, "0.01") if self.satisfaction_count else None
        if figure not in FIGURE_LABELS:
            raise KeyError(f"unknown figure {figure}")
        return int(getattr(self, figure))

    def public(self) -> dict[str, Any]:
        """The raw figures as JSON numbers and text (``schemas.events.BrandFigures``): what events carry."""
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()}


def _round(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _jsonable(value: Decimal | int | None) -> str | int | None:
    return str(value) if isinstance(value, Decimal) else value


@lru_cache(maxsize=1)
def default_rules() -> dict[str, Any]:
    text = (resources.files("laowu.domain") / "data" / "brand_rules.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def _rules(rules: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return default_rules() if rules is None else rules


def criteria_for(level: str, region: str, rules: Mapping[str, Any] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(the region key that applies, its criteria for ``level``): the most specific rule set along
    ``regions.rollup(region)`` that names the level, else ``default``."""
    table = _rules(rules)["criteria"]
    for code in regions.rollup(region):
        if level in table.get(code, {}):
            return code, list(table[code][level])
    return "default", list(table["default"][level])


@dataclass(frozen=True)
class Evaluation:
    """The criteria of one level judged against the figures: each with its threshold, value and verdict."""

    level: str
    region_rule: str
    rules_version: str
    criteria: list[dict[str, Any]]
    figures: dict[str, Any]

    @property
    def met(self) -> bool:
        return all(c["met"] for c in self.criteria)

    @property
    def failed(self) -> list[str]:
        return [c["figure"] for c in self.criteria if not c["met"]]

    def public(self) -> dict[str, Any]:
        return {"level": self.level, "region_rule": self.region_rule, "rules_version": self.rules_version,
                "met": self.met, "failed": self.failed, "criteria": self.criteria, "figures": self.figures}


def evaluate(figures: Figures, level: str, region: str, rules: Mapping[str, Any] | None = None) -> Evaluation:
    """入库标准 of ``level`` for a brand of ``region``: each criterion a lower (``min``) or upper (``max``) bound."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level}")
    key, criteria = criteria_for(level, region, rules)
    judged = []
    for c in criteria:
        figure = c["figure"]
        bound = "min" if "min" in c else "max"
        threshold = Decimal(str(c[bound]))
        value = figures.value(figure)
        met = value is not None and (value >= threshold if bound == "min" else value <= threshold)
        judged.append({"figure": figure, "label": FIGURE_LABELS[figure], "bound": bound,
                       "threshold": _jsonable(threshold if "." in str(c[bound]) else int(threshold)),
                       "value": _jsonable(value), "met": met})
    return Evaluation(level, key, str(_rules(rules)["version"]), judged, figures.public())


def next_level(level: str) -> str | None:
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def is_promotion(current: str, target: str) -> bool:
    return LEVELS.index(target) > LEVELS.index(current)


# ---- expert review (专家评审) ----------------------------------------------------------------------------------
def rubric(rules: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    return list(_rules(rules)["rubric"])


def score_problem(given: list[Mapping[str, Any]], rules: Mapping[str, Any] | None = None) -> str | None:
    """Why a reviewer's scores (``[{item, score}]``) do not fit the rubric (every item once, 0..max), or None."""
    items = {r["item"]: int(r["max"]) for r in rubric(rules)}
    named = [s["item"] for s in given]
    if len(set(named)) != len(named):
        return "each rubric item is scored once"
    scores = {s["item"]: int(s["score"]) for s in given}
    missing = sorted(set(items) - set(scores))
    unknown = sorted(set(scores) - set(items))
    if missing or unknown:
        return f"scores must name every rubric item ({', '.join(items)}); missing: {missing}, unknown: {unknown}"
    for item, value in scores.items():
        if not 0 <= value <= items[item]:
            return f"score for {item} must be between 0 and {items[item]}, not {value}"
    return None


def review_outcome(totals: list[int], rules: Mapping[str, Any] | None = None) -> tuple[str | None, Decimal | None, str]:
    """(approved / refused, or None while too few reviews; the mean total; why) by the decision rule."""
    rule = _rules(rules)["decision"]
    need, pass_mean = int(rule["min_reviews"]), Decimal(str(rule["pass_mean"]))
    if len(totals) < need:
        return None, None, f"{len(totals)} of the {need} reviews the decision rule needs"
    mean = _round(Decimal(sum(totals)) / len(totals), "0.01")
    # The words go into the brand's history as the reason of its status change: the bureau's language.
    if mean >= pass_mean:
        return "approved", mean, f"平均分 {mean} ≥ {pass_mean}，共 {len(totals)} 份评分"
    return "refused", mean, f"平均分 {mean} < {pass_mean}，共 {len(totals)} 份评分"


# ---- integrity (诚信评价) ------------------------------------------------------------------------------------
def integrity(inputs: Mapping[str, int], rules: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A grade from substantiated complaints, disputes and the wage-arrears and injury alerts: 100 less each input
    times its weight, graded by the first band whose floor the score reaches. The inputs are shown with it."""
    rule = _rules(rules)["integrity"]
    weights = {k: int(v) for k, v in rule["weights"].items()}
    deductions = {k: weights[k] * int(inputs.get(k, 0)) for k in weights}
    score = max(0, 100 - sum(deductions.values()))
    grade = next(g["grade"] for g in rule["grades"] if score >= int(g["min"]))
    return {"grade": grade, "score": score, "inputs": {k: int(inputs.get(k, 0)) for k in weights},
            "weights": weights, "deductions": deductions, "rules_version": str(_rules(rules)["version"])}


# ---- the yearly re-check (年度复核) --------------------------------------------------------------------------
def propose(figures: Figures, level: str, region: str, integrity_grade: str | None = None,
            rules: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """keep / promote / warn / suspend / revoke from the figures against the brand's own level, with the reasons.

    A retention below its floor, or a grade the rule names, suspends whatever else holds: a brand whose people do
    not stay in work is not one to send more people with.
    """
    rule = _rules(rules)["recheck"]
    ev = evaluate(figures, level, region, rules)
    failed = ev.failed
    reasons: list[str] = []
    floors = []
    for f in rule["floors"]:
        value = figures.value(f["figure"])
        if value is not None and value < Decimal(str(f["below"])):
            floors.append(f"{FIGURE_LABELS[f['figure']]} {value} 低于 {f['below']}")
    proposal: Proposal
    if len(failed) >= int(rule["revoke_failed"]):
        proposal = "revoke"
        reasons.append(f"{len(failed)} 项入库标准未达到 (≥ {rule['revoke_failed']})")
    elif floors or len(failed) >= int(rule["suspend_failed"]) or integrity_grade in rule["suspend_integrity"]:
        proposal = "suspend"
        reasons += floors
        if len(failed) >= int(rule["suspend_failed"]):
            reasons.append(f"{len(failed)} 项入库标准未达到 (≥ {rule['suspend_failed']})")
        if integrity_grade in rule["suspend_integrity"]:
            reasons.append(f"诚信评价为 {integrity_grade}")
    elif len(failed) >= int(rule["warn_failed"]):
        proposal = "warn"
        reasons.append("未达到: " + "、".join(FIGURE_LABELS[f] for f in failed))
    else:
        up = next_level(level)
        if up is not None and evaluate(figures, up, region, rules).met:
            proposal = "promote"
            reasons.append(f"达到 {up} 级入库标准")
        else:
            proposal = "keep"
            reasons.append("达到本级入库标准")
    return {"proposal": proposal, "reasons": reasons, "evaluation": ev.public(), "integrity_grade": integrity_grade}


def integrity_inputs(figures: Figures, management: Mapping[str, Any] | None) -> dict[str, int]:
    """What the integrity rating counts: substantiated complaints and disputes (recorded as brand events) and the
    wage-arrears and injury alerts raised in the brand's placements."""
    complaints = list(((management or {}).get("complaints") or {}).values())
    return {
        "complaints": sum(1 for c in complaints if c["kind"] == "complaint" and c["substantiated"]),
        "disputes": sum(1 for c in complaints if c["kind"] == "dispute" and c["substantiated"]),
        "wage_arrears_alerts": figures.wage_arrears_alerts,
        "injury_alerts": figures.injury_alerts,
    }
