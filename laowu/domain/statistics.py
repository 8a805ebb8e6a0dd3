"""Output statistics (劳务品牌统计) as deltas of ledger changes — pure code, no I/O.

Every streamed figure is a sum, over ledger entities (workers and placements), of a *contribution* that
depends only on the entity's current state. A ``ledger.changed`` event carries the entity before and
after the change, so its delta is ``contribution(after) - contribution(before)``. Summed over all the
changes of an entity this telescopes to ``contribution(final state)``, whatever order the changes are
applied in — so the figures equal a fresh recount from the ledger tables as long as every change is
applied exactly once (the sink's ``stats_applied_events`` table sees to that).

Distinct counts ("workers ever dispatched / confirmed") are not sums; they are kept as *memberships*
``(dim, key, month, metric, worker_id)``: the sink inserts them idempotently and counts only the rows
that are new. A placement's dispatched/confirmed memberships never go away (a placement is never
deleted and a confirmed one can only end), so they only ever grow.

A cell is ``(dim, key, month, metric)``:

* ``dim`` — ``all`` (key ``""``), ``region`` (GB/T 2260 code, rolled up county → city → province),
  ``brand`` (brand_id), ``destination`` (destination region, rolled up the same way);
* ``month`` — ``""`` for all time, else ``YYYY-MM`` in event time (Beijing): the month of the first
  registration for workers, of ``departure_date`` for outputs, of ``start_date`` for confirmations,
  follow-up coverage and wages, of ``end_date`` for separations;
* attribution — workers count in their household region (户籍地); placements in their origin region
  (输出地) and their destination (输入地).

Retention (稳岗) at 3 and 6 months is a figure that moves as days pass, without any event: a placement
becomes *due* on its start date plus 3 (6) months. Its cells are therefore keyed by that due date
(``month`` = ``YYYY-MM-DD``): ``retention_3m_due`` counts every confirmed placement, ``retention_3m_kept``
those still employed on the due date. The API sums the cells due on or before today — a read of a few
hundred rows per scope where it used to scan every placement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

from laowu.domain import regions

Cell = tuple[str, str, str, str]
"""(dim, key, month, metric)"""
Member = tuple[str, str, str, str, str]
"""(dim, key, month, metric, worker_id)"""
Scope = tuple[str, str]
"""(dim, key)"""
K = TypeVar("K", bound=tuple[str, ...])

ALL_TIME = ""
DIMS = ("all", "region", "brand", "destination")
WORKER_METRICS = ("registered", "priority_members")
PLACEMENT_METRICS = ("outputs", "placements_rejected", "placements_confirmed", "currently_employed", "separations",
                     "followup_covered", "wage_sum", "wage_count")
RETENTION_MONTHS = (3, 6)
RETENTION_METRICS = tuple(f"retention_{n}m_{part}" for n in RETENTION_MONTHS for part in ("due", "kept"))
DISTINCT_METRICS = ("dispatched", "confirmed")
METRICS = WORKER_METRICS + PLACEMENT_METRICS + DISTINCT_METRICS + RETENTION_METRICS
FOLLOWUP_WITHIN_DAYS = 30
CONFIRMED = frozenset({"confirmed", "ended"})
BEIJING = timezone(timedelta(hours=8))
ZERO = Decimal(0)
ONE = Decimal(1)


rollup = regions.rollup
"""The code and the levels above it (460106 → 460106, 460100, 460000): :func:`laowu.domain.regions.rollup`."""


def beijing_month(value: str | date | datetime) -> str:
    """``YYYY-MM`` of an instant in Beijing time; a date (already a Beijing date in the field) as is."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return f"{value:%Y-%m}"
    elif len(value) == 10:
        return value[:7]
    else:
        moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # an offset-less event timestamp is UTC
    return f"{moment.astimezone(BEIJING):%Y-%m}"



def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months, clamped to the month's last day — PostgreSQL's ``date + interval 'n months'``
    (2026-11-30 + 3 months = 2027-02-28), which the recount in SQL uses."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


Fact = tuple[str, str]
"""(month, metric): what an entity contributes to each of its scopes"""


def _add(facts: dict[Fact, Decimal], months: Iterable[str], metric: str, value: Decimal = ONE) -> None:
    for month in months:
        fact = (month, metric)
        facts[fact] = facts.get(fact, ZERO) + value


def _expand(facts: Mapping[Fact, Decimal], scopes: Iterable[Scope]) -> dict[Cell, Decimal]:
    """The cells of ``facts`` in every scope (an entity's scopes are distinct, so no cell repeats)."""
    return {(dim, key, month, metric): value for dim, key in scopes for (month, metric), value in facts.items()}


