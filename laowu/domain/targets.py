"""Targets (目标任务) of the two seed documents and progress against them — pure code over brand records.

* Chongqing, 渝人社〔2021〕432号 §一: "力争打造10个左右在全国有影响力、知名度高的劳务品牌,60个左右市级特色劳务品牌。
  每个区县和市级乡村振兴重点帮扶乡镇至少培育打造1个市级特色劳务品牌" — by the end of the 14th Five-Year Plan (2025).
* Hainan, 琼人社发〔2023〕39号 §三.1: "2023年底前 … 培育 … 4-6个“琼字号”劳务品牌 … 尚无劳务品牌的(市县),
  2024年底前至少培育形成1个".

Counting rules: a brand counts once it is in the resource library — ``listed`` (入库) or ``demonstration``
(示范); ``candidate`` (培育) brands are shown as in cultivation; suspended and revoked ones do not count.
A national-level brand also satisfies "at least one municipal brand" in its district/county (it is more, not
less). The units a goal ranges over are today's codes from the GB/T 2260 table (python-stdnum's loc.dat):
Chongqing's districts and counties (区县); Hainan's prefecture-level cities and province-administered county-level
units (市县) — except 三沙市, which has no resident labor force to brand and is outside the province's
employment targets. Key assisted townships (重点帮扶乡镇) cannot be tracked: a brand's region is a six-digit county
code, one level above townships, and the township list is not in the seeds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any

from stdnum import numdb

from laowu.domain import regions

COUNTED = frozenset({"listed", "demonstration"})
CULTIVATING = frozenset({"candidate"})
LEVELS = ("national", "provincial", "municipal", "county")
EXCLUDED_UNITS = {"460300": "三沙市: no resident labor force; outside the province's employment targets"}

_PERIOD = re.compile(r"\[(?P<start>\d{4})?-(?P<end>\d{4})?\](?P<name>.+)")


def _walk(prefixes: list[Any], code: str = "", inherited: dict[str, str] | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    for _length, low, high, props, nested in prefixes:
        merged = {**(inherited or {}), **props}
        parts = [low] if low == high else [str(n).zfill(len(low)) for n in range(int(low), int(high) + 1)]
        for part in parts:
            full = code + part
            if len(full) == 6:
                yield full, merged
            elif len(full) < 6:
                yield from _walk(nested, full, merged)


@functools.lru_cache(maxsize=1)
def current_codes() -> dict[str, str]:
    """Codes in use today (a name period without an end year), with that name."""
    out: dict[str, str] = {}
    for code, props in _walk(numdb.get("cn/loc").prefixes):
        value = props.get("county")
        if not value:
            continue
        for part in (p for p in value.split(",") if p):
            match = _PERIOD.fullmatch(part)
            if match is None:  # an older loc.dat without periods: everything listed is current
                out[code] = part
            elif match.group("end") is None:
                out[code] = match.group("name")
    return out


def _is_county(code: str) -> bool:
    return not code.endswith("00")


def chongqing_units() -> list[tuple[str, str]]:
    """Chongqing's districts and counties (区县) in use today."""
    return sorted((c, n) for c, n in current_codes().items() if c.startswith("50") and _is_county(c))


def hainan_units() -> list[tuple[str, str]]:
    """Hainan's cities and counties (市县): prefecture-level cities and province-administered county-level units."""
    codes = current_codes()
    cities = [(c, n) for c, n in codes.items() if c.startswith("46") and c.endswith("00") and not c.endswith("0000")
              and c[2:4] != "90" and c not in EXCLUDED_UNITS]
    counties = [(c, n) for c, n in codes.items() if c.startswith("4690") and _is_county(c)]
    return sorted(cities + counties)


def hainan_unit_of(code: str) -> str:
    """The 市县 a code falls in: its prefecture city (4601xx → 460100) or, under 4690xx, the county itself."""
    return code if code.startswith("4690") else code[:4] + "00"


