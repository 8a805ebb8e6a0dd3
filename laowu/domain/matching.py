"""Matching (精准供需匹配): how well a person fits a position of a job demand, and the order of a shortlist.

A person fits or misses a position on six **aspects**; each aspect that fits adds its weight (:data:`WEIGHTS`,
data, not code), each that misses is named with why, so the clerk sees both:

==============  =======  ==================================================================================
aspect          weight   fits when
==============  =======  ==================================================================================
occupation      30 / 20  their intention (求职意向) names the position's occupation code (30); only their
                         registered occupation is it (20, :data:`REGISTERED_OCCUPATION`)
certificate     25       they hold every required certificate of its kind (and name, if given) at the
                         required level or higher (职业技能等级: 一级/高级技师 is the highest, so level ≤ the
                         required number); a position requiring none fits everyone
wage            15       the lowest wage they accept is at most the position's highest wage
brand           10       they belong to the preferred brand; a position preferring none fits everyone
destination     10       one of their intended destinations covers the work region (GB/T 2260 containment)
age             10       their age on the start date lies in the position's range; no range fits everyone
==============  =======  ==================================================================================

What a person did not state (no intention, no lowest wage) is a miss: an intention recorded is what makes a
match confident. The **order** of a shortlist (:func:`rank`) is, in turn:

1. while the position still has reserved posts (爱心岗位) open, people of a priority group first;
2. the score, highest first;
3. more aspects that fit, then earlier availability (``available_from``; not stated counts as now);
4. the worker id, so that the order is total and the same on every replica.

A property test (``tests/unit/test_matching.py``) holds :func:`rank` to this order over many random cases.
Candidates are chosen by the store (``laowu.store.demands.candidates``: available people in the requester's
jurisdiction whose intention or registered occupation is the position's); this module only judges them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from laowu.domain import regions

WEIGHTS: dict[str, int] = {"occupation": 30, "certificate": 25, "wage": 15, "brand": 10, "destination": 10,
                           "age": 10}
"""Points an aspect adds when it fits (the table in the module's docstring)."""
REGISTERED_OCCUPATION = 20
"""Points for occupation when only the registered occupation (not an intention) names it."""
ASPECTS = tuple(WEIGHTS)

LEVEL_NAMES = {1: "一级/高级技师", 2: "二级/技师", 3: "三级/高级工", 4: "四级/中级工", 5: "五级/初级工"}
KIND_NAMES = {"qualification": "职业资格证书", "skill_level": "职业技能等级证书", "special_ability": "专项职业能力证书",
              "special_operation": "特种作业操作证"}


@dataclass(frozen=True)
class Reason:
    aspect: str
    text: str


@dataclass
class Match:
    """One person against one position: score, what fits and what misses (each with a Chinese reason)."""

    worker_id: str
    score: int
    fits: list[Reason] = field(default_factory=list)
    misses: list[Reason] = field(default_factory=list)
    priority: bool = False
    available_from: date | None = None


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _holds(certs: list[dict[str, Any]], need: dict[str, Any]) -> bool:
    for c in certs:
        if c.get("kind") != need.get("kind"):
            continue
        name = need.get("name")
        if name and name not in str(c.get("name", "")) and str(c.get("name", "")) not in name:
            continue
        level = need.get("level")
        if level is not None and (c.get("level") is None or int(c["level"]) > int(level)):
            continue
        return True
    return False


def _need_text(need: dict[str, Any]) -> str:
    text = need.get("name") or KIND_NAMES.get(need.get("kind", ""), need.get("kind", ""))
    if need.get("level") is not None:
        text += f"（{LEVEL_NAMES.get(int(need['level']), need['level'])}及以上）"
    return text


def judge(worker: dict[str, Any], pos: dict[str, Any]) -> Match:
    """How ``worker`` (a ledger row: occupation_code, certificates, brand_ids, birth_date, priority_groups,
    intention) fits ``pos`` (a demand position; its ``brand_name``, when the caller added it, names the preferred
    brand in the reasons instead of its id)."""
    intention = worker.get("intention") or {}
    m = Match(worker_id=worker["worker_id"], score=0, priority=bool(worker.get("priority_groups")),
              available_from=_as_date(intention.get("available_from")))

    def fit(aspect: str, text: str, points: int | None = None) -> None:
        m.score += WEIGHTS[aspect] if points is None else points
        m.fits.append(Reason(aspect, text))

    def miss(aspect: str, text: str) -> None:
        m.misses.append(Reason(aspect, text))

    occ = pos["occupation_code"]
    if occ in (intention.get("occupations") or []):
        fit("occupation", f"求职意向含职业 {occ}")
    elif worker.get("occupation_code") == occ:
        fit("occupation", f"登记职业为 {occ}（未填意向）", REGISTERED_OCCUPATION)
    else:
        miss("occupation", f"意向与登记职业均非 {occ}")

    needs = pos.get("certificates") or []
    lacking = [n for n in needs if not _holds(worker.get("certificates") or [], n)]
    if not needs:
        fit("certificate", "岗位不要求证书")
    elif lacking:
        miss("certificate", "缺少" + "、".join(_need_text(n) for n in lacking))
    else:
        fit("certificate", "持有" + "、".join(_need_text(n) for n in needs))

    lowest = intention.get("min_monthly_wage")
    top = Decimal(str(pos["wage_max"]))
    if lowest is None:
        miss("wage", "未填最低期望工资")
    elif Decimal(str(lowest)) <= top:
        fit("wage", f"期望不低于 {Decimal(str(lowest)):,.0f} 元，岗位最高 {top:,.0f} 元")
    else:
        miss("wage", f"期望不低于 {Decimal(str(lowest)):,.0f} 元，高于岗位最高 {top:,.0f} 元")

    brand = pos.get("brand_id")
    if not brand:
        fit("brand", "岗位不限品牌")
    elif brand in (worker.get("brand_ids") or []):
        fit("brand", f"属于优先品牌 {pos.get('brand_name') or brand}")
    else:
        miss("brand", f"不属于优先品牌 {pos.get('brand_name') or brand}")

    work = pos["work_region"]
    wanted = intention.get("destinations") or []
    place = regions.region_name(work) or work  # a clerk reads 文昌市, not 469005
    if any(work.startswith(regions.prefix(d)) for d in wanted):
        fit("destination", f"意向地含工作地 {place}")
    elif wanted:
        miss("destination", f"意向地不含工作地 {place}")
    else:
        miss("destination", "未填意向地")

    lo, hi = pos.get("age_min"), pos.get("age_max")
    birth = _as_date(worker.get("birth_date"))
    if lo is None and hi is None:
        fit("age", "岗位不限年龄")
    elif birth is not None:
        age = age_on(birth, _as_date(pos["start_date"]) or date.today())
        if (lo is None or age >= lo) and (hi is None or age <= hi):
            fit("age", f"到岗时 {age} 岁，在 {lo or '不限'}–{hi or '不限'} 岁之内")
        else:
            miss("age", f"到岗时 {age} 岁，不在 {lo or '不限'}–{hi or '不限'} 岁之内")
    return m


def order_key(m: Match, reserved_open: bool) -> tuple[Any, ...]:
    """The shortlist's order (the module's docstring), as a sort key: smaller first."""
    return (not (reserved_open and m.priority), -m.score, -len(m.fits), m.available_from or date.min, m.worker_id)


def rank(workers: list[dict[str, Any]], pos: dict[str, Any], reserved_open: bool, limit: int) -> list[Match]:
    """The best ``limit`` of ``workers`` for ``pos``, in the stated order.

    Everyone is ordered by :func:`_quick_key` (the same verdicts as :func:`judge`, without the reasons' texts:
    a shortlist reads hundreds of candidates and explains fifty); only those kept are judged in full. The property
    test holds the two to the same order."""
    prep = _Prepared(pos)
    kept = sorted(workers, key=lambda w: _quick_key(w, prep, reserved_open))[:limit]
    return [judge(w, pos) for w in kept]


class _Prepared:
    """What :func:`_quick_key` needs of a position, computed once per shortlist."""

    def __init__(self, pos: dict[str, Any]) -> None:
        self.occ = pos["occupation_code"]
        self.needs = pos.get("certificates") or []
        self.top = Decimal(str(pos["wage_max"]))
        self.brand = pos.get("brand_id")
        self.work = pos["work_region"]
        self.lo, self.hi = pos.get("age_min"), pos.get("age_max")
        self.start = _as_date(pos["start_date"]) or date.today()


def _quick_key(w: dict[str, Any], p: _Prepared, reserved_open: bool) -> tuple[Any, ...]:
    intention = w.get("intention") or {}
    score = fits = 0
    if p.occ in (intention.get("occupations") or []):
        score, fits = WEIGHTS["occupation"], 1
    elif w.get("occupation_code") == p.occ:
        score, fits = REGISTERED_OCCUPATION, 1
    certs = w.get("certificates") or []
    if not p.needs or all(_holds(certs, n) for n in p.needs):
        score, fits = score + WEIGHTS["certificate"], fits + 1
    lowest = intention.get("min_monthly_wage")
    if lowest is not None and Decimal(str(lowest)) <= p.top:
        score, fits = score + WEIGHTS["wage"], fits + 1
    if not p.brand or p.brand in (w.get("brand_ids") or []):
        score, fits = score + WEIGHTS["brand"], fits + 1
    if any(p.work.startswith(regions.prefix(d)) for d in intention.get("destinations") or []):
        score, fits = score + WEIGHTS["destination"], fits + 1
    if p.lo is None and p.hi is None:
        score, fits = score + WEIGHTS["age"], fits + 1
    else:
        birth = _as_date(w.get("birth_date"))
        if birth is not None:
            age = age_on(birth, p.start)
            if (p.lo is None or age >= p.lo) and (p.hi is None or age <= p.hi):
                score, fits = score + WEIGHTS["age"], fits + 1
    priority = bool(w.get("priority_groups"))
    return (not (reserved_open and priority), -score, -fits, _as_date(intention.get("available_from")) or date.min,
            w["worker_id"])


def fits_person(worker: dict[str, Any], pos: dict[str, Any]) -> Match | None:
    """For a person's list of open demands: the position's match if the occupation fits (the one aspect a demand
    cannot do without), else None."""
    m = judge(worker, pos)
    return m if any(r.aspect == "occupation" for r in m.fits) else None
