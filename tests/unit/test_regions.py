"""Unit tests for the GB/T 2260 region table (laowu.domain.regions)."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator

import pytest
from stdnum import numdb

from laowu.domain import regions
from laowu.domain.errors import DomainError
from laowu.domain.regions import (
    children,
    covers,
    parent_region,
    region_ancestors,
    region_exists,
    region_level,
    region_name,
)

# --- existence -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "460000",  # 海南省
        "460100",  # 海口市
        "460106",  # 龙华区 (from 2002)
        "460001",  # 通什市 (1988-2002, a county-level code directly under the province)
        "469005",  # 文昌市 (province-administered)
        "500000",  # 重庆市 (from 1997)
        "500100",  # 重庆市 市辖区 grouping
        "500101",  # 万州区
        "110103",  # 崇文区, merged into 东城区 in 2010
        "810000",  # 香港特别行政区
    ],
)
def test_existing_or_former_codes(code: str) -> None:
    assert region_exists(code)


@pytest.mark.parametrize("code", ["999999", "990000", "460109", "000000", "469900", "4601", "4601066", "46o106", ""])
def test_codes_that_never_existed(code: str) -> None:
    assert not region_exists(code)


def test_official_code_missing_from_stdnum_table_is_supplemented() -> None:
    # 嘉峪关市's 市辖区 code is in the NBS lists and on ID cards, but not in stdnum 2.x's loc.dat.
    assert region_exists("620201")
    assert region_name("620201") == "甘肃省嘉峪关市市辖区"
    assert region_ancestors("620201") == ["620201", "620200", "620000"]
    assert children("620200") == ["620201"]


def test_every_county_has_a_city_or_province_in_the_table() -> None:
    table = regions._table()
    for code in table.names:
        chain = region_ancestors(code)
        assert chain[0] == code
        assert region_level(chain[-1]) == "province", code
        assert all(region_exists(c) for c in chain)


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("460000", "海南省"),
        ("460100", "海口市"),
        ("460105", "海南省海口市秀英区"),
        ("460106", "海南省海口市龙华区"),
        ("460001", "海南省五指山市"),  # 通什市 until 2000, renamed 五指山市: most recent wins
        ("469005", "海南省文昌市"),  # 省直辖县级行政单位 is a grouping, not a place
        ("500000", "重庆市"),
        ("500101", "重庆市万州区"),  # 万县区 in 1997, 万州区 from 1998
        ("500110", "重庆市綦江区"),  # 万盛区 until 2010
        ("500229", "重庆市城口县"),
        ("110101", "北京市东城区"),
        ("110103", "北京市崇文区"),  # defunct since 2010
        ("210311", "辽宁省鞍山市千山区"),  # three names, with out-of-order years in the data
        ("810000", "香港特别行政区"),  # the code's own (simplified) name, not the traditional province field
    ],
)
def test_region_name(code: str, name: str) -> None:
    assert region_name(code) == name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("500100", "重庆市（市辖区）"),
        ("500200", "重庆市（县）"),
        ("469000", "海南省（省直辖县级行政单位）"),
    ],
)
def test_placeholder_city_codes_are_named_with_their_province(code: str, name: str) -> None:
    assert region_name(code) == name


@pytest.mark.parametrize("code", ["999999", "460109", "abc", ""])
def test_unknown_code_has_no_name(code: str) -> None:
    assert region_name(code) is None


# --- levels and the tree -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("460000", "province"),
        ("460100", "city"),
        ("469000", "city"),
        ("460106", "county"),
        ("460001", "county"),
        ("500000", "province"),
        ("500100", "city"),
        ("500101", "county"),
    ],
)
def test_region_level(code: str, level: str) -> None:
    assert region_level(code) == level


@pytest.mark.parametrize("bad", ["4601", "46010a", "4601066", "", "４６０１０６"])
def test_malformed_codes_are_domain_errors(bad: str) -> None:
    for call in (region_level, parent_region, region_ancestors, children):
        with pytest.raises(DomainError) as caught:
            call(bad)
        assert (caught.value.field, caught.value.rule) == ("region_code", "format")
    with pytest.raises(DomainError):
        covers(bad, "460106")
    with pytest.raises(DomainError):
        covers("460000", bad)


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("460106", "460100"),
        ("460100", "460000"),
        ("460000", None),
        ("460001", "460000"),
        ("469005", "469000"),
        ("500101", "500100"),
        ("500229", "500200"),
        ("500100", "500000"),
        ("110103", "110100"),
        ("999999", None),
        ("460109", None),
    ],
)
def test_parent_region(code: str, parent: str | None) -> None:
    assert parent_region(code) == parent


@pytest.mark.parametrize(
    ("code", "chain"),
    [
        ("460106", ["460106", "460100", "460000"]),
        ("469005", ["469005", "469000", "460000"]),
        ("460001", ["460001", "460000"]),
        ("500101", ["500101", "500100", "500000"]),
        ("500000", ["500000"]),
        ("110103", ["110103", "110100", "110000"]),
        ("999999", []),
    ],
)
def test_region_ancestors(code: str, chain: list[str]) -> None:
    assert region_ancestors(code) == chain


@pytest.mark.parametrize(
    ("scope", "code", "expected"),
    [
        ("460000", "460106", True),
        ("460000", "469005", True),
        ("460000", "460001", True),
        ("460000", "460000", True),
        ("460000", "500101", False),
        ("460100", "460106", True),
        ("460100", "460100", True),
        ("460100", "460200", False),
        ("460100", "469005", False),
        ("460100", "460000", False),
        ("460106", "460106", True),
        ("460106", "460105", False),
        ("460106", "460100", False),
        ("500000", "500101", True),
        ("500100", "500101", True),
        ("500100", "500229", False),
        ("110000", "110103", True),  # abolished districts stay within the scope
    ],
)
def test_covers(scope: str, code: str, expected: bool) -> None:
    assert covers(scope, code) is expected


def test_children_of_chongqing() -> None:
    assert children("500000") == ["500100", "500200", "500300"]
    assert "500101" in children("500100")
    assert children("500300") == ["500381", "500382", "500383", "500384"]


def test_children_of_hainan() -> None:
    kids = children("460000")
    assert kids == sorted(kids)
    assert {"460100", "460200", "460300", "460400", "469000"} <= set(kids)
    assert "460001" in kids  # 1988-2002 county code hanging directly off the province
    assert "460106" not in kids  # a grandchild
    assert children("460100") == [
        "460101",
        "460102",
        "460103",
        "460104",
        "460105",
        "460106",
        "460107",
        "460108",
    ]


def test_children_are_consistent_with_parents() -> None:
    for code in ("460000", "460100", "469000", "500000", "110000"):
        for child in children(code):
            assert parent_region(child) == code


def test_counties_and_unknown_codes_have_no_children() -> None:
    assert children("460106") == []
    assert children("999999") == []


# --- loading -------------------------------------------------------------------------------------


def test_table_is_not_parsed_at_import_time() -> None:
    probe = "import laowu.domain.regions as r; print(r._table.cache_info().currsize)"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "0"


def test_table_is_cached() -> None:
    assert regions._table() is regions._table()


# python-stdnum 1.x shipped loc.dat as flat county lines without province or city entries.
_FLAT_LOC_DAT = """\
# flat layout of python-stdnum 1.x
460105 county="秀英区" prefecture="海口市" province="海南省"
460106 county="龙华区" prefecture="海口市" province="海南省"
469005 county="文昌市" prefecture="省直辖县级行政单位" province="海南省"
500101 county="万州区" prefecture="市辖区" province="重庆市"
"""


@pytest.fixture
def flat_loc_dat(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    db = numdb.read(io.StringIO(_FLAT_LOC_DAT))
    regions._table.cache_clear()
    monkeypatch.setattr(numdb, "get", lambda name: db)
    yield
    regions._table.cache_clear()


@pytest.mark.usefixtures("flat_loc_dat")
def test_province_and_city_codes_are_derived_from_a_flat_table() -> None:
    for code in ("460000", "460100", "469000", "500000", "500100"):
        assert region_exists(code), code
    assert region_name("460000") == "海南省"
    assert region_name("460100") == "海口市"
    assert region_name("460106") == "海南省海口市龙华区"
    assert region_name("469005") == "海南省文昌市"
    assert region_name("500101") == "重庆市万州区"
    assert region_ancestors("460106") == ["460106", "460100", "460000"]
    assert children("460000") == ["460100", "469000"]
    assert not region_exists("460200")