def _brand_counts(brands: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    out = {level: {"counted": 0, "in_cultivation": 0, "suspended_or_revoked": 0} for level in LEVELS}
    for b in brands:
        bucket = out.setdefault(b["level"], {"counted": 0, "in_cultivation": 0, "suspended_or_revoked": 0})
        key = "counted" if b["status"] in COUNTED else "in_cultivation" if b["status"] in CULTIVATING else \
            "suspended_or_revoked"
        bucket[key] += 1
    return out


def _goal(goal: str, label: str, target: int, achieved: int, cultivating: int, deadline: str,
          **extra: Any) -> dict[str, Any]:
    return {"goal": goal, "label": label, "target": target, "achieved": achieved, "in_cultivation": cultivating,
            "progress": round(min(1.0, achieved / target), 4) if target else 1.0, "met": achieved >= target,
            "deadline": deadline, **extra}


def _coverage(units: list[tuple[str, str]], brands: list[Mapping[str, Any]], unit_of: Any,
              wanted: Iterable[str] | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    levels = set(wanted) if wanted is not None else None
    has: set[str] = set()
    cultivating: set[str] = set()
    for b in brands:
        if levels is not None and b["level"] not in levels:
            continue
        unit = unit_of(b["region_code"])
        if b["status"] in COUNTED:
            has.add(unit)
        elif b["status"] in CULTIVATING:
            cultivating.add(unit)
    missing = [{"code": c, "name": n, "in_cultivation": c in cultivating} for c, n in units if c not in has]
    covered = [{"code": c, "name": n} for c, n in units if c in has]
    return covered, missing, len([1 for c, _ in units if c not in has and c in cultivating])


def chongqing(brands: Iterable[Mapping[str, Any]], within: str | None = None) -> dict[str, Any]:
    mine = [b for b in brands if b["region_code"].startswith("50")]
    counts = _brand_counts(mine)
    units = [(c, n) for c, n in chongqing_units() if within is None or regions.covers(within, c)]
    covered, missing, cultivating = _coverage(units, mine, lambda code: code, ("municipal", "national"))
    deadline = "2025-12-31"
    return {
        "programme": "chongqing-2021", "region": {"code": "500000", "name": "重庆市"},
        "document": "渝人社〔2021〕432号 重庆市劳务品牌建设任务分工方案", "brands_by_level": counts,
        "goals": [
            _goal("national_brands", "全国有影响力、知名度高的劳务品牌(10个左右)", 10, counts["national"]["counted"],
                  counts["national"]["in_cultivation"], deadline),
            _goal("municipal_brands", "市级特色劳务品牌(60个左右)", 60, counts["municipal"]["counted"],
                  counts["municipal"]["in_cultivation"], deadline),
            _goal("every_county_municipal_brand", "每个区县至少1个市级特色劳务品牌", len(units), len(covered),
                  cultivating, deadline, unit="区县", missing=missing),
            {"goal": "key_townships_municipal_brand", "label": "市级乡村振兴重点帮扶乡镇至少1个市级特色劳务品牌",
             "tracked": False, "deadline": deadline,
             "reason": "品牌所在地为6位县级行政区划代码,无法落到乡镇;重点帮扶乡镇名单未配置"},
        ],
    }


def hainan(brands: Iterable[Mapping[str, Any]], within: str | None = None) -> dict[str, Any]:
    mine = [b for b in brands if b["region_code"].startswith("46")]
    counts = _brand_counts(mine)
    units = [(c, n) for c, n in hainan_units() if within is None or _unit_within(c, within)]
    covered, missing, cultivating = _coverage(units, mine, hainan_unit_of)
    provincial = counts["provincial"]
    return {
        "programme": "hainan-2023", "region": {"code": "460000", "name": "海南省"},
        "document": "琼人社发〔2023〕39号 海南省关于加强劳务品牌建设的实施意见", "brands_by_level": counts,
        "goals": [
            _goal("provincial_brands", "“琼字号”省级劳务品牌(4-6个)", 4, provincial["counted"],
                  provincial["in_cultivation"], "2023-12-31", target_max=6,
                  fields=["农业", "建筑", "新能源", "旅游酒店", "家政", "特色餐饮"]),
            _goal("every_city_county_brand", "尚无劳务品牌的市县至少培育形成1个", len(units), len(covered), cultivating,
                  "2024-12-31", unit="市县", missing=missing,
                  excluded=[{"code": c, "reason": r} for c, r in EXCLUDED_UNITS.items()]),
        ],
    }





def _unit_within(unit: str, region: str) -> bool:
    """A Hainan unit is in scope when the region covers it or lies inside it."""
    return regions.covers(region, unit) or regions.covers(unit, region)


def progress(brands: Iterable[Mapping[str, Any]], region: str | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """Every programme that concerns ``region`` (all when None), with its units narrowed to the region."""
    rows = list(brands)
    out = []
    for province, build in (("500000", chongqing), ("460000", hainan)):
        if region is not None and not regions.covers(province, region):
            continue
        within = region if region is not None and region != province else None
        item = build(rows, within)
        if today is not None:
            for goal in item["goals"]:
                goal["overdue"] = bool(goal.get("deadline")) and not goal.get("met", True) and \
                    today.isoformat() > goal["deadline"]
        out.append(item)
    return out
