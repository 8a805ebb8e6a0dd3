"""A backup that restores (issue 23): dump the database, go on working, lose the data directory (``kill -9`` and
``rm -rf``), restore the dump into a new cluster, start the ledger — it re-applies from Kafka what was accepted after
the dump — and every answer is the same as before the loss."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from laowu.backup import BackupError, backup, restore
from laowu.intake import Intake
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.stack.launcher import provision, start_infra
from schemas.api import BrandCreate, WorkerCreate, WorkerPatch
from schemas.envelope import Envelope

from conftest import METRICS_TOKEN, Infra, running_ledger, serving
from helpers import bearer, person, produce, wait_decided

pytestmark = pytest.mark.services

# What a clerk and a bureau read back. What records the processing itself differs by nature after a re-application and
# is left out: when the ledger applied something, and ``seq``, the history's global position (a cursor), which follows
# the order the partitions happened to interleave in — the order of one worker's own entries is kept and compared.
PROCESSING_TIMES = {"applied_at", "decided_at", "updated_at", "recorded_at", "seq"}


def _without_processing_times(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_processing_times(v) for k, v in value.items() if k not in PROCESSING_TIMES}
    if isinstance(value, list):
        return [_without_processing_times(v) for v in value]
    return value


async def answers(settings: Settings, workers: list[str], events: list[Envelope]) -> dict[str, Any]:
    async with serving(settings) as url, httpx.AsyncClient(
            base_url=url, timeout=30, headers=bearer("admin", "laowu-ops", settings=settings)) as client:
        out: dict[str, Any] = {}
        for wid in workers:
            out[f"worker {wid}"] = (await client.get(f"/v1/workers/{wid}")).json()
            out[f"history {wid}"] = (await client.get(f"/v1/workers/{wid}/history")).json()
        for e in events:
            out[f"receipt {e.event_id}"] = (await client.get(f"/v1/events/{e.event_id}")).json()
        out["brand"] = (await client.get("/v1/brands/bk-b")).json()
        return _without_processing_times(out)


async def test_restore_after_losing_the_data_directory_answers_the_same(infra: Infra, tmp_path: Path) -> None:
    own = await start_infra(tmp_path / "stack", Settings(kafka_bootstrap=infra.bootstrap), migrate=True,
                            die_with_parent=True)
    try:
        settings = Settings(env="test", database_url=own.dsn, kafka_bootstrap=infra.bootstrap,
                            topic_prefix=f"bk{tmp_path.name[-8:]}.", consumer_poll_ms=50, metrics_token=METRICS_TOKEN)
        await provision(settings, infra.bootstrap, None, migrate=False, topics=True)
        intake = Intake(Privacy(settings))
        at = datetime(2026, 7, 1, tzinfo=UTC)
        before = [intake.register_brand(BrandCreate(brand_id="bk-b", name="椰嫂", region_code="460000",
                                                    category="service", level="provincial"))]
        before += [intake.register_worker(WorkerCreate.model_validate(
            person(n) | {"brand_ids": ["bk-b"], "occurred_at": at + timedelta(minutes=n)})) for n in range(8)]
        workers = [e.key for e in before[1:]]
        dump = tmp_path / "laowu.dump"
        async with running_ledger(settings):
            await produce(settings, before)
            pool = await asyncpg.create_pool(own.dsn, min_size=1, max_size=2)
            await wait_decided(pool, [str(e.event_id) for e in before])
            backup(own.dsn, dump)
            # accepted after the dump: only Kafka will have these once the disk is gone
            after = [intake.register_worker(WorkerCreate.model_validate(
                person(n) | {"occurred_at": at + timedelta(minutes=n)})) for n in range(8, 14)]
            after += [intake.update_worker(wid, WorkerPatch(name=f"改名{i}", occurred_at=at + timedelta(days=1)))
                      for i, wid in enumerate(workers[:4])]
            await produce(settings, after)
            await wait_decided(pool, [str(e.event_id) for e in after])
            await pool.close()
        workers += [e.key for e in after[:6]]
        expected = await answers(settings, workers, before + after)
        assert expected[f"worker {workers[0]}"]["name"] == "改名0"

        # The disk is lost: the server killed, its data directory gone; a new cluster, the dump restored.
        assert own.postgres is not None
        own.kill("postgres")
        shutil.rmtree(own.postgres.data_dir)
        await own.start("postgres")
        with pytest.raises(BackupError, match="no such file"):
            await restore(own.dsn, tmp_path / "missing.dump")
        await restore(own.dsn, dump)
        with pytest.raises(BackupError, match="not empty"):  # a second restore would mix two states
            await restore(own.dsn, dump)

        conn = await asyncpg.connect(own.dsn)
        # the dump's state: the six registrations after it are not in it — Kafka has them
        assert await conn.fetchval("SELECT count(*) FROM workers") == 8
        await conn.close()
        async with running_ledger(settings):
            pool = await asyncpg.create_pool(own.dsn, min_size=1, max_size=2)
            await wait_decided(pool, [str(e.event_id) for e in before + after])
            assert await pool.fetchval("SELECT count(*) FROM workers") == 14
            await pool.close()
        assert await answers(settings, workers, before + after) == expected
    finally:
        await own.astop()
