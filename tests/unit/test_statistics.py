"""Statistics deltas (laowu.domain.statistics): pure code, no services."""

from __future__ import annotations

import itertools
import random
from decimal import Decimal
from typing import Any

import pytest

from laowu.domain import statistics as st
from laowu.domain import targets as tg


def worker(wid: str = "w1", region: str = "460106", brands: tuple[str, ...] = ("qz",), groups: tuple[str, ...] = (),
           at: str = "2026-01-15T10:00:00+08:00", **extra: Any) -> dict[str, Any]:
    return {"worker_id": wid, "state": "registered", "brand_ids": list(brands), "household_region": region,
            "priority_groups": list(groups), "current_placement_id": None, "registered_at": at} | extra


def placement(pid: str = "p1", wid: str = "w1", status: str = "dispatched", **extra: Any) -> dict[str, Any]:
    view = {"placement_id": pid, "dispatch_id": "d1", "worker_id": wid, "employer_id": "e1", "organizer_id": "ws1",
            "brand_id": "qz", "origin_region": "469005", "destination_region": "440305", "departure_date": "2026-02-01",
            "status": status, "start_date": None, "monthly_wage": None, "end_date": None, "first_followup_date": None,
            "last_followup_date": None, "priority_group": False, "version": 1}
    return view | extra


def test_rollup_three_levels_from_the_code() -> None:
    assert st.rollup("460106") == ["460106", "460100", "460000"]
    assert st.rollup("469005") == ["469005", "469000", "460000"]
    assert st.rollup("460100") == ["460100", "460000"]
    assert st.rollup("460000") == ["460000"]
    assert st.rollup("bad") == []


def test_beijing_month_crosses_midnight_utc() -> None:
    assert st.beijing_month("2026-01-31T16:30:00+00:00") == "2026-02"
    assert st.beijing_month("2026-01-31T15:59:59+00:00") == "2026-01"
    assert st.beijing_month("2026-03-01") == "2026-03"


def test_registration_counts_in_every_level_brand_and_month() -> None:
    d = st.change_delta("worker", None, worker(groups=("disabled",)))
    for dim, key in (("all", ""), ("region", "460106"), ("region", "460100"), ("region", "460000"), ("brand", "qz")):
        for month in ("", "2026-01"):
            assert d.cells[(dim, key, month, "registered")] == 1
            assert d.cells[(dim, key, month, "priority_members")] == 1
    assert len(d.cells) == 5 * 2 * 2 and not d.members


def test_a_state_change_that_moves_no_figure_has_an_empty_delta() -> None:
    before = worker()
    assert st.change_delta("worker", before, before | {"state": "dispatched", "current_placement_id": "p1"}).cells == {}


def test_household_move_and_brand_join_move_the_counts() -> None:
    d = st.change_delta("worker", worker(), worker(region="500101", brands=("qz", "yc")))
    assert d.cells[("region", "460106", "", "registered")] == -1
    assert d.cells[("region", "460000", "", "registered")] == -1
    assert d.cells[("region", "500101", "", "registered")] == 1
    assert d.cells[("region", "500100", "", "registered")] == 1
    assert d.cells[("brand", "yc", "", "registered")] == 1
    assert ("brand", "qz", "", "registered") not in d.cells and ("all", "", "", "registered") not in d.cells


def test_placement_lifecycle() -> None:
    dispatched = placement()
    d = st.change_delta("placement", None, dispatched)
    assert d.cells[("region", "469000", "2026-02", "outputs")] == 1
    assert d.cells[("destination", "440300", "", "outputs")] == 1
    assert ("region", "460000", "", "dispatched", "w1") in d.members
    assert not any(m[3] == "confirmed" for m in d.members)

    confirmed = dispatched | {"status": "confirmed", "start_date": "2026-02-05", "monthly_wage": "7800.00", "version": 2}
    d = st.change_delta("placement", dispatched, confirmed)
    assert d.cells[("all", "", "", "placements_confirmed")] == 1
    assert d.cells[("all", "", "", "currently_employed")] == 1
    assert d.cells[("brand", "qz", "2026-02", "wage_sum")] == Decimal("7800.00")
    assert ("all", "", "", "outputs") not in d.cells
    assert ("all", "", "2026-02", "confirmed", "w1") in d.members

    followed = confirmed | {"first_followup_date": "2026-03-07", "last_followup_date": "2026-03-07"}  # day 30
    assert st.change_delta("followup", confirmed, followed).cells[("all", "", "", "followup_covered")] == 1
    late = confirmed | {"first_followup_date": "2026-03-08"}  # day 31
    assert st.change_delta("followup", confirmed, late).cells == {}

    ended = followed | {"status": "ended", "end_date": "2026-04-02"}
    d = st.change_delta("placement", followed, ended)
    moved = ("currently_employed", "separations", "retention_3m_kept", "retention_6m_kept")
    assert d.cells == {c: v for c, v in d.cells.items() if c[3] in moved}
    assert d.cells[("region", "469005", "", "currently_employed")] == -1
    assert d.cells[("region", "469005", "2026-04", "separations")] == 1
    # Left before either due date: no longer kept at 3 or 6 months; still due (the base of the rate).
    assert d.cells[("region", "469005", "2026-05-05", "retention_3m_kept")] == -1
    assert d.cells[("brand", "qz", "2026-08-05", "retention_6m_kept")] == -1


