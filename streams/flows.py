"""The flow sink (劳务流向, issue 19): ledger changes of placements → ``flow_figures``, exactly once.

The statistics worker's ``ledger-changes`` agent (``streams.app``) decodes each chunk once and hands it to the
statistics sink, then to this one, with the same guarantees: one PostgreSQL transaction per chunk that records the
event ids of the chunk's placement changes in ``flow_applied_events`` (a redelivered chunk adds nothing), adds the
pure deltas of :func:`laowu.domain.flows.change` and records the chunk's offsets under consumer group ``flows``; a
chunk that cannot be applied ends the process before faust commits it. Changes of other entities add nothing to a
flow, so their ids are not kept (a registration used to cost a ``flow_applied_events`` row). ``laowu stats
recount`` compares the cells with a recount from the placements table at a consistent cut (:func:`check`) and
corrects drift with ``--fix``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import asyncpg
import faust

from laowu.domain import flows
from laowu.domain.flows import FlowCell
from laowu.settings import Settings
from laowu.store import flows as store
from laowu.store import outbox
from laowu.store.errors import TRANSIENT_DB
from laowu.store.pool import create_pool
from streams.changes import Change, ChangeView
from streams.sink import Message, read_changes

log = logging.getLogger(__name__)
PLACEMENT_ENTITIES = ("placement", "followup")


def delta(changes: Sequence[ChangeView]) -> dict[FlowCell, Decimal]:
    """What a chunk's (new) ledger changes do to the flow cells."""
    out: dict[FlowCell, Decimal] = {}
    for body in changes:
        if body.entity in PLACEMENT_ENTITIES:
            for cell, value in flows.change(body.before, body.after).items():
                out[cell] = out.get(cell, Decimal(0)) + value
    return {c: v for c, v in out.items() if v != 0}


class FlowSink:
    def __init__(self, settings: Settings, pool: asyncpg.Pool | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self._owns_pool = pool is None

    async def start(self) -> None:
        if self.pool is None:
            assert self.settings.database_url, "DATABASE_URL must be set"
            self.pool = await create_pool(self.settings.database_url, min_size=1, max_size=2, writer=True)

    async def stop(self) -> None:
        if self.pool is not None and self._owns_pool:
            await self.pool.close()
            self.pool = None

    async def apply(self, msgs: Sequence[Message]) -> int:
        return await self.apply_changes(*read_changes(msgs))

    async def apply_changes(self, changes: Sequence[Change], offsets: dict[tuple[str, int], int]) -> int:
        """Apply a chunk; transient database failures are retried for ever (the chunk must not be acked unapplied)."""
        await self.start()
        envs = [c for c in changes if c.body.entity in PLACEMENT_ENTITIES]
        wait = 0.2
        while True:
            try:
                return await self._apply(envs, offsets)
            except TRANSIENT_DB as exc:
                log.warning("flow sink: transient failure, retrying in %.1fs: %s", wait, type(exc).__name__)
                await asyncio.sleep(wait * (0.5 + random.random()))
                wait = min(wait * 2, 10.0)

    async def _apply(self, envs: Sequence[Change], offsets: dict[tuple[str, int], int]) -> int:
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            new = await store.mark_applied(conn, [e.event_id for e in envs])
            fresh = []
            for e in envs:
                if e.event_id in new:
                    new.discard(e.event_id)  # a repeat inside the chunk counts once
                    fresh.append(e.body)
            await store.add(conn, delta(fresh))
            await store.record_offsets(conn, offsets)
        return len(fresh)


def register(app: faust.App, settings: Settings) -> FlowSink:
    """The flow sink for the statistics worker's ledger-changes agent, and its housekeeping timer."""
    sink = FlowSink(settings)

    async def prune() -> None:
        try:
            await sink.start()
            assert sink.pool is not None
            await store.prune(sink.pool)
        except Exception as exc:  # housekeeping: try again next time
            log.warning("flow prune failed: %s", exc)

    app.timer(3600.0)(prune)
    return sink


# ---- laowu stats recount ----------------------------------------------------------------------------------------
async def check(conn: asyncpg.Connection, ends: dict[int, int] | None, topic: str, fix: bool) -> dict[str, Any]:
    """Compare the flow cells with a recount from the placements, inside the recount's transaction (after
    :func:`laowu.store.flows.lock`, before its snapshot); ``ends``: the topic's end offsets (None: Kafka unreachable).
    Corrected (``fix``) only at a consistent cut: nothing in the outbox, the agent's offsets at the ends."""
    pending = await outbox.pending(conn, "ledger.changed")
    lag: int | None = None
    if ends is not None:
        applied = await store.applied_offsets(conn, topic)
        lag = sum(max(0, end - applied.get(p, 0)) for p, end in ends.items())
    consistent = pending == 0 and lag == 0
    expected, actual = await store.recount(conn), await store.stored(conn)
    drift = sorted(c for c in expected.keys() | actual.keys() if expected.get(c, Decimal(0)) != actual.get(c, Decimal(0)))
    corrected = False
    if fix and consistent and drift:
        await store.correct(conn, expected, drift)
        corrected = True
    return {"consistent_cut": consistent, "kafka_lag": lag, "cells": len(expected.keys() | actual.keys()),
            "drift_count": len(drift), "corrected": corrected,
            "drift": [dict(zip(("origin_region", "destination_region", "month", "brand_id", "distance_class",
                                "metric"), c, strict=True)) | {"stored": str(actual.get(c, 0)),
                                                               "recount": str(expected.get(c, 0))} for c in drift]}
