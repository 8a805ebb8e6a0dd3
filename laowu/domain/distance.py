"""Distance classes of a placement (跨省 / 省内跨市 / 市内跨县 / 县内), from its origin and destination codes.

One home for the split that the flow figures (劳务协作流向), the priority-group monitoring (务工监测) and the transport
subsidy tiers (一次性交通补助) all use. It is decided from the GB/T 2260 codes alone (see
:func:`laowu.domain.regions.city_of` for municipalities and province-administered counties).

A code too coarse to tell (a destination given as a province or a city) is read as *leaving* the smaller unit it does
not name: a Hainan county sending people "to Hainan" (460000) counts as 省内跨市, "to 海口市" (460100) from a county of
海口 as 市内跨县. The bureau is judged on people working away from home, and a workstation that wants a finer class
states a finer destination.
"""

from __future__ import annotations

from typing import Literal, get_args

from laowu.domain import regions

DistanceClass = Literal["cross_province", "cross_city", "cross_county", "in_county"]

# Widest first: the order of columns in every table and export that splits by distance.
CLASSES: tuple[DistanceClass, ...] = get_args(DistanceClass)
LABELS: dict[DistanceClass, str] = {
    "cross_province": "跨省",
    "cross_city": "省内跨市",
    "cross_county": "市内跨县",
    "in_county": "县内",
}


def distance_class(origin: str, destination: str) -> DistanceClass:
    """How far a placement takes a worker from ``origin`` (where they are sent from) to ``destination``."""
    if origin[:2] != destination[:2]:
        return "cross_province"
    city = regions.city_of(origin)
    if city is None or city != regions.city_of(destination):
        return "cross_city"
    if regions.region_level(origin) == "county" and origin == destination:
        return "in_county"
    if regions.region_level(origin) == "county" and regions.region_level(destination) == "county":
        return "cross_county"
    # a city-level or municipality-level code on either side: inside one city, but which county is not said
    return "cross_county"
