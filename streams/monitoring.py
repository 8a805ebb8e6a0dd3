"""Priority-group monitoring (务工监测, issue 20) in the statistics stream: the facts the monthly records derive from.

Called by :class:`streams.sink.StatsSink` inside its transaction with the chunk's *fresh* ledger changes (the sink's
applied-events table has already dropped redeliveries), so it is exactly-once in effect like the figures. It keeps the
stream's own copy of three kinds of fact (migration 0030), never reading the ledger's tables:

* a person: household region and priority groups, from every ``worker`` view (a worker's changes travel in order on
  the worker's partition, so the last view wins);
* a spell: a confirmed placement's origin, destination, start, end and confirmed wage, from ``placement`` and
  ``followup`` views (the newest placement ``version`` wins, whatever the arrival order);
* a follow-up: its date, employment status and wage, from the ``facts`` a ``followup`` change carries.

The monthly records and the region-by-month table are :mod:`laowu.domain.monitoring` over these facts; ``laowu stats
recount`` derives them again from the ledger and compares (:func:`drift`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from laowu.domain import monitoring as mon
from laowu.domain.distance import CLASSES
from laowu.store import monitoring as store
from streams.changes import ChangeView

CONFIRMED = frozenset({"confirmed", "ended"})


def facts_of(changes: Iterable[ChangeView]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(people, spells, follow-ups) to write for these changes, the last view of each entity kept."""
    people: dict[str, dict[str, Any]] = {}
    spells: dict[str, dict[str, Any]] = {}
    followups: dict[str, dict[str, Any]] = {}
    for body in changes:
        after = body.after
        if body.entity == "worker" and after:
            people[after["worker_id"]] = {"worker_id": after["worker_id"], "household_region": after["household_region"],
                                          "priority_groups": list(after.get("priority_groups") or [])}
        elif body.entity in ("placement", "followup") and after and after.get("status") in CONFIRMED \
                and after.get("start_date"):
            held = spells.get(after["placement_id"])
            if held is None or held["version"] < after["version"]:
                spells[after["placement_id"]] = {
                    "placement_id": after["placement_id"], "worker_id": after["worker_id"],
                    "origin_region": after["origin_region"], "destination_region": after["destination_region"],
                    "start_date": mon_date(after["start_date"]), "end_date": mon_date(after.get("end_date")),
                    "end_reason": after.get("end_reason"), "monthly_wage": after.get("monthly_wage"),
                    "employer_id": after.get("employer_id"), "version": int(after["version"])}
        if body.entity == "followup" and body.facts and after:
            f = body.facts
            followups[f["followup_id"]] = {"followup_id": f["followup_id"], "placement_id": body.entity_id,
                                           "worker_id": after["worker_id"], "date": mon_date(f["date"]),
                                           "employment_status": f["employment_status"],
                                           "monthly_wage": f.get("monthly_wage")}
    return list(people.values()), list(spells.values()), list(followups.values())


def mon_date(value: Any) -> Any:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


async def apply(conn: asyncpg.Connection, changes: Sequence[ChangeView]) -> None:
    """The sink's one call: this chunk's fresh changes into the monitoring facts, in the sink's transaction."""
    people, spells, followups = facts_of(changes)
    await store.upsert_people(conn, people)
    await store.upsert_spells(conn, spells)
    await store.insert_followups(conn, followups)


def cells(facts: store.Facts, through: str) -> dict[tuple[str, str], mon.Cell]:
    people, spells, followups = facts
    return mon.table(mon.all_records(people, spells, followups, through))


def _plain(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


async def drift(conn: asyncpg.Connection, through: str) -> list[dict[str, Any]]:
    """``laowu stats recount``'s call: every (region, month) cell of the monitoring table through ``through``, from
    the stream's facts and from the ledger's, compared figure by figure (in work, each distance class, income)."""
    stored, expected = cells(await store.streamed_facts(conn), through), cells(await store.ledger_facts(conn), through)
    out: list[dict[str, Any]] = []
    for key in sorted(stored.keys() | expected.keys()):
        a = stored.get(key) or mon.empty_cell(*key)
        b = expected.get(key) or mon.empty_cell(*key)
        pairs = {"monitored": (a.monitored, b.monitored), "in_work": (a.in_work, b.in_work),
                 "income_sum": (a.income_sum, b.income_sum), "income_count": (a.income_count, b.income_count),
                 **{f"in_work_{d}": (a.by_distance.get(d, 0), b.by_distance.get(d, 0)) for d in CLASSES}}
        for metric, (s, r) in pairs.items():
            if s != r:
                out.append({"dim": "monitoring", "key": key[0], "month": key[1], "metric": metric,
                            "stored": _plain(s), "recount": _plain(r)})
    return out


def through() -> str:
    """The last month the recount compares: the current one in China (records run up to it)."""
    return mon.month_of(datetime.now(mon.CHINA).date())
