"""Reads of casework (跟踪帮扶, issue 20): work-lists (mine overdue first, my team's, my region's, escalated to me),
the case page with its history, and the figures per region (open, overdue, 办结率, median time to close)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from laowu.domain import casework as cw
from laowu.domain.regions import children, region_level, region_name
from laowu.store import cases as store
from laowu.store.scope import Viewer

KIND_LABELS = {"unconfirmed_placement": "派遣未确认", "followup_overdue": "跟踪服务逾期", "wage_arrears": "欠薪",
               "injury": "工伤", "early_separation": "早期离职", "employment_drop": "务工人数下降"}
STATE_LABELS = {"open": "待分派", "assigned": "已分派", "acknowledged": "已签收", "in_progress": "办理中",
                "closed": "已办结"}
TYPE_LABELS = {"raised": "预警产生", cw.SELF_CLOSED: "自动关闭", "escalated": "逾期升级"}


def username(viewer: Viewer) -> str | None:
    subject = getattr(viewer, "subject", None) or ""
    return subject.split(":", 1)[1] if subject.startswith("account:") else None


def view(case: cw.Case, now: datetime, row: dict[str, Any] | None = None) -> dict[str, Any]:
    d = cw.deadlines(case)
    closure = cw.effective_closure(case)
    out = {k: getattr(case, k) for k in ("alert_id", "kind", "regions", "raised_at", "assignee", "team",
                                         "acknowledged_at", "escalated_to", "escalated_at", "reopened_at")}
    state = "closed" if closure else ("in_progress" if case.state == "closed" else case.state)
    out |= {"kind_label": KIND_LABELS.get(case.kind, case.kind), "state": state, "state_label": STATE_LABELS[state],
            "region_name": region_name(case.home) if case.home else None,
            "closed_at": closure[0] if closure else None, "outcome": closure[1] if closure else None,
            "outcome_label": (cw.OUTCOMES.get(closure[1]) or "自动关闭") if closure else None,
            "acknowledge_by": d.acknowledge_by(case), "close_by": d.close_by(case),
            "overdue": cw.overdue(case, now), "rule_version": d.version,
            "escalated_to_name": region_name(case.escalated_to) if case.escalated_to else None}
    if row is not None:
        out |= {"worker_id": row["worker_id"], "placement_id": row["placement_id"], "detail": row["detail"]}
    return out


def ordered(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overdue first, then the nearest deadline."""
    return sorted(items, key=lambda c: (not c["overdue"], c["closed_at"] is not None, c["close_by"], c["alert_id"]))


async def work_list(pool: asyncpg.Pool, viewer: Viewer, which: str, now: datetime, region: str | None = None,
                    open_only: bool = True) -> list[dict[str, Any]]:
    if which == "mine":
        me = username(viewer)
        if me is None:  # a token of an API key or `laowu token`: nobody, so nothing is assigned to it
            return []
        found = await store.cases(pool, viewer, assignee=me, open_only=open_only)
    elif which == "team":
        found = await store.cases(pool, viewer, team=viewer.org, open_only=open_only)  # type: ignore[attr-defined]
    elif which == "escalated":
        found = await store.cases(pool, viewer, escalated_to=viewer.region, open_only=open_only)
    else:
        found = await store.cases(pool, viewer, region=region, open_only=open_only)
    return ordered([view(c, now) for c in found])


async def case_page(pool: asyncpg.Pool, viewer: Viewer, alert_id: str, now: datetime) -> dict[str, Any] | None:
    got = await store.case_rows(pool, viewer, alert_id)
    if got is None:
        return None
    row, steps = got
    case = store.case_of(row)
    history = [dict(h) | {"event_id": None, "changes": {}, "label": TYPE_LABELS[h["type"]]} for h in cw.history_of(case)]
    history += [dict(s) | {"event_id": str(s["event_id"]), "label": None} for s in steps]
    history.sort(key=lambda h: h["occurred_at"])
    return view(case, now, row) | {"history": history}


async def figures(pool: asyncpg.Pool, viewer: Viewer, region: str | None, kind: str | None, now: datetime
                  ) -> dict[str, Any]:
    """The region's figures and its sub-regions', over the cases the viewer sees (by the case's home region)."""
    found = await store.cases(pool, viewer, region=region, kind=kind, limit=100_000)
    codes = children(region) if region and region_level(region) != "county" else []

    def under(code: str) -> list[cw.Case]:
        return [c for c in found if c.home.startswith(code[:2] if code.endswith("0000") else
                                                      code[:4] if code.endswith("00") else code)]

    def fig(code: str | None, cases: list[cw.Case]) -> dict[str, Any]:
        return {"region": code, "region_name": region_name(code) if code else "全部"} | cw.figures(cases, now).as_dict()

    rows = [fig(c, under(c)) for c in codes]
    return {"region": region, "kind": kind, "as_of": now, "total": fig(region, found),
            "rows": [r for r in rows if r["open"] or r["closed"]]}
