"""Priority-group employment monitoring (务工监测): a monthly record per person, and the region-by-month table.

County bureaus are judged month by month on how many poverty-alleviated and rural low-income people (脱贫人口、农村低收入
人口等困难群体) are in work, where and for how much. The national monitoring system asks for a record per person and
month; here it is *derived*, never typed: from the person's confirmed placements (入职确认), their separations (离职)
and the follow-ups (跟踪服务) that report them on the job, changed job, unemployed or returned home.

Pure functions of a set of facts, not of the order the facts arrived in: an offline workstation that syncs a month
late changes the months it concerns, and the stream worker, the recount and the sweeper all call the same code.

* A person is *in work* in a month when at least one day of it lies in a working interval. A confirmed placement
  opens one at its ``start_date`` and closes it after its ``end_date``; a follow-up reporting ``unemployed`` or
  ``returned_home`` closes it from its date, one reporting ``on_job`` or ``changed_job`` opens it again.
* *Where*: the destination of the latest-starting placement worked that month, and its distance class
  (:func:`laowu.domain.distance.distance_class` of the dispatch's origin and destination).
* *Income known for the month*: the wage of the last follow-up of that month that states one (跟踪回访工资), else the
  wage confirmed at hiring (入职确认工资) of the placement worked; none when not in work.
* *Months in work this year*: in-work months from January up to and including the month.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any

from laowu.domain import regions
from laowu.domain.distance import CLASSES, DistanceClass, distance_class
from laowu.domain.statistics import BEIJING

WORKING = frozenset({"on_job", "changed_job"})
NOT_WORKING = frozenset({"unemployed", "returned_home"})
CHINA = BEIJING  # months are Beijing months, as field dates are Beijing dates


@dataclass(frozen=True)
class Spell:
    """A confirmed placement of a priority-group person, as monitoring sees it (no personal data)."""

    placement_id: str
    worker_id: str
    origin_region: str
    destination_region: str
    start_date: date
    end_date: date | None = None
    end_reason: str | None = None
    monthly_wage: Decimal | None = None
    employer_id: str | None = None


@dataclass(frozen=True)
class FollowUp:
    followup_id: str
    placement_id: str
    worker_id: str
    date: date
    employment_status: str
    monthly_wage: Decimal | None = None


@dataclass(frozen=True)
class Person:
    worker_id: str
    household_region: str
    priority_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class MonthRecord:
    """One person's month (务工监测月度记录)."""

    worker_id: str
    month: str  # YYYY-MM
    household_region: str
    in_work: bool
    placement_id: str | None = None
    destination_region: str | None = None
    distance: DistanceClass | None = None
    income: Decimal | None = None
    income_source: str | None = None  # "followup" | "confirmed"
    months_in_work_ytd: int = 0


