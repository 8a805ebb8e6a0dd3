"""Labour flows (劳务流向): people sent from each origin to each destination, per month and brand, by distance class.

A placement contributes to exactly one flow cell: its dispatch's origin and destination codes (as given, county
or coarser), the Beijing month of its departure date, its brand and its distance class
(:func:`laowu.domain.distance.distance_class`: 跨省 / 省内跨市 / 市内跨县 / 县内). Metrics: ``sent`` — every placement
a dispatch created (person-times of organized output, like ``outputs``; a rejected placement was still sent) —
and ``confirmed`` — placements confirmed by the employer (confirmed, or ended after a confirmation).

The stream worker adds ``contribution(after) − contribution(before)`` of every placement change; the sums
telescope to the contribution of each placement's current state, whatever the order, so a recount over the
placements table gives the same cells. Coarser flows (province to province, a city's counties) are sums of these
cells at read time: :func:`at_level` cuts a code to a level.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from laowu.domain import regions
from laowu.domain.distance import CLASSES, distance_class
from laowu.domain.statistics import CONFIRMED, beijing_month

FlowCell = tuple[str, str, str, str, str, str]
"""(origin_region, destination_region, month YYYY-MM, brand_id, distance_class, metric)"""
METRICS = ("sent", "confirmed")
Level = Literal["province", "city", "county"]
LEVELS: tuple[Level, ...] = ("province", "city", "county")


def contribution(view: Mapping[str, Any] | None) -> dict[FlowCell, Decimal]:
    """What one placement (its ``ledger.changed`` view) contributes to the flow figures."""
    if view is None or not view.get("origin_region") or not view.get("destination_region"):
        return {}
    origin, destination = view["origin_region"], view["destination_region"]
    head: tuple[str, str, str, str, str] = (origin, destination, beijing_month(view["departure_date"]), view["brand_id"],
            distance_class(origin, destination))
    cells: dict[FlowCell, Decimal] = {(*head, "sent"): Decimal(1)}
    if view.get("status") in CONFIRMED and view.get("start_date"):
        cells[(*head, "confirmed")] = Decimal(1)
    return cells


def change(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[FlowCell, Decimal]:
    """The flow delta of one placement change; cells that cancel are left out."""
    out = dict(contribution(after))
    for cell, value in contribution(before).items():
        out[cell] = out.get(cell, Decimal(0)) - value
    return {c: v for c, v in out.items() if v != 0}


def at_level(code: str, level: Level) -> str:
    """A code cut to a level: 460106 → 460000 (province), 460100 (city, ``regions.city_of``), 460106
    (county). A coarser code stays as it is (a dispatch "to 440300" is a city-level flow at the county level too)."""
    if level == "province":
        return code[:2] + "0000"
    if level == "city":
        return regions.city_of(code) or code  # 469005 文昌市 is a city of its own; 110105 is in 北京 (110000)
    return code


def aggregate(cells: list[dict[str, Any]], level: Level, *, by_month: bool = False, by_brand: bool = False
              ) -> list[dict[str, Any]]:
    """Flow cells (rows with the key columns, ``metric`` and ``value``) summed at ``level``: one item per origin,
    destination and distance class (and month, brand when asked), with ``sent`` and ``confirmed``; largest flows
    first. The distance class stays the placement's own (decided on the full codes), so a province-to-province
    flow inside Hainan still splits into 省内跨市, 市内跨县 and 县内."""
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for c in cells:
        key = (at_level(c["origin_region"], level), at_level(c["destination_region"], level), c["distance_class"],
               c["month"] if by_month else "", c["brand_id"] if by_brand else "")
        item = out.setdefault(key, {"origin_region": key[0], "destination_region": key[1], "distance_class": key[2],
                                    "month": key[3] or None, "brand_id": key[4] or None, "sent": 0, "confirmed": 0})
        item[c["metric"]] += int(c["value"])
    return sorted(out.values(), key=lambda i: (-i["sent"], i["origin_region"], i["destination_region"],
                                               i["distance_class"], i["month"] or "", i["brand_id"] or ""))


def totals(items: list[dict[str, Any]]) -> dict[str, int]:
    """People sent per distance class (every class present, widest first), and in all."""
    out = {c: 0 for c in CLASSES}
    for i in items:
        out[i["distance_class"]] += i["sent"]
    return out | {"all": sum(out.values())}