def test_retention_cells_are_keyed_by_the_day_a_placement_becomes_due() -> None:
    confirmed = placement(status="confirmed", start_date="2026-11-30")
    cells = st.placement_cells(confirmed)
    # 2026-11-30 + 3 months is 2027-02-28, as PostgreSQL's date + interval '3 months' (the recount) has it.
    assert cells[("region", "460000", "2027-02-28", "retention_3m_due")] == 1
    assert cells[("region", "460000", "2027-02-28", "retention_3m_kept")] == 1
    assert cells[("all", "", "2027-05-30", "retention_6m_due")] == 1
    assert not any(c[3].startswith("retention") for c in st.placement_cells(placement()))  # not confirmed yet
    # Ended on the due day counts as kept (end_date >= due); a day before does not.
    on_due = st.placement_cells(confirmed | {"status": "ended", "end_date": "2027-02-28"})
    assert on_due[("all", "", "2027-02-28", "retention_3m_kept")] == 1
    assert ("all", "", "2027-05-30", "retention_6m_kept") not in on_due
    before = st.placement_cells(confirmed | {"status": "ended", "end_date": "2027-02-27"})
    assert ("all", "", "2027-02-28", "retention_3m_kept") not in before
    assert before[("all", "", "2027-02-28", "retention_3m_due")] == 1


@pytest.mark.parametrize(("start", "months", "due"), [
    ("2026-11-30", 3, "2027-02-28"), ("2027-08-31", 6, "2028-02-29"), ("2026-01-31", 1, "2026-02-28"),
    ("2026-12-15", 3, "2027-03-15"), ("2026-10-31", 2, "2026-12-31"), ("2026-07-01", 6, "2027-01-01"),
])
def test_add_months_clamps_to_the_months_last_day(start: str, months: int, due: str) -> None:
    from datetime import date

    assert st.add_months(date.fromisoformat(start), months) == date.fromisoformat(due)


def test_distinct_workers_count_once_however_often_dispatched() -> None:
    first = placement("p1", status="rejected")
    second = placement("p2", departure_date="2026-02-20")
    cells = st.replay([("placement", None, first), ("placement", None, second), ("placement", None, first)])
    assert cells[("all", "", "", "outputs")] == 3  # replay applies what it is given; the sink dedupes events
    assert cells[("all", "", "", "dispatched")] == 1
    assert cells[("all", "", "2026-02", "dispatched")] == 1


def test_deltas_telescope_to_the_final_state_in_any_order() -> None:
    """The exactness argument: sum of deltas over an entity's history = contribution of its final state."""
    states = [None, placement(), placement(status="confirmed", start_date="2026-02-05", monthly_wage="6000"),
              placement(status="confirmed", start_date="2026-02-05", monthly_wage="6000", first_followup_date="2026-02-20"),
              placement(status="ended", start_date="2026-02-05", monthly_wage="6000", first_followup_date="2026-02-20",
                        end_date="2026-06-30")]
    steps = [("placement", a, b) for a, b in itertools.pairwise(states)]
    expected = st.replay(steps)
    final = {c: v for c, v in st.placement_cells(states[-1]).items() if v}
    final.update(st.member_cells(st.placement_members(states[-1])))
    assert expected == final
    rng = random.Random(7)
    for _ in range(20):
        shuffled = steps[:]
        rng.shuffle(shuffled)
        assert st.replay(shuffled) == expected