def worker_scopes(view: Mapping[str, Any]) -> list[Scope]:
    return [("all", ""), *(("region", r) for r in rollup(view["household_region"])),
            *(("brand", b) for b in dict.fromkeys(view.get("brand_ids") or []))]


def placement_scopes(view: Mapping[str, Any]) -> list[Scope]:
    return [("all", ""), *(("region", r) for r in rollup(view["origin_region"])), ("brand", view["brand_id"]),
            *(("destination", r) for r in rollup(view["destination_region"]))]


def worker_facts(view: Mapping[str, Any]) -> dict[Fact, Decimal]:
    """A registered practitioner (从业人员): counted once per scope, in the month of the first registration."""
    facts: dict[Fact, Decimal] = {}
    months = (ALL_TIME, beijing_month(view["registered_at"]))
    _add(facts, months, "registered")
    if view.get("priority_groups"):
        _add(facts, months, "priority_members")
    return facts


def worker_cells(view: Mapping[str, Any] | None) -> dict[Cell, Decimal]:
    return {} if view is None else _expand(worker_facts(view), worker_scopes(view))


def followup_covered(view: Mapping[str, Any]) -> bool:
    """A confirmed placement with a follow-up (跟踪服务) within 30 days of its start."""
    first, start = view.get("first_followup_date"), view.get("start_date")
    if view["status"] not in CONFIRMED or not first or not start:
        return False
    return _as_date(first) <= _as_date(start) + timedelta(days=FOLLOWUP_WITHIN_DAYS)


def placement_facts(view: Mapping[str, Any]) -> dict[Fact, Decimal]:
    """One worker of an organized output (有组织劳务输出) and what became of the placement."""
    facts: dict[Fact, Decimal] = {}
    status = view["status"]
    departed = (ALL_TIME, beijing_month(view["departure_date"]))
    _add(facts, departed, "outputs")
    if status == "rejected":
        _add(facts, departed, "placements_rejected")
    if status in CONFIRMED and view.get("start_date"):
        started = (ALL_TIME, beijing_month(view["start_date"]))
        _add(facts, started, "placements_confirmed")
        if followup_covered(view):
            _add(facts, started, "followup_covered")
        if view.get("monthly_wage") is not None:
            _add(facts, started, "wage_sum", Decimal(str(view["monthly_wage"])))
            _add(facts, started, "wage_count")
        start = _as_date(view["start_date"])
        end = _as_date(view["end_date"]) if view.get("end_date") else None
        for n in RETENTION_MONTHS:
            due = add_months(start, n)
            on_due = (due.isoformat(),)
            _add(facts, on_due, f"retention_{n}m_due")
            if end is None or end >= due:
                _add(facts, on_due, f"retention_{n}m_kept")
    if status == "confirmed":
        _add(facts, (ALL_TIME,), "currently_employed")
    if status == "ended" and view.get("end_date"):
        _add(facts, (ALL_TIME, beijing_month(view["end_date"])), "separations")
    return facts


def placement_cells(view: Mapping[str, Any] | None) -> dict[Cell, Decimal]:
    return {} if view is None else _expand(placement_facts(view), placement_scopes(view))


def placement_members(view: Mapping[str, Any] | None) -> set[Member]:
    """Memberships a placement implies: its worker was dispatched (and confirmed) in these scopes."""
    if view is None:
        return set()
    wid = view["worker_id"]
    scopes = placement_scopes(view)
    out = {(dim, key, month, "dispatched", wid) for dim, key in scopes
           for month in (ALL_TIME, beijing_month(view["departure_date"]))}
    if view["status"] in CONFIRMED and view.get("start_date"):
        out |= {(dim, key, month, "confirmed", wid) for dim, key in scopes
                for month in (ALL_TIME, beijing_month(view["start_date"]))}
    return out


@dataclass
class Delta:
    """What one or more ledger changes do to the figures: additive cells and (idempotent) memberships."""

    cells: dict[Cell, Decimal] = field(default_factory=dict)
    members: set[Member] = field(default_factory=set)

    def add(self, other: Delta) -> None:
        for cell, value in other.cells.items():
            self.cells[cell] = self.cells.get(cell, ZERO) + value
        self.members |= other.members

    def nonzero(self) -> dict[Cell, Decimal]:
        return {c: v for c, v in self.cells.items() if v != 0}


def _difference(after: dict[K, Decimal], before: dict[K, Decimal]) -> dict[K, Decimal]:
    out = dict(after)
    for cell, value in before.items():
        out[cell] = out.get(cell, ZERO) - value
    return {c: v for c, v in out.items() if v != 0}


