"""Jurisdiction as SQL: what a caller may see (API.md "Jurisdiction").

A region code covers itself and the codes under it. A worker belongs to their household region and to the
origin region of each of their dispatches, and (masked, as every view but the reveal) to the destination region of
each active placement, the receiving bureau (输入地) and the workstations posted there (驻外工作站,
``workstation_postings``, migration 0027: the receiving view of the posted region, beside the workstation's own
region); a workstation also sees every worker it registered; an employer sees only workers with a placement naming
it; an admin is unbounded.

Jurisdiction proper, which the reveal and the whole history need, is the household region and the dispatch
origins: seeing a worker as their receiving region or as a workstation that registered them is not it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from laowu.domain import regions
from laowu.domain.lifecycle import ACTIVE_PLACEMENT
from laowu.store.sqltext import in_list

Reach = Literal["view", "act", "jurisdiction"]
"""What a worker clause is for: ``view`` every masked read; ``act`` writes about the worker (not the receiving
region, which only watches, as an employer does); ``jurisdiction`` the reveal and the whole history (household
region and dispatch origins only)."""


class Viewer(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def org(self) -> str: ...
    @property
    def region(self) -> str | None: ...


@dataclass(frozen=True)
class _System:
    role: str = "system"
    org: str = "laowu"
    region: str | None = None


SYSTEM: Viewer = _System()
"""An internal caller that reads every record on purpose (the ledger's own reads, stream workers, the CLI, a
reference recount). It is named, never implied: a caller with no viewer (``None``) is shown nothing, so a door
that forgot to pass its actor leaks nothing."""


def unbounded(viewer: Viewer) -> bool:
    """Whether ``viewer`` sees every record: an administrator, or the system itself."""
    return viewer.role in ("admin", "system")


region_prefix = regions.prefix  # GB/T 2260 containment as a string prefix (laowu.domain.regions, its one home)


def region_between(column: str, code: str, args: list[Any]) -> str:
    """``column`` under ``code``, as a prefix range in text_pattern_ops' operators; appends two parameters.

    Not ``LIKE $n``: once a connection's cached plan turns generic (after five runs of the statement), LIKE with a
    parameter can no longer use an index, and a county's query read every row a province's would.
    """
    prefix = region_prefix(code)
    args += [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]
    return f"({column} ~>=~ ${len(args) - 1} AND {column} ~<~ ${len(args)})"


def covers(viewer: Viewer, code: str) -> bool:
    if unbounded(viewer):
        return True
    return viewer.region is not None and code.startswith(regions.prefix(viewer.region))


ACTIVE = in_list(ACTIVE_PLACEMENT)  # placements whose destination region receives the worker


def worker_clause(viewer: Viewer | None, args: list[Any], alias: str = "w", *, reach: Reach = "view") -> str:
    """A predicate over ``workers {alias}`` for ``reach`` (see :data:`Reach`); appends its parameters to ``args``.
    No viewer sees nothing."""
    if viewer is None:
        return "FALSE"
    if unbounded(viewer):
        return "TRUE"
    if viewer.role == "employer":
        args.append(viewer.org)
        return (f"EXISTS (SELECT 1 FROM placements sp WHERE sp.worker_id = {alias}.worker_id "
                f"AND sp.employer_id = ${len(args)})")
    region = viewer.region or "999999"
    placed = region_between("sp.origin_region", region, args)
    if reach == "view":  # one probe of the worker's placements for both reasons
        placed = f"({placed} OR (sp.status IN {ACTIVE} AND {region_between('sp.destination_region', region, args)}))"
    clause = (f"({region_between(f'{alias}.household_region', region, args)} OR EXISTS (SELECT 1 FROM placements sp "
              f"WHERE sp.worker_id = {alias}.worker_id AND {placed})")
    if viewer.role == "workstation" and reach != "jurisdiction":
        args.append(viewer.org)
        clause += f" OR {alias}.workstation_ids @> ARRAY[${len(args)}::text]"
        if reach == "view":
            clause += f" OR {posted_clause(args, alias)}"
    return clause + ")"


def posted_clause(args: list[Any], alias: str = "w") -> str:
    """A posted workstation (驻外工作站) sees, as the receiving region does, the workers whose active placement lies in
    the region it is posted to; ``args[-1]`` is the workstation's organization (issue 19)."""
    org = f"${len(args)}"
    return (f"EXISTS (SELECT 1 FROM workstation_postings wp JOIN placements pp ON pp.destination_region LIKE "
            f"wp.posted_prefix || '%' WHERE wp.workstation_id = {org} AND pp.worker_id = {alias}.worker_id "
            f"AND pp.status IN {ACTIVE})")


def worker_sources(viewer: Viewer, args: list[Any], cap: int, after: str | None) -> str:
    """The ids of the workers a regional viewer sees after ``after``, from one index per reason (household region,
    dispatch origin, receiving region, registering workstation), each reason cut at ``cap`` rows: ``worker_id``
    rows, with repeats (UNION ALL, so that fewer than ``cap`` rows in all proves that no reason was cut)."""
    region = viewer.region or "999999"
    args += [cap, after or ""]
    tail = f"AND worker_id > ${len(args)} LIMIT ${len(args) - 1}"
    parts = [f"(SELECT worker_id FROM workers WHERE {region_between('household_region', region, args)} {tail})",
             f"(SELECT worker_id FROM placements WHERE {region_between('origin_region', region, args)} {tail})",
             f"(SELECT worker_id FROM placements WHERE status IN {ACTIVE} "
             f"AND {region_between('destination_region', region, args)} {tail})"]
    if viewer.role == "workstation":
        args.append(viewer.org)
        parts.append(f"(SELECT worker_id FROM workers WHERE workstation_ids @> ARRAY[${len(args)}::text] {tail})")
        parts.append(f"(SELECT pp.worker_id FROM workstation_postings wp JOIN placements pp ON pp.destination_region "
                     f"LIKE wp.posted_prefix || '%' WHERE wp.workstation_id = ${len(args)} AND pp.status IN {ACTIVE} "
                     f"{tail})")  # workstation_postings has no worker_id: the tail's is the placement's
    return " UNION ALL ".join(parts)


def placement_clause(viewer: Viewer | None, args: list[Any], alias: str = "p") -> str:
    """Placements and dispatches: the employer named, the organizer, or a region covering the origin. No viewer
    sees nothing."""
    if viewer is None:
        return "FALSE"
    if unbounded(viewer):
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


def region_codes(viewer: Viewer | None, region: str | None) -> list[str] | None:
    """The codes an alert or subsidy must lie under to be listed: the ``region=`` filter's, then the viewer's.

    Alerts and subsidies carry the worker's regions (household, dispatch origins); "under" is the statistics'
    rollup (a row of 460106 is under 460106, 460100 and 460000), which is ``region_prefix`` containment. An
    employer is shown none (None), as before the cover tables: API.md gives employers workers, not these lists;
    nor is a caller with no viewer.
    """
    if viewer is None or viewer.role == "employer":
        return None
    codes = [region] if region else []
    if not unbounded(viewer):
        codes.append(viewer.region or "999999")
    return list(dict.fromkeys(codes))
