"""Masked means unrecoverable (API.md): what a masked view shows together leaves ≥ 1,000 candidate ID numbers."""

from __future__ import annotations

from datetime import date

import pytest
from candidates import candidates, count

from laowu.domain.identity import birth_month, mask_id_number, masked_changes, masked_worker

from helpers import id_number

ROW = {"worker_id": "w" + "1" * 24, "id_number_masked": "", "name": "王小梅", "sex": "F",
       "birth_date": date(1990, 3, 7), "household_region": "460105"}


@pytest.mark.parametrize(("region", "born", "seq"), [
    ("460105", date(1990, 3, 7), 122), ("500101", date(1985, 2, 28), 31), ("440305", date(2000, 2, 29), 998),
    ("469005", date(1962, 12, 31), 7),
])
def test_a_masked_view_leaves_at_least_1000_candidates(region: str, born: date, seq: int) -> None:
    number = id_number(region, born, seq)
    view = masked_worker(ROW | {"id_number_masked": mask_id_number(number), "birth_date": born,
                                "sex": "M" if seq % 2 else "F", "household_region": region})
    assert "birth_date" not in view and view["birth_month"] == born.isoformat()[:7]
    found = list(candidates(view, region))
    assert number in found  # the enumeration is right: the true number is among them
    assert len(found) >= 1000, len(found)


def test_the_old_mask_with_the_full_birth_date_left_a_handful() -> None:
    """What the review found (4601**********1220 + birth date + region): why the rule exists."""
    number = id_number("460105", date(1990, 3, 7), 122)
    old = {"id_number_masked": number[:4] + "*" * 10 + number[-4:], "birth_date": "1990-03-07", "sex": "F"}
    assert count(old, "460105") == 1
    assert count(old | {"birth_date": None, "birth_month": "1990-03"}, "460105") < 50  # last four + month: still few


def test_masks_stored_by_older_releases_are_masked_again_on_read() -> None:
    assert mask_id_number("4601**********1220") == "4601" + "*" * 14
    assert mask_id_number("46010519900307122X") == "460105" + "*" * 12
    assert masked_worker(ROW | {"id_number_masked": "4601**********1220"})["id_number_masked"] == "4601" + "*" * 14
    assert birth_month("1990-03-07") == birth_month(date(1990, 3, 7)) == "1990-03"


def test_history_changes_are_masked_too() -> None:
    changes = {"created": [None, True], "birth_date": [None, "1990-03-07"], "name": [None, "王小梅"],
               "id_number_masked": [None, "4601**********1220"]}
    masked = masked_changes(changes)
    assert masked["birth_month"] == [None, "1990-03"] and "birth_date" not in masked
    assert masked["id_number_masked"] == [None, "4601" + "*" * 14] and masked["name"] == [None, "王小梅"]
