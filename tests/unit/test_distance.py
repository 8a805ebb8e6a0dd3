"""Distance classes (跨省 / 省内跨市 / 市内跨县 / 县内) from GB/T 2260 codes."""

from __future__ import annotations

import pytest

from laowu.domain import regions
from laowu.domain.distance import CLASSES, LABELS, distance_class


@pytest.mark.parametrize(
    ("origin", "destination", "expected"),
    [
        ("460106", "440305", "cross_province"),  # 海口龙华 → 深圳南山
        ("460106", "440000", "cross_province"),  # → Guangdong, somewhere
        ("460106", "460200", "cross_city"),  # 海口 → 三亚
        ("460106", "469005", "cross_city"),  # 海口 → 文昌 (province-administered, a city of its own)
        ("469005", "469006", "cross_city"),  # 文昌 → 万宁: two province-administered county-level cities
        ("460106", "460000", "cross_city"),  # "to Hainan": read as leaving the city
        ("460106", "460105", "cross_county"),  # 龙华 → 秀英, both 海口
        ("460106", "460100", "cross_county"),  # "to 海口" from a county of 海口
        ("460106", "460106", "in_county"),
        ("469005", "469005", "in_county"),
        ("500101", "500229", "cross_county"),  # 重庆万州 (市辖区) → 城口县 (县): one municipality
        ("500101", "500000", "cross_county"),
        ("110105", "110105", "in_county"),
        ("500101", "110105", "cross_province"),
    ],
)
def test_distance_class_from_codes(origin: str, destination: str, expected: str) -> None:
    assert distance_class(origin, destination) == expected


def test_every_class_has_a_chinese_label_widest_first() -> None:
    assert list(LABELS) == list(CLASSES)
    assert [LABELS[c] for c in CLASSES] == ["跨省", "省内跨市", "市内跨县", "县内"]


def test_city_of() -> None:
    assert regions.city_of("460106") == "460100"
    assert regions.city_of("460100") == "460100"
    assert regions.city_of("460000") is None
    assert regions.city_of("469005") == "469005"
    assert regions.city_of("500229") == "500000"
    assert regions.city_of("500000") == "500000"
    assert regions.city_of("310000") == "310000"


def test_a_placement_to_its_own_county_is_in_county_for_every_county() -> None:
    counties = [c for c in regions.codes() if regions.region_level(c) == "county"]
    assert all(distance_class(c, c) == "in_county" for c in counties)
