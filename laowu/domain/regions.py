"""Administrative division codes (行政区划代码, GB/T 2260).

A code is six digits: province (省级, ``PP0000``), prefecture/city (地级, ``PPCC00``) and county
(县级, ``PPCCDD``). The table comes from python-stdnum's bundled ``cn/loc.dat`` and keeps codes that
were abolished long ago, because a resident ID number keeps the address code of the place and time
it was first issued: a worker's number may carry a code that no longer exists, and the ledger must
still accept and name it.

Two layouts of ``loc.dat`` are understood:

* python-stdnum 2.x: a two-level tree (``46 province="海南省"`` then ``  0106 county="[2002-]龙华区"``)
  that lists province and city codes as entries of their own (``0000``, ``0100``), with validity
  years in brackets and successive names separated by commas; it is compiled from Wikipedia and
  misses a few codes of the official lists, which ``_SUPPLEMENT`` adds back;
* python-stdnum 1.x: flat six-digit county lines carrying ``province=`` and ``prefecture=`` fields
  and no province or city lines; those codes are derived from the counties and named from the fields.

Names: ``region_name`` returns the most recent name a code carried. For a county the display name
is the chain province + city + county (``海南省海口市龙华区``), skipping grouping placeholders such as
``市辖区`` (municipal districts) and ``省直辖县级行政单位`` (province-administered counties), so a
Chongqing district reads ``重庆市万州区`` and a Hainan county-level city ``海南省文昌市``. A city code
gives the city name alone (``海口市``); a placeholder city code is shown as its province with the
placeholder in brackets (``重庆市（市辖区）``, ``北京市（县）``) because the placeholder alone means
nothing. Parents are named by their most recent name too, so an abolished county is shown under today's name of its prefecture.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from stdnum import numdb

from laowu.domain.errors import DomainError

RegionLevel = Literal["province", "city", "county"]

# Codes in loc.dat that group counties rather than name a place; shown only with their parent.
_PLACEHOLDER_NAMES = frozenset(
    {
        "市辖区",
        "县",
        "市",
        "省直辖县级行政单位",
        "省直辖行政单位",
        "自治区直辖县级行政单位",
    }
)

# Codes published by the National Bureau of Statistics (and carried on ID cards) that the 2.x
# loc.dat, compiled from Wikipedia, leaves out: 嘉峪关市, a city without districts, had a 市辖区 code
# in the official lists (e.g. 2015) and python-stdnum 1.x's NBS-based table.
_SUPPLEMENT: dict[str, str] = {"620201": "市辖区"}

_CODE_RE = re.compile(r"[0-9]{6}")
# One name with its optional validity years, e.g. "[1997-1997]万县区" or "[-2010]崇文区" or "北京市".
_PERIOD_RE = re.compile(r"\[(?P<start>[0-9]{4})?-(?P<end>[0-9]{4})?\](?P<name>.+)|(?P<plain>.+)")
_OPEN_END = 10_000


@dataclass(frozen=True)
class _RegionTable:
    """Parsed loc.dat: the most recent own name of every code and the tree built from the codes."""

    names: dict[str, str | None]
    children: dict[str, tuple[str, ...]]


def _most_recent_name(value: str) -> str:
    """Pick the latest of ``[start-end]name`` periods; an open end means the name is current.

    Ranking by end year (not list position) keeps this right even for entries such as
    ``[1983-1982]郊区,…`` whose years are out of order in the source data.
    """
    best: tuple[int, int, str] | None = None
    for index, part in enumerate(p for p in value.split(",") if p):
        match = _PERIOD_RE.fullmatch(part)
        if match is None:  # pragma: no cover - the pattern accepts any non-empty text
            continue
        name = match.group("name") or match.group("plain")
        end = match.group("end")
        key = (int(end) if end else _OPEN_END, index, name)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else value


def _expand(low: str, high: str) -> Iterator[str]:
    """Yield every code in a numdb range (``low == high`` for a single code)."""
    if low == high:
        yield low
        return
    for number in range(int(low), int(high) + 1):
        yield str(number).zfill(len(low))


def _leaves(
    prefixes: list[numdb.PrefixInfo], code: str = "", inherited: dict[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """Walk the numdb tree and yield every six-digit code with its merged properties."""
    for _length, low, high, props, nested in prefixes:
        merged = {**(inherited or {}), **props}
        for part in _expand(low, high):
            full = code + part
            if len(full) == 6:
                yield full, merged
            elif len(full) < 6:
                yield from _leaves(nested, full, merged)


def _structural_parents(code: str) -> tuple[str, ...]:
    """Candidate parents, nearest first, from the shape of the code alone."""
    level = _level_of(code)
    if level == "province":
        return ()
    province = code[:2] + "0000"
    if level == "city" or code[2:4] == "00":
        # PP00DD counties (e.g. Hainan's 1988-2002 county codes) hang directly off the province.
        return (province,)
    return (code[:4] + "00", province)


def _level_of(code: str) -> RegionLevel:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


@functools.lru_cache(maxsize=1)
def _table() -> _RegionTable:
    """Parse loc.dat once, on first use; import stays cheap for processes that never need regions."""
    names: dict[str, str | None] = {}
    derived: dict[str, str | None] = {}
    for code, props in _leaves(numdb.get("cn/loc").prefixes):
        if "county" in props:
            names[code] = _most_recent_name(props["county"])
        # Older loc.dat files list only counties: derive province and city codes from them.
        province = code[:2] + "0000"
        if province not in derived or derived[province] is None:
            derived[province] = _most_recent_name(props["province"]) if "province" in props else None
        if _level_of(code) == "county" and code[2:4] != "00":
            city = code[:4] + "00"
            if city not in derived or derived[city] is None:
                derived[city] = _most_recent_name(props["prefecture"]) if "prefecture" in props else None
    for code, name in derived.items():
        if names.get(code) is None:
            names[code] = name
    for code, name in _SUPPLEMENT.items():
        names.setdefault(code, name)

    children: dict[str, list[str]] = {}
    for code in sorted(names):
        parent = next((p for p in _structural_parents(code) if p in names), None)
        if parent is not None:
            children.setdefault(parent, []).append(code)
    return _RegionTable(names=names, children={k: tuple(v) for k, v in children.items()})


def _checked(code: str) -> str:
    """Reject anything that is not six digits, so tree helpers never guess at malformed input."""
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        raise DomainError(
            "region_code",
            "format",
            "must be a six-digit GB/T 2260 code",
            "行政区划代码应为6位数字",
        )
    return code


def region_exists(code: str) -> bool:
    """True when the code exists or ever existed in GB/T 2260, whatever its validity years.

    Province and city codes count as existing whenever loc.dat lists them or any county under them.
    """
    return isinstance(code, str) and _CODE_RE.fullmatch(code) is not None and code in _table().names


def codes() -> list[str]:
    """Every code the table knows (current and abolished), in code order — e.g. for a test that holds SQL to Python."""
    return sorted(_table().names)


def region_level(code: str) -> RegionLevel:
    """Level implied by the code's shape: ``PP0000`` province, ``PPCC00`` city, else county."""
    return _level_of(_checked(code))


