"""SQL text from domain constants (laowu.store.sqltext): the store's status lists are the domain's sets."""

from __future__ import annotations

import re

import pytest

from laowu.domain import lifecycle
from laowu.domain import statistics as st
from laowu.store import scope, sqltext
from laowu.store import stats as store


def test_in_list_is_sorted_and_quoted() -> None:
    assert sqltext.in_list({"ended", "confirmed"}) == "('confirmed', 'ended')"


@pytest.mark.parametrize("bad", [[], ["it's"], ["a b"], ["x'); DROP TABLE workers; --"], ["Confirmed"]])
def test_in_list_takes_plain_words_only(bad: list[str]) -> None:
    with pytest.raises(ValueError):
        sqltext.in_list(bad)


def test_the_store_lists_are_the_domain_sets() -> None:
    assert scope.ACTIVE == sqltext.in_list(lifecycle.ACTIVE_PLACEMENT)
    assert store.CONFIRMED_SQL == sqltext.in_list(st.CONFIRMED)
    # the distinct counts (a worker once per cell) are exactly the domain's, and no sum counts one of them
    distinct = set(re.findall(r"'([a-z_0-9]+)' AS metric|, '([a-z_0-9]+)', worker_id", store._DISTINCT_FACTS))
    assert {a or b for a, b in distinct} == set(st.DISTINCT_METRICS)
    summed = {a or b for a, b in re.findall(r"'([a-z_0-9]+)' AS metric|, '([a-z_0-9]+)', (?:n|wage|waged)\b",
                                              store._SUM_FACTS)}
    assert summed == set(st.METRICS) - set(st.DISTINCT_METRICS)
    for n in st.RETENTION_MONTHS:
        assert f"'retention_{n}m_due'" in store._RECOUNT and store.retention_due_sql(n) in store._RECOUNT
    assert store.followup_covered_sql() in store._RECOUNT
