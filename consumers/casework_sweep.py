"""The sweeper's share of issue 20: what happens because time passes, in event time.

* **Escalation** (升级): a case of a kind whose rule escalates (``data/casework_rules.json``) that was not
  acknowledged by its deadline goes to the bureau one level up, *at the deadline* (``alert.escalated`` carries that
  time), however late the sweeper notices.
* **Falling counties** (务工监测预警): once a month is over, each county's priority-group people in work are compared
  with the month before, from the ledger's facts; a fall beyond the county's rule (``data/monitoring_rules.json``)
  raises an ``employment_drop`` alert for the county's bureau. If late-synced events lift the figure again, the alert
  closes itself at the moment it is swept (the missing events arrived) and says so in its history.

Safe in every replica: candidate rows are locked with SKIP LOCKED, ids are deterministic, writes are conditional.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from laowu.domain import casework as cw
from laowu.domain import ids
from laowu.domain import monitoring as mon
from laowu.domain.alerts import day_start
from laowu.domain.ids import uuid5_str
from laowu.ledger import derived
from laowu.ledger.rules import NAME_OF
from laowu.settings import Settings
from laowu.store import cases as case_store
from laowu.store import dispatch as dstore
from laowu.store import monitoring as mstore
from laowu.store import outbox as outbox_store
from schemas import events as ev
from schemas.topics import ALERTS

SOURCE = "laowu.sweeper"
ESCALATED = NAME_OF[ev.AlertEscalated]
LOOKBACK_DAYS = 120  # cases older than this have long escalated or been settled
DROP_MONTHS = 3  # completed months judged again on every sweep (late syncs may change them)
DROP_EVERY_S = 3600.0
"""The county check reads every priority-group person's facts: hourly is plenty for a monthly figure (the sweeper
itself runs every ``LAOWU_SWEEP_EVERY_S``, 30 s by default)."""
_last_drop_check: dict[str, float] = {}

log = logging.getLogger(__name__)


def sweep_time(today: date) -> datetime:
    """The instant a sweep "as of ``today``" stands for: now, or the end of a past day a test or a replay chose."""
    now = datetime.now(UTC)
    end = day_start(today + timedelta(days=1))
    return end if end < now else now


async def sweep(pool: asyncpg.Pool, settings: Settings, today: date, every_time: bool = True) -> tuple[int, int]:
    """(cases escalated, county alerts raised) on ``today``; ``every_time=False`` (the periodic sweep) checks the
    counties at most every :data:`DROP_EVERY_S` in this process."""
    now = sweep_time(today)
    where = settings.database_url or ""
    due = every_time or time.monotonic() - _last_drop_check.get(where, -DROP_EVERY_S) >= DROP_EVERY_S
    async with pool.acquire() as conn, conn.transaction():
        escalated = await _escalate(conn, settings, now)
        raised = await _falling_counties(conn, settings, today, now) if due else 0
    if due:
        _last_drop_check[where] = time.monotonic()
    if escalated or raised:
        log.info("sweeper escalated %d cases, raised %d county monitoring alerts", escalated, raised)
    return escalated, raised


async def _escalate(conn: asyncpg.Connection, settings: Settings, now: datetime) -> int:
    rules = cw._rules()
    kinds = sorted({k for level in [rules["default"], *rules.get("regions", {}).values()]
                    for k, r in level.items() if r.get("escalate")})
    candidates = await case_store.escalation_candidates(conn, kinds, now - timedelta(days=LOOKBACK_DAYS))
    due = {c.alert_id: (c, e) for c in candidates if (e := cw.escalation(c, now)) is not None}
    done = set(await case_store.escalate(conn, [(aid, e[0], e[1]) for aid, (_, e) in due.items()]))
    stamp = datetime.now(UTC).isoformat()
    out = []
    for aid in sorted(done):
        case, (target, at) = due[aid]
        worker = await conn.fetchval("SELECT worker_id FROM alerts WHERE alert_id = $1", aid)
        body = ev.AlertEscalated(alert_id=aid, kind=case.kind, worker_id=worker, regions=case.regions,
                                 escalated_to=target, rule_version=cw.deadlines(case).version)
        env = derived.envelope(ESCALATED, body, worker, at, uuid5_str(ids.DERIVED, "escalated:" + aid), stamp, SOURCE)
        out.append((settings.topic(ALERTS.name), worker, env))
    await outbox_store.enqueue(conn, out)
    return len(done)


async def _falling_counties(conn: asyncpg.Connection, settings: Settings, today: date, now: datetime) -> int:
    this_month = mon.month_of(today)
    judged = [mon.shift(this_month, -i) for i in range(DROP_MONTHS, 0, -1)]
    people, spells, followups = await mstore.ledger_facts(conn)
    cells = mon.table(mon.all_records(people, spells, followups, judged[-1]))
    rows: list[dict[str, Any]] = []
    falls: set[str] = set()
    for county in sorted(mon.counties(cells)):
        rule = mon.drop_rule(county)
        for month in judged:
            change = mon.falling(cells, county, month, rule)
            if change is None:
                continue
            aid = mon.drop_alert_id(county, month)
            falls.add(aid)
            d = change.as_dict()
            rows.append({"alert_id": aid, "kind": "employment_drop", "worker_id": f"region:{county}",
                         "placement_id": None, "regions": [county], "due_at": None,
                         "raised_at": day_start(mon.month_bounds(month)[1] + timedelta(days=1)),
                         "detail": f"{month} 重点群体在岗 {change.now} 人，较上月 {change.previous} 人下降 "
                                   f"{-d['vs_previous_pct']}%（阈值 {rule.threshold_pct}%）",
                         "closed_at": None})
    raised = set(await dstore.raise_alerts(conn, rows))
    stamp = datetime.now(UTC).isoformat()
    out = [derived.alert_raised(r, stamp, SOURCE) for r in rows if r["alert_id"] in raised]
    # A drop that late-synced events have lifted closes itself: the missing events arrived.
    lifted = await conn.fetch(
        "UPDATE alerts SET closed_at = $3 WHERE kind = 'employment_drop' AND closed_at IS NULL "
        "AND split_part(alert_id, ':', 3) = ANY($1::text[]) AND NOT alert_id = ANY($2::text[]) "
        "RETURNING alert_id, kind, worker_id, placement_id, regions", judged, sorted(falls), now)
    out += [derived.alert_closed(dict(r), now, stamp, SOURCE) for r in lifted]
    await outbox_store.enqueue(conn, [(settings.topic(t), k, env) for t, k, env in out])
    return len(raised)
