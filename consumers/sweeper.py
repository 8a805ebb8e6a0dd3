"""Deadline sweeper: raises overdue alerts and retention subsidies as days pass.

Deadlines are dates in event time (departure + 7, start + 30, start + 90); the sweeper only notices that
today is past them. Safe in every replica: rows are locked with SKIP LOCKED and ids are deterministic.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, date, datetime

import asyncpg

from consumers import casework_sweep
from laowu import metrics
from laowu.domain import alerts as alert_rules
from laowu.domain import subsidies as subsidy_rules
from laowu.ledger import derived, rows
from laowu.settings import Settings
from laowu.store import dispatch as dstore
from laowu.store import outbox as outbox_store

SOURCE = "laowu.sweeper"

log = logging.getLogger(__name__)


def today_in_china() -> date:
    return datetime.now(alert_rules.CHINA).date()


async def sweep_once(pool: asyncpg.Pool, settings: Settings, today: date | None = None) -> tuple[int, int]:
    chosen, today = today is not None, today or today_in_china()
    await casework_sweep.sweep(pool, settings, today, every_time=chosen)  # escalations, falling counties (issue 20)
    async with pool.acquire() as conn, conn.transaction():
        candidates = await dstore.sweep_candidates(conn, today, alert_rules.UNCONFIRMED_DAYS, alert_rules.FOLLOWUP_DAYS,
                                                   min_retention_days=subsidy_rules.min_retained_days())
        if not candidates:
            return 0, 0
        homes = await dstore.households(conn, [p.worker_id for p in candidates])
        alert_rows, accrual_rows = [], []
        for p in candidates:
            regions = list(dict.fromkeys([homes.get(p.worker_id, p.origin_region), p.origin_region]))
            alert_rows += [rows.alert_row(a, regions) for a in alert_rules.overdue(p, today)]
            # the organizer's service subsidy and the worker's migrant bonus fall due together (the same retention)
            accrual_rows += [rows.subsidy_row(a, p, regions) for a in subsidy_rules.on_retention(p, today)]
        raised = set(await dstore.raise_alerts(conn, alert_rows))
        accrued = set(await dstore.accrue(conn, accrual_rows))
        # The same derived events as the ledger's (deterministic ids): raised by either, they are one downstream.
        now = datetime.now(UTC).isoformat()
        outbox = [derived.alert_raised(row, now, SOURCE) for row in alert_rows if row["alert_id"] in raised]
        outbox += [derived.subsidy_accrued(row, now, SOURCE) for row in accrual_rows if row["subsidy_id"] in accrued]
        await outbox_store.enqueue(conn, [(settings.topic(t), k, env) for t, k, env in outbox])
    metrics.SWEEP_RAISED.labels("alert").inc(len(raised))
    metrics.SWEEP_RAISED.labels("subsidy").inc(len(accrued))
    if raised or accrued:
        log.info("sweeper raised %d alerts, accrued %d subsidies", len(raised), len(accrued))
    return len(raised), len(accrued)


async def run_sweeper(pool: asyncpg.Pool, settings: Settings, stop: asyncio.Event, every_s: float) -> None:
    while not stop.is_set():
        try:
            await sweep_once(pool, settings)
        except Exception as exc:
            metrics.SWEEPS.labels("failed").inc()
            log.warning("sweep failed, retrying: %s: %s", type(exc).__name__, exc)
        else:
            metrics.SWEEPS.labels("ok").inc()
            metrics.SWEEP_LAST_OK.set(time.time())
        try:
            await asyncio.wait_for(stop.wait(), timeout=every_s)
        except TimeoutError:
            pass
