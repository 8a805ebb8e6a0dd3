"""SQL that restates a domain rule, held to the domain's Python on PostgreSQL: the one region function
(``region_rollup``, migration 0021) against ``laowu.domain.regions.rollup`` over every GB/T 2260 code, and the
recount's date arithmetic (retention due dates, the follow-up window) against ``laowu.domain.statistics``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import asyncpg

from laowu.domain import regions
from laowu.domain import statistics as st
from laowu.store import stats as store

EDGES = ["", "46010", "4601000", "46010a", "４６０１００", "460100\n", " 460100", "abcdef", "000000", "999999",
         "460006", "469006", "500101", "460100", "460000"]


async def test_region_rollup_in_sql_is_the_python_rollup_for_every_code(pool: asyncpg.Pool) -> None:
    codes = regions.codes() + EDGES
    rows = await pool.fetch("SELECT c, region_rollup(c) AS up FROM unnest($1::text[]) c", codes)
    got = {r["c"]: list(r["up"]) for r in rows}
    assert len(got) == len(set(codes))
    wrong = {c: (got[c], regions.rollup(c)) for c in codes if got[c] != regions.rollup(c)}
    assert not wrong, list(wrong.items())[:10]


async def test_cover_tables_list_a_row_under_its_rollup(pool: asyncpg.Pool) -> None:
    regions_of = [["469006", "460106"], ["460006"], ["500101"]]
    for i, rs in enumerate(regions_of):
        await pool.execute(
            "INSERT INTO alerts (alert_id, kind, worker_id, placement_id, regions, raised_at) "
            "VALUES ($1, 'followup_overdue', $2, $3, $4, now())", f"followup_overdue:pl-{i}", f"w{i}", f"pl-{i}", rs)
    rows = await pool.fetch("SELECT alert_id, array_agg(code ORDER BY code) AS codes FROM alert_regions GROUP BY 1")
    got = {r["alert_id"]: list(r["codes"]) for r in rows}
    assert got == {f"followup_overdue:pl-{i}": sorted({c for r in rs for c in regions.rollup(r)})
                   for i, rs in enumerate(regions_of)}


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


async def test_retention_due_dates_in_sql_are_add_months(pool: asyncpg.Pool) -> None:
    """Every day of 2023-2030 (month ends, Feb 29 and Dec 31 included), for each retention period and every month
    count up to a year: the recount's SQL expression gives ``add_months``'s date."""
    days = _days(date(2023, 1, 1), date(2030, 12, 31))
    for months in sorted({*st.RETENTION_MONTHS, *range(1, 13)}):
        rows = await pool.fetch(f"SELECT start_date, {store.retention_due_sql(months)} AS due "
                                "FROM unnest($1::date[]) start_date", days)
        wrong = [(r["start_date"], r["due"]) for r in rows if r["due"] != st.add_months(r["start_date"], months)]
        assert not wrong, (months, wrong[:5])
    assert st.add_months(date(2027, 1, 31), 3) == date(2027, 4, 30)  # the case the clamp is for


async def test_followup_window_in_sql_is_followup_covered(pool: asyncpg.Pool) -> None:
    days = _days(date(2024, 1, 1), date(2025, 12, 31))
    offsets = [None, -1, 0, st.FOLLOWUP_WITHIN_DAYS - 1, st.FOLLOWUP_WITHIN_DAYS, st.FOLLOWUP_WITHIN_DAYS + 1, 90]
    pairs: list[tuple[date, date | None]] = [(d, None if o is None else d + timedelta(days=o)) for d in days
                                             for o in offsets]
    rows = await pool.fetch(
        f"SELECT start_date, first_followup_date, {store.followup_covered_sql()} AS covered "
        "FROM unnest($1::date[], $2::date[]) AS t(start_date, first_followup_date)",
        [p[0] for p in pairs], [p[1] for p in pairs])
    wrong: list[Any] = []
    for r in rows:
        view = {"status": "confirmed", "start_date": r["start_date"], "first_followup_date": r["first_followup_date"]}
        if r["covered"] != st.followup_covered(view):
            wrong.append((r["start_date"], r["first_followup_date"], r["covered"]))
    assert len(rows) == len(pairs) and not wrong, wrong[:5]