def parent_region(code: str) -> str | None:
    """Nearest existing parent (county → city → province), or None for provinces and unknown codes.

    A county's parent is its city code when that exists (``500101`` → ``500100``, the 市辖区 grouping
    of Chongqing) and otherwise its province.
    """
    table = _table()
    if _checked(code) not in table.names:
        return None
    return next((p for p in _structural_parents(code) if p in table.names), None)


def region_ancestors(code: str) -> list[str]:
    """The code itself, then each parent up to the province; empty for a code that never existed."""
    if _checked(code) not in _table().names:
        return []
    chain = [code]
    while (parent := parent_region(chain[-1])) is not None:
        chain.append(parent)
    return chain


def prefix(code: str) -> str:
    """Containment as a string prefix — the one definition, also what SQL is given (``LIKE prefix%``, or a range
    of ``text_pattern_ops``): 460000 → 46, 460100 → 4601, a county → itself."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def rollup(code: str) -> list[str]:
    """The code and the levels above it, from the code's shape alone: 460106 → 460106, 460100, 460000; a city
    460100 → 460100, 460000; a ``PP00DD`` county → itself and its province; anything but six ASCII digits → [].

    The other face of :func:`prefix`: ``scope`` covers ``code`` exactly when ``scope`` is in ``rollup(code)``.
    Statistics roll a figure up these codes, alert and subsidy cover tables list a row under them, and a rule set
    is looked up along them. Its one SQL twin is ``region_rollup(text)`` (migration 0021); a test holds the two to
    each other over every GB/T 2260 code.
    """
    if not isinstance(code, str) or not _CODE_RE.fullmatch(code):
        return []
    return list(dict.fromkeys([code, code[:4] + "00", code[:2] + "0000"]))


def covers(scope: str, code: str) -> bool:
    """Whether a jurisdiction (管辖范围) includes a code, by prefix.

    ``460000`` covers every ``46xxxx``, ``460100`` covers ``4601xx``, a county covers only itself.
    Purely structural, so a bureau keeps seeing workers whose address codes were since abolished.
    """
    _checked(scope)
    _checked(code)
    return code.startswith(prefix(scope))


def children(code: str) -> list[str]:
    """Direct children that exist or existed, in code order; empty for counties and unknown codes."""
    return list(_table().children.get(_checked(code), ()))


@functools.lru_cache(maxsize=8192)  # every answer about a worker names its region: walk the table once per code
def region_name(code: str) -> str | None:
    """Chinese display name (see the module docstring for the format), or None when unknown.

    Where a code carried several names over time the most recent one is used.
    """
    if not region_exists(code):
        return None
    names = _table().names
    own = names[code]
    level = _level_of(code)
    if level == "province":
        return own
    if level == "city":
        if own in _PLACEHOLDER_NAMES:
            province = names.get(code[:2] + "0000")
            return f"{province}（{own}）" if province else own
        return own
    parts: list[str] = []
    for ancestor in reversed(region_ancestors(code)):
        name = names.get(ancestor)
        if not name:
            continue
        if ancestor != code and name in _PLACEHOLDER_NAMES:
            continue
        if parts and parts[-1] == name:
            continue
        parts.append(name)
    return "".join(parts) or None


# Own names of city-level codes that group a municipality's (直辖市) districts or counties: the city is the province.
_MUNICIPAL_GROUPS = frozenset({"市辖区", "县", "市"})


def city_of(code: str) -> str | None:
    """The prefecture-level unit (地级) a code lies in, as a code, or None when the code names only a province.

    * a municipality (直辖市: 北京, 天津, 上海, 重庆) is one city: any of its codes, the province code included, gives
      the province code — its ``市辖区``/``县`` groupings are not cities;
    * a county directly administered by its province (``省直辖县级行政单位``, e.g. Hainan's 文昌市 469005) is a city of
      its own, as is a ``PP00DD`` county hanging directly off its province;
    * otherwise a county gives its ``PPCC00`` city, and a city code itself.
    """
    names = _table().names
    province = _checked(code)[:2] + "0000"
    if any(names.get(province[:2] + c + "00") in _MUNICIPAL_GROUPS for c in ("01", "02")):
        return province
    if _level_of(code) == "province":
        return None
    if code[2:4] == "00" or "直辖" in (names.get(code[:4] + "00") or ""):
        return code
    return code[:4] + "00"