def _cells_delta(facts: Callable[[Mapping[str, Any]], dict[Fact, Decimal]],
                 scopes: Callable[[Mapping[str, Any]], list[Scope]],
                 before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[Cell, Decimal]:
    old = None if before is None else (facts(before), scopes(before))
    new = None if after is None else (facts(after), scopes(after))
    if old is not None and new is not None and old[1] == new[1]:
        # Most changes keep the entity's scopes (a follow-up, a confirmation): compare what it contributes once,
        # then spread the difference over its scopes. Expansion is linear, so this equals the difference of the
        # expanded cells; the sink spent most of a placement change expanding cells that cancel.
        return _expand(_difference(new[0], old[0]), new[1])
    return _difference({} if new is None else _expand(*new), {} if old is None else _expand(*old))


def change_delta(entity: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> Delta:
    """The delta of one ``ledger.changed`` event (brand changes move no streamed figure)."""
    if entity == "worker":
        return Delta(_cells_delta(worker_facts, worker_scopes, before, after))
    if entity in ("placement", "followup"):
        return Delta(_cells_delta(placement_facts, placement_scopes, before, after), placement_members(after))
    return Delta()


def member_cells(new_members: Iterable[Member]) -> dict[Cell, Decimal]:
    """Each membership that did not exist yet adds one to its distinct count."""
    cells: dict[Cell, Decimal] = {}
    for dim, key, month, metric, _wid in new_members:
        cell = (dim, key, month, metric)
        cells[cell] = cells.get(cell, ZERO) + ONE
    return cells


def touched_scopes(cells: Iterable[Cell], dims: Iterable[str] = ("all", "region", "brand")) -> set[Scope]:
    wanted = set(dims)
    return {(dim, key) for dim, key, _month, _metric in cells if dim in wanted}


# ---- public figures -------------------------------------------------------------------------------
def ratio(numerator: Decimal | int, denominator: Decimal | int) -> float:
    """A share as a fraction 0–1 with six decimals; 0.0 when there is nothing to divide by."""
    if not denominator:
        return 0.0
    return round(float(Decimal(numerator) / Decimal(denominator)), 6)


def derive(raw: Mapping[str, Decimal | int]) -> dict[str, Any]:
    """Public figures (API.md) from the stored metrics of one scope (and one month, or all time)."""

    def n(metric: str) -> int:
        return int(raw.get(metric, 0) or 0)

    wage_count = n("wage_count")
    wage_sum = Decimal(raw.get("wage_sum", 0) or 0)
    return {
        "registered": n("registered"),
        "dispatched": n("dispatched"),
        "confirmed": n("confirmed"),
        "currently_employed": n("currently_employed"),
        "followup_coverage": ratio(n("followup_covered"), n("placements_confirmed")),
        "priority_group_share": ratio(n("priority_members"), n("registered")),
        "outputs": n("outputs"),
        "placements_confirmed": n("placements_confirmed"),
        "placements_rejected": n("placements_rejected"),
        "confirmation_rate": ratio(n("placements_confirmed"), n("outputs")),
        "separations": n("separations"),
        "followup_covered": n("followup_covered"),
        "priority_members": n("priority_members"),
        "average_wage": str((wage_sum / wage_count).quantize(Decimal("0.01"))) if wage_count else None,
    }


def _month_index(ym: str) -> int:
    year, month = int(ym[:4]), int(ym[5:7])
    if not 1 <= month <= 12:
        raise ValueError(f"not a month: {ym!r}")
    return year * 12 + month - 1


def month_count(first: str, last: str) -> int:
    """How many months ``first``..``last`` spans, inclusive (0 when first > last); O(1), whatever the input."""
    return max(_month_index(last) - _month_index(first) + 1, 0)


def months_between(first: str, last: str) -> list[str]:
    """Every ``YYYY-MM`` from ``first`` to ``last`` inclusive (empty when first > last).

    By index, not by stepping: a month like ``2026-89`` once stepped forever (found by schemathesis).
    """
    start, end = _month_index(first), _month_index(last)
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(start, end + 1)]


def replay(changes: Iterable[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]]) -> dict[Cell, Decimal]:
    """Reference semantics for tests: apply changes once each, in memory, memberships included."""
    cells: dict[Cell, Decimal] = {}
    members: set[Member] = set()
    for entity, before, after in changes:
        delta = change_delta(entity, before, after)
        fresh = delta.members - members
        members |= fresh
        for cell, value in [*delta.cells.items(), *member_cells(fresh).items()]:
            cells[cell] = cells.get(cell, ZERO) + value
    return {c: v for c, v in cells.items() if v != 0}
