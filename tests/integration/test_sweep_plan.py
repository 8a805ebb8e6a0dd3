"""The sweeper's SQL pre-filter held to the domain: it finds exactly the placements the rules say owe an alert
or a subsidy on a day (``laowu.domain.alerts.overdue``, ``laowu.domain.subsidies.employment_service``), and
recognises the alerts and subsidies already there by the domain's ids."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from laowu.domain import alerts as alert_rules
from laowu.domain import subsidies as subsidy_rules
from laowu.domain.lifecycle import PlacementRecord
from laowu.ledger import rows
from laowu.store import dispatch as dstore

pytestmark = pytest.mark.services

D0 = date(2026, 1, 31)  # a month end: a deadline counted in months would show here


def _placements() -> list[PlacementRecord]:
    out = []
    offsets = (None, 0, 5, 29, 30, 31, 60, 89, 90, 91)
    for n, (status, start, first, end) in enumerate(itertools.product(
            ("dispatched", "confirmed", "ended", "rejected"), (0, 3), offsets, offsets)):
        started = D0 + timedelta(days=start) if status in ("confirmed", "ended") else None
        if started is None and (first is not None or end is not None):
            continue
        if status == "ended" and end is None:
            continue
        out.append(PlacementRecord(
            placement_id=f"pl-{n:05d}", dispatch_id="dsp-1", worker_id=f"w{n:024x}", employer_id="emp-1",
            organizer_id="ws-1", brand_id="b-1", origin_region="460105", destination_region="440305",
            departure_date=D0, status=status, start_date=started,
            first_followup_date=started + timedelta(days=first) if started and first is not None else None,
            end_date=started + timedelta(days=end) if started and end is not None and status == "ended" else None))
    return out


def _owed(p: PlacementRecord, today: date, held: set[str]) -> bool:
    due = [a.alert_id for a in alert_rules.overdue(p, today)]
    accrual = subsidy_rules.employment_service(p, today)
    if accrual:
        due.append(accrual.subsidy_id)
    return any(i not in held for i in due)


async def test_sweep_candidates_are_what_the_domain_says_is_owed(pool: asyncpg.Pool) -> None:
    placements = _placements()
    async with pool.acquire() as conn, conn.transaction():  # the stage of a bulk write lives for a transaction
        await dstore.save_placements(conn, placements)
    held: set[str] = set()
    for step, today in enumerate(D0 + timedelta(days=d) for d in (1, 7, 8, 9, 30, 33, 34, 60, 89, 93, 94, 95, 200)):
        async with pool.acquire() as conn, conn.transaction():
            found = await dstore.sweep_candidates(conn, today, alert_rules.UNCONFIRMED_DAYS, alert_rules.FOLLOWUP_DAYS,
                                                  min_retention_days=subsidy_rules.min_retained_days())
        expected = {p.placement_id for p in placements if _owed(p, today, held)}
        assert {p.placement_id for p in found} == expected, today
        if step % 2:  # settle what is owed now, by the domain's ids: the SQL must recognise them
            alerts: list[dict[str, Any]] = []
            accruals: list[dict[str, Any]] = []
            for p in found:
                alerts += [rows.alert_row(a, ["460105"]) for a in alert_rules.overdue(p, today)]
                accrual = subsidy_rules.employment_service(p, today)
                if accrual:
                    accruals.append(rows.subsidy_row(accrual, p, ["460105"]))
            async with pool.acquire() as conn, conn.transaction():
                await dstore.raise_alerts(conn, alerts)
                await dstore.accrue(conn, accruals)
            held |= {a["alert_id"] for a in alerts} | {s["subsidy_id"] for s in accruals}
