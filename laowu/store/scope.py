"""Jurisdiction as SQL: what a caller may see (API.md "Jurisdiction").

A region code covers itself and the codes under it. A worker belongs to their household region and to the
origin region of each of their dispatches; a workstation also sees every worker it registered; an employer
sees only workers with a placement naming it; an admin is unbounded.
"""

from __future__ import annotations

from typing import Any, Protocol


class Viewer(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def org(self) -> str: ...
    @property
    def region(self) -> str | None: ...


def region_prefix(code: str) -> str:
    """GB/T 2260 containment as a string prefix: 460000 → 46, 460100 → 4601, a county → itself."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def covers(viewer: Viewer, code: str) -> bool:
    if viewer.role == "admin":
        return True
    return viewer.region is not None and code.startswith(region_prefix(viewer.region))


def worker_clause(viewer: Viewer | None, args: list[Any], alias: str = "w") -> str:
    """A predicate over ``workers {alias}``; appends its parameters to ``args``."""
    if viewer is None or viewer.role == "admin":
        return "TRUE"
    if viewer.role == "employer":
        args.append(viewer.org)
        return (f"EXISTS (SELECT 1 FROM placements sp WHERE sp.worker_id = {alias}.worker_id "
                f"AND sp.employer_id = ${len(args)})")
    args.append(region_prefix(viewer.region or "999999") + "%")
    n = len(args)
    clause = (f"({alias}.household_region LIKE ${n} OR EXISTS (SELECT 1 FROM placements sp "
              f"WHERE sp.worker_id = {alias}.worker_id AND sp.origin_region LIKE ${n})")
    if viewer.role == "workstation":
        args.append(viewer.org)
        clause += f" OR ${len(args)} = ANY({alias}.workstation_ids)"
    return clause + ")"


def placement_clause(viewer: Viewer | None, args: list[Any], alias: str = "p") -> str:
    """Placements and dispatches: the employer named, the organizer, or a region covering the origin."""
    if viewer is None or viewer.role == "admin":
        return "TRUE"
    if viewer.role == "employer":
        args.append(viewer.org)
        return f"{alias}.employer_id = ${len(args)}"
    args.append(region_prefix(viewer.region or "999999") + "%")
    clause = f"({alias}.origin_region LIKE ${len(args)}"
    if viewer.role == "workstation":
        args.append(viewer.org)
        clause += f" OR {alias}.organizer_id = ${len(args)}"
    return clause + ")"


def regions_clause(viewer: Viewer | None, args: list[Any]) -> str:
    """Alerts and subsidies carry the worker's regions (household, dispatch origins)."""
    if viewer is None or viewer.role == "admin":
        return "TRUE"
    args.append(region_prefix(viewer.region or "999999") + "%")
    return f"EXISTS (SELECT 1 FROM unnest(regions) vr WHERE vr LIKE ${len(args)})"