# ---- months ------------------------------------------------------------------------------------------------------
def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str) -> tuple[date, date]:
    first = date(int(month[:4]), int(month[5:7]), 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def shift(month: str, by: int) -> str:
    """``month`` moved by ``by`` months (``shift("2026-01", -1) == "2025-12"``)."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    out, m = [], first
    while m <= last:
        out.append(m)
        m = shift(m, 1)
    return out


# ---- one person --------------------------------------------------------------------------------------------------
def working_intervals(spell: Spell, followups: Iterable[FollowUp]) -> list[tuple[date, date | None]]:
    """The days this placement was worked: [start, end] cut by follow-ups reporting the person out of work."""
    marks = sorted((f.date, f.followup_id, f.employment_status) for f in followups
                   if f.placement_id == spell.placement_id and f.date >= spell.start_date
                   and (spell.end_date is None or f.date <= spell.end_date))
    out: list[tuple[date, date | None]] = []
    opened: date | None = spell.start_date
    for day, _, status in marks:
        if status in NOT_WORKING and opened is not None:
            if day > opened:
                out.append((opened, day - timedelta(days=1)))
            opened = None
        elif status in WORKING and opened is None:
            opened = day
    if opened is not None:
        out.append((opened, spell.end_date))
    return out


def records(person: Person, spells: Sequence[Spell], followups: Sequence[FollowUp], through: str) -> list[MonthRecord]:
    """The person's monthly records from the month of their first placement through ``through`` (YYYY-MM).

    Empty for a person in no priority group, or with no confirmed placement yet.
    """
    mine = [s for s in spells if s.worker_id == person.worker_id]
    if not person.priority_groups or not mine:
        return []
    first = min(month_of(s.start_date) for s in mine)
    worked = [(s, working_intervals(s, followups)) for s in mine]
    out: list[MonthRecord] = []
    year, ytd = "", 0
    for month in months_between(first, through):
        lo, hi = month_bounds(month)
        active = [s for s, spans in worked if any(a <= hi and (b is None or b >= lo) for a, b in spans)]
        if month[:4] != year:
            year, ytd = month[:4], 0
        if not active:
            out.append(MonthRecord(person.worker_id, month, person.household_region, False, months_in_work_ytd=ytd))
            continue
        ytd += 1
        spell = max(active, key=lambda s: (s.start_date, s.placement_id))
        stated = sorted((f.date, f.followup_id, f.monthly_wage) for f in followups
                        if f.placement_id in {s.placement_id for s in active} and lo <= f.date <= hi
                        and f.monthly_wage is not None and f.employment_status in WORKING)
        income, source = (stated[-1][2], "followup") if stated else (spell.monthly_wage, "confirmed")
        out.append(MonthRecord(person.worker_id, month, person.household_region, True, spell.placement_id,
                               spell.destination_region, distance_class(spell.origin_region, spell.destination_region),
                               income, source if income is not None else None, ytd))
    return out


def all_records(people: Iterable[Person], spells: Sequence[Spell], followups: Sequence[FollowUp],
                through: str) -> list[MonthRecord]:
    by_worker: dict[str, list[Spell]] = {}
    for s in spells:
        by_worker.setdefault(s.worker_id, []).append(s)
    fus: dict[str, list[FollowUp]] = {}
    for f in followups:
        fus.setdefault(f.worker_id, []).append(f)
    out: list[MonthRecord] = []
    for p in people:
        out += records(p, by_worker.get(p.worker_id, []), fus.get(p.worker_id, []), through)
    return out


# ---- the table by region and month -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """Priority-group people of a region in a month (by household region, rolled up the GB/T 2260 levels)."""

    region: str
    month: str
    monitored: int
    in_work: int
    by_distance: dict[str, int]
    income_sum: Decimal
    income_count: int

    @property
    def average_income(self) -> Decimal | None:
        if not self.income_count:
            return None
        return (self.income_sum / self.income_count).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        return {"region": self.region, "month": self.month, "monitored": self.monitored, "in_work": self.in_work,
                "by_distance": dict(self.by_distance), "income_sum": self.income_sum,
                "income_count": self.income_count, "average_income": self.average_income}


def table(recs: Iterable[MonthRecord]) -> dict[tuple[str, str], Cell]:
    """Every (region, month) cell the records reach, each region level of the household code included."""
    acc: dict[tuple[str, str], list[Any]] = {}
    for r in recs:
        for code in regions.rollup(r.household_region):
            a = acc.setdefault((code, r.month), [0, 0, dict.fromkeys(CLASSES, 0), Decimal(0), 0])
            a[0] += 1
            if r.in_work:
                a[1] += 1
                if r.distance:
                    a[2][r.distance] += 1
                if r.income is not None:
                    a[3] += r.income
                    a[4] += 1
    return {k: Cell(k[0], k[1], a[0], a[1], a[2], a[3], a[4]) for k, a in acc.items()}


def empty_cell(region: str, month: str) -> Cell:
    return Cell(region, month, 0, 0, dict.fromkeys(CLASSES, 0), Decimal(0), 0)


@dataclass(frozen=True)
class Change:
    """A figure against the previous month (环比) and the same month a year before (同比)."""

    now: int
    previous: int
    last_year: int

    @staticmethod
    def pct(now: int, base: int) -> Decimal | None:
        if base == 0:
            return None
        return (Decimal(now - base) * 100 / base).quantize(Decimal("0.1"), ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        return {"previous": self.previous, "vs_previous": self.now - self.previous,
                "vs_previous_pct": self.pct(self.now, self.previous), "last_year": self.last_year,
                "vs_last_year": self.now - self.last_year, "vs_last_year_pct": self.pct(self.now, self.last_year)}


def change(cells: dict[tuple[str, str], Cell], region: str, month: str) -> Change:
    def of(m: str) -> int:
        c = cells.get((region, m))
        return c.in_work if c else 0

    return Change(of(month), of(shift(month, -1)), of(shift(month, -12)))


# ---- falling counties (rule as data) ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DropRule:
    """A county falls when its in-work count drops by more than ``threshold_pct`` against the previous month, from a
    base of at least ``min_base`` people (a county of two people would ring every month)."""

    threshold_pct: Decimal
    min_base: int
    version: str


@cache
def _rules() -> dict[str, Any]:
    return dict(json.loads((resources.files("laowu.domain") / "data" / "monitoring_rules.json").read_text(encoding="utf-8")))


def drop_rule(county: str, data: dict[str, Any] | None = None) -> DropRule:
    """The rule of ``county``: the nearest of its region levels the rule file names, else the default."""
    data = data or _rules()
    chosen = dict(data["default"])
    for code in reversed(regions.rollup(county)):  # province, then city, then county: the finest wins
        chosen |= data.get("regions", {}).get(code, {})
    return DropRule(Decimal(str(chosen["drop_threshold_pct"])), int(chosen["min_base"]), str(data["version"]))


def falling(cells: dict[tuple[str, str], Cell], county: str, month: str, rule: DropRule) -> Change | None:
    """The county's change if it falls by more than the rule allows in ``month``, else None."""
    c = change(cells, county, month)
    if c.previous < rule.min_base or c.now >= c.previous:
        return None
    drop = Decimal(c.previous - c.now) * 100 / c.previous
    return c if drop > rule.threshold_pct else None


def counties(cells: dict[tuple[str, str], Cell]) -> set[str]:
    return {r for r, _ in cells if regions.region_level(r) == "county"}


def drop_alert_id(county: str, month: str) -> str:
    return f"employment_drop:{county}:{month}"