def test_derive_shares_and_average_wage() -> None:
    raw = {"registered": Decimal(3), "priority_members": Decimal(1), "placements_confirmed": Decimal(3),
           "followup_covered": Decimal(2), "outputs": Decimal(4), "wage_sum": Decimal("20000.00"), "wage_count": Decimal(3)}
    f = st.derive(raw)
    assert f["priority_group_share"] == 0.333333 and f["followup_coverage"] == 0.666667
    assert f["confirmation_rate"] == 0.75 and f["average_wage"] == "6666.67"
    assert isinstance(f["registered"], int) and f["registered"] == 3
    empty = st.derive({})
    assert empty["followup_coverage"] == 0.0 and empty["average_wage"] is None


def test_months_between() -> None:
    assert st.months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert st.months_between("2026-03", "2026-02") == []


def test_targets_count_listed_brands_and_find_uncovered_units() -> None:
    brands = [
        {"brand_id": "a", "region_code": "460105", "level": "municipal", "status": "listed"},
        {"brand_id": "b", "region_code": "469005", "level": "provincial", "status": "demonstration"},
        {"brand_id": "c", "region_code": "460000", "level": "provincial", "status": "candidate"},
        {"brand_id": "d", "region_code": "500229", "level": "municipal", "status": "listed"},
        {"brand_id": "e", "region_code": "500101", "level": "national", "status": "revoked"},
    ]
    chongqing, hainan = tg.progress(brands)
    national, municipal, counties, townships = chongqing["goals"]
    assert (national["achieved"], national["target"]) == (0, 10)
    assert (municipal["achieved"], municipal["in_cultivation"]) == (1, 0)
    assert counties["achieved"] == 1 and "500229" not in {m["code"] for m in counties["missing"]}
    assert "500101" in {m["code"] for m in counties["missing"]} and townships["tracked"] is False
    provincial, cities = hainan["goals"]
    assert (provincial["achieved"], provincial["in_cultivation"], provincial["target_max"]) == (1, 1, 6)
    missing = {m["code"] for m in cities["missing"]}
    assert "460100" not in missing and "469005" not in missing and "460200" in missing
    assert "460300" not in missing and cities["target"] == len(tg.hainan_units())
    (only,) = tg.progress(brands, region="460100")
    assert only["programme"] == "hainan-2023" and only["goals"][1]["target"] == 1


def test_month_ranges_never_loop_on_bad_input() -> None:
    from laowu.domain.statistics import month_count, months_between

    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_between("2026-03", "2026-02") == [] and month_count("2026-03", "2026-02") == 0
    assert month_count("3898-01", "8565-12") == (8565 - 3898 + 1) * 12
    for bad in ("3898-89", "2026-00", "2026-13"):
        with pytest.raises(ValueError):
            month_count(bad, "8565-12")


def test_a_delta_equals_the_difference_of_the_full_cells_whatever_changed() -> None:
    """change_delta spreads the difference of an entity's facts over its scopes when they stay the same; that must
    give exactly the difference of its expanded cells, and scope changes must fall back to it."""
    rng = random.Random(11)

    def some_placement() -> dict[str, Any]:
        status = rng.choice(["dispatched", "confirmed", "rejected", "ended"])
        start = rng.choice([None, "2026-01-31", "2026-02-05", "2026-11-30"])
        return placement(status=status, start_date=start, origin_region=rng.choice(["469005", "460106"]),
                         brand_id=rng.choice(["qz", "yesao"]), monthly_wage=rng.choice([None, "6000.00"]),
                         end_date=rng.choice([None, "2026-03-01", "2026-08-05"]),
                         first_followup_date=rng.choice([None, "2026-02-20", "2026-04-01"]))

    def some_worker() -> dict[str, Any]:
        return worker(region=rng.choice(["460106", "500101"]), brands=tuple(rng.sample(["qz", "yc", "ys"], rng.randint(0, 2))),
                      groups=rng.choice([(), ("disabled",)]))

    for _ in range(400):
        a, b = some_placement(), some_placement()
        if rng.random() < 0.5:
            b |= {k: a[k] for k in ("origin_region", "brand_id", "destination_region")}  # the usual case: same scopes
        assert st.change_delta("placement", a, b).cells == st._difference(st.placement_cells(b), st.placement_cells(a))
        v, w = some_worker(), some_worker()
        assert st.change_delta("worker", v, w).cells == st._difference(st.worker_cells(w), st.worker_cells(v))
    assert st.change_delta("placement", None, a).cells == {c: x for c, x in st.placement_cells(a).items() if x}
