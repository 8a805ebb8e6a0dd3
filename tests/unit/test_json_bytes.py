"""The one JSON encoder of stored and published documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import orjson
import pytest

from laowu.store.pool import json_bytes


def test_amounts_stay_exact_and_non_string_keys_still_encode() -> None:
    assert orjson.loads(json_bytes({"wage": Decimal("5200.50"), "day": date(2026, 11, 22)})) == {
        "wage": "5200.50", "day": "2026-11-22"}
    assert orjson.loads(json_bytes({date(2026, 1, 1): 1, 7: Decimal("1.10")})) == {"2026-01-01": 1, "7": "1.10"}


def test_unknown_types_are_still_refused() -> None:
    with pytest.raises(TypeError):
        json_bytes({"x": object()})
