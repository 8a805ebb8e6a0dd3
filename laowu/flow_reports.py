"""Flows (劳务流向) and agreement progress for a caller (issue 19): the one service behind ``GET /v1/flows``,
``GET /v1/agreements`` and the statistics export's flow sheet. Jurisdiction as ``laowu.reports``: a caller asks
about its own region (the default) or one under it; a region outside raises ``reports.OutOfSight`` (404)."""

from __future__ import annotations

from typing import Any

from laowu import reports
from laowu.domain import flows as flow_rules
from laowu.domain.distance import LABELS
from laowu.domain.regions import region_name
from laowu.domain.statistics import ratio
from laowu.store import agreements as agreement_store
from laowu.store import flows as flow_store
from laowu.store.scope import Viewer


async def flows_of(conn: Any, actor: Viewer | None, region: str | None, *, level: flow_rules.Level = "city",
                   side: str = "both", first: str | None = None, last: str | None = None,
                   brand_id: str | None = None, by_month: bool = False, by_brand: bool = False,
                   origin: str | None = None, destination: str | None = None) -> dict[str, Any]:
    """Flows with an end (``side``: origin, destination or both) in ``region``, summed at ``level``; ``origin`` and
    ``destination`` narrow the ends (any region: the caller's flows into Shenzhen's districts)."""
    region = reports.jurisdiction(actor, region)
    cells = await flow_store.cells(conn, region=region, side=side, first=first, last=last, brand_id=brand_id,
                                   origin=origin, destination=destination)
    items = flow_rules.aggregate(cells, level, by_month=by_month, by_brand=by_brand)
    for i in items:
        i["origin_region_name"] = region_name(i["origin_region"])
        i["destination_region_name"] = region_name(i["destination_region"])
        i["distance_label"] = LABELS[i["distance_class"]]
    return {"level": level, "region": region, "items": items, "totals": flow_rules.totals(items)}


async def flows(conn: Any, actor: Viewer | None, region: str | None, **options: Any) -> list[dict[str, Any]]:
    """The items of :func:`flows_of` (the export's sheet)."""
    return list((await flows_of(conn, actor, region, **options))["items"])


def agreement_public(row: dict[str, Any], progress: dict[str, int]) -> dict[str, Any]:
    return row | {"brand_ids": list(row["brand_ids"]), "origin_region_name": region_name(row["origin_region"]),
                  "destination_region_name": region_name(row["destination_region"]),
                  "progress": progress | {"target_headcount": row["target_headcount"],
                                          "share": ratio(progress["dispatched"], row["target_headcount"])}}


async def agreements(conn: Any, actor: Viewer, *, region: str | None, status: str | None, after: str | None,
                     limit: int) -> list[dict[str, Any]]:
    rows = await agreement_store.page(conn, actor, region=region, status=status, after=after, limit=limit)
    progress = await agreement_store.progress(conn, [r["agreement_id"] for r in rows])
    return [agreement_public(r, progress[r["agreement_id"]]) for r in rows]


async def agreement(conn: Any, actor: Viewer, agreement_id: str) -> dict[str, Any]:
    row = await agreement_store.one(conn, agreement_id, actor)
    return agreement_public(row, (await agreement_store.progress(conn, [agreement_id]))[agreement_id])
