"""Region containment has one definition in Python: ``prefix`` (scope covers code when code starts with it) and its
other face ``rollup`` (the codes that cover a code). Every other module goes through them; this holds the two
faces to each other over every pair of codes in the GB/T 2260 table."""

from __future__ import annotations

from collections import defaultdict

import pytest

from laowu.domain import regions, statistics, subsidies
from laowu.store import scope

EDGES = ["", "46010", "4601000", "46010a", "４６０１００", "460100\n", " 460100", "abcdef"]


def test_scope_covers_code_exactly_when_scope_is_in_its_rollup_for_every_pair_of_codes() -> None:
    table = regions.codes()
    by_prefix: dict[str, set[str]] = defaultdict(set)
    for s in table:
        by_prefix[regions.prefix(s)].add(s)
    known = set(table)
    for code in table:
        # Every scope whose prefix starts the code (any length: a prefix of 1, 3 or 5 digits would be a bug too).
        covering = set().union(*(by_prefix.get(code[:k], set()) for k in range(1, 7)))
        assert covering == set(regions.rollup(code)) & known, code
        assert all(regions.covers(s, code) for s in covering)


def test_rollup_shape_and_edges() -> None:
    assert regions.rollup("460106") == ["460106", "460100", "460000"]
    assert regions.rollup("460100") == ["460100", "460000"]
    assert regions.rollup("460000") == ["460000"]
    assert regions.rollup("460006") == ["460006", "460000"]  # a PP00DD county hangs off its province
    for bad in EDGES:
        assert regions.rollup(bad) == [], repr(bad)


def test_the_other_modules_use_the_one_rollup_and_prefix() -> None:
    assert statistics.rollup is regions.rollup
    assert scope.region_prefix is regions.prefix


@pytest.mark.parametrize("region, expected", [("469006", "469006"), ("469005", "460000"), ("110101", "default")])
def test_subsidy_rules_are_looked_up_along_the_rollup(region: str, expected: str) -> None:
    rules = {"default": {"version": "default"}, "460000": {"version": "460000"}, "469006": {"version": "469006"}}
    assert subsidies.rules_for(region, rules)["version"] == expected


def test_the_store_s_day_boundary_is_the_domain_s_beijing_day() -> None:
    """The reveal quota's SQL counts days in a zone name; it must be the domain's Beijing offset, on any date."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from laowu.domain.alerts import CHINA
    from laowu.domain.statistics import BEIJING
    from laowu.store.reveals import ZONE

    assert CHINA is BEIJING
    for day in range(0, 3650, 17):
        at = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=day)
        assert ZoneInfo(ZONE).utcoffset(at) == BEIJING.utcoffset(at)
