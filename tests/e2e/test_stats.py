"""Live statistics end to end: HTTP in → ledger → ledger-changes topic → faust worker → figures, equal to a recount.

The faust worker runs as a child process (``laowu streams worker``) so it can be killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import io
import json
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]
from openpyxl import load_workbook

from laowu.domain import statistics as st
from laowu.settings import Settings
from laowu.stack.processes import child_env, laowu_argv
from laowu.store import stats as stats_store
from schemas.topics import LEDGER_CHANGES

from conftest import spawn_ours
from helpers import bearer
from workload import D0, Workload, converge, stop, streams_worker

pytestmark = pytest.mark.services


async def region_count(pool: asyncpg.Pool, prefix: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM workers WHERE household_region LIKE $1", prefix + "%"))


async def test_figures_equal_a_recount_after_a_mixed_workload(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings, tmp_path: Path
) -> None:
    started = time.monotonic()
    with streams_worker(settings, tmp_path / "streams.log") as worker:
        load = Workload(api, pool)
        await load.run()
        report = await converge(settings, worker=worker)
        print(f"workload: {load.events} events, converged {time.monotonic() - started:.1f}s after start; "
              f"{report.cells} figures, {report.attempts} attempt(s)")
        assert report.consistent_cut, report.as_dict()
        assert report.drift == [], report.drift[:10]
        assert report.cells > 300

        # The API answers from the same figures; spot-check them against plain SQL.
        o = (await api.get("/v1/stats/overview")).json()
        assert o["registered"] == await pool.fetchval("SELECT count(*) FROM workers") == load.n
        assert o["dispatched"] == await pool.fetchval("SELECT count(DISTINCT worker_id) FROM placements")
        assert o["outputs"] == len(load.placements) > o["dispatched"]
        assert o["confirmed"] == await pool.fetchval(
            "SELECT count(DISTINCT worker_id) FROM placements WHERE status IN ('confirmed', 'ended')")
        assert o["currently_employed"] == await pool.fetchval("SELECT count(*) FROM placements WHERE status = 'confirmed'")
        covered = await pool.fetchval("SELECT count(*) FROM placements WHERE status IN ('confirmed', 'ended') "
                                      "AND first_followup_date <= start_date + 30")
        assert o["followup_coverage"] == round(covered / o["placements_confirmed"], 6)
        assert 0 < o["followup_coverage"] < 1 and 0 < o["priority_group_share"] < 1
        priority = await pool.fetchval("SELECT count(*) FROM workers WHERE cardinality(priority_groups) > 0")
        assert o["priority_group_share"] == round(priority / load.n, 6)
        assert o["retention_3m_base"] > 0 and 0 < o["retention_3m"] <= 1
        # Retention is streamed by due date now; it must be what counting the placements today gives.
        for n in (3, 6):
            due, kept = await pool.fetchrow(
                f"""SELECT count(*) FILTER (WHERE start_date + interval '{n} months' <= $1::date),
                           count(*) FILTER (WHERE start_date + interval '{n} months' <= $1::date
                                            AND (end_date IS NULL OR end_date >= start_date + interval '{n} months'))
                      FROM placements WHERE status IN ('confirmed', 'ended') AND start_date IS NOT NULL""",
                datetime.now(st.BEIJING).date())
            assert o[f"retention_{n}m_base"] == due and o[f"retention_{n}m"] == st.ratio(kept, due)
        months = await stats_store.series(pool, ("all", ""), "2000-01", "2100-12")  # not the due-date cells
        assert months and all(len(m) == 7 for m in months), sorted(months)[:5]
        assert o["subsidies_count"] == await pool.fetchval("SELECT count(*) FROM subsidies") > 0
        assert sum(m["registered"] for m in o["series"]) <= load.n and len(o["series"]) == 12
        assert {c["code"] for c in o["children"]} == {"460000", "500000"}
        assert o["brands"][0]["registered"] >= o["brands"][-1]["registered"]

        # Region roll-ups across three levels: province = Σ cities, city = Σ counties, each = SQL by prefix.
        hainan = (await api.get("/v1/stats/regions/460000")).json()
        assert hainan["region"] == {"code": "460000", "name": "海南省", "level": "province"}
        assert hainan["registered"] == await region_count(pool, "46")
        assert (hainan["subsidies_count"], hainan["subsidies_accrued"]) == tuple(await pool.fetchrow(
            "SELECT count(*), sum(s.amount)::text FROM subsidies s JOIN placements p USING (placement_id) "
            "WHERE p.origin_region LIKE '46%'")) and hainan["subsidies_count"] > 0
        cities = {c["code"]: c for c in hainan["children"]}
        assert set(cities) == {"460100", "460200", "469000"}
        assert sum(c["registered"] for c in cities.values()) == hainan["registered"]
        haikou = (await api.get("/v1/stats/regions/460100")).json()
        assert haikou["parent"]["code"] == "460000" and haikou["registered"] == await region_count(pool, "4601")
        assert sum(c["registered"] for c in haikou["children"]) == haikou["registered"]
        assert {c["code"] for c in haikou["children"]} <= {"460105", "460106", "460107", "460108"}
        for county in haikou["children"]:
            assert county["registered"] == await region_count(pool, county["code"])
        # Output figures follow the origin: a city-level origin counts for the city and the province, no county.
        city_origin = await pool.fetchval("SELECT count(*) FROM placements WHERE origin_region = '460100'")
        county_origin = await pool.fetchval("SELECT count(*) FROM placements WHERE origin_region = '469005'")
        assert haikou["outputs"] == city_origin and hainan["outputs"] == city_origin + county_origin
        assert all(c["outputs"] == 0 for c in haikou["children"])
        wenchang = (await api.get("/v1/stats/regions/469005")).json()
        assert wenchang["outputs"] == county_origin and wenchang["children"] == []
        chongqing = (await api.get("/v1/stats/overview", params={"region": "500000"})).json()
        assert chongqing["registered"] == await region_count(pool, "50")
        assert chongqing["outputs"] == await pool.fetchval("SELECT count(*) FROM placements WHERE origin_region = '500000'")

        brand = (await api.get("/v1/stats/brands/wenchang-chef", params={"from": D0.isoformat()[:7]})).json()
        assert brand["name"] == "文昌鸡师傅" and brand["granularity"] == "month"
        assert brand["dispatched"] == await pool.fetchval(
            "SELECT count(DISTINCT worker_id) FROM placements WHERE brand_id = 'wenchang-chef'")
        assert brand["outputs"] == await pool.fetchval("SELECT count(*) FROM placements WHERE brand_id = 'wenchang-chef'")
        assert brand["outputs"] >= brand["dispatched"]
        assert sum(m["outputs"] for m in brand["series"]) == brand["outputs"]
        assert (await api.get("/v1/stats/brands/no-such-brand")).status_code == 404
        assert (await api.get("/v1/stats/regions/999999")).status_code == 404

        # A bureau sees its own region only.
        bureau = bearer("bureau", "hrss-460100", "460100")
        mine = (await api.get("/v1/stats/overview", headers=bureau)).json()
        assert mine["region"]["code"] == "460100" and mine["registered"] == haikou["registered"]
        assert (await api.get("/v1/stats/overview", params={"region": "500000"}, headers=bureau)).status_code == 404

        targets = (await api.get("/v1/targets")).json()["items"]
        hainan_goals = {g["goal"]: g for g in next(t for t in targets if t["programme"] == "hainan-2023")["goals"]}
        assert hainan_goals["provincial_brands"]["achieved"] == 1  # qiongzhu is listed
        assert hainan_goals["every_city_county_brand"]["achieved"] == 0  # wenchang-chef is still a candidate

        # Exports: the ledger with masked columns and Chinese headers; the statistics workbook.
        r = await api.get("/v1/export/workers.xlsx", params={"region": "460000"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
        ws = load_workbook(io.BytesIO(r.content), read_only=True)["从业人员台账"]
        rows = list(ws.iter_rows(values_only=True))
        assert rows[0][:3] == ("人员编号", "身份证号(脱敏)", "姓名") and len(rows) - 1 == hainan["registered"]
        assert all("*" in str(row[1]) and "*" in str(row[5]) for row in rows[1:])
        r = await api.get("/v1/export/stats.xlsx", params={"region": "460000"})
        book = load_workbook(io.BytesIO(r.content), read_only=True)
        assert book.sheetnames == ["总览", "下级地区", "劳务品牌", "月度趋势", "目标进度", "劳务流向"]
        overview_rows = dict(row[:2] for row in book["总览"].iter_rows(min_row=2, values_only=True))
        assert overview_rows["登记从业人员(人)"] == hainan["registered"]

        # The operator's tool: drift is reported (exit 1), corrected with --fix, and gone afterwards.
        members = await pool.fetchval("SELECT count(*) FROM stats_members")
        await pool.execute("UPDATE stats_figures SET value = value + 5 WHERE dim = 'region' AND key = '460100' "
                           "AND month = '' AND metric = 'registered'")
        await pool.execute("DELETE FROM stats_members WHERE ctid IN (SELECT ctid FROM stats_members LIMIT 3)")

        def laowu_recount(*args: str) -> tuple[int, dict[str, Any]]:
            done = subprocess.run(laowu_argv("stats", "recount", "--json", *args),
                                  env=child_env(settings), capture_output=True, timeout=120, check=False)
            return done.returncode, json.loads(done.stdout)

        code, doc = await asyncio.to_thread(laowu_recount)
        assert code == 1 and doc["consistent_cut"] and doc["drift_count"] == 1 and not doc["corrected"], doc
        assert doc["drift"][0] | {"stored": None} == {"dim": "region", "key": "460100", "month": "", "metric": "registered",
                                                      "stored": None, "recount": str(haikou["registered"])}
        code, doc = await asyncio.to_thread(laowu_recount, "--fix")
        assert code == 0 and doc["corrected"], doc
        code, doc = await asyncio.to_thread(laowu_recount)
        assert code == 0 and doc["drift_count"] == 0
        assert await pool.fetchval("SELECT count(*) FROM stats_members") == members
        assert (await api.get("/v1/stats/regions/460100")).json()["registered"] == haikou["registered"]


async def committed_offsets(settings: Settings) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        got = await admin.list_consumer_group_offsets(settings.topic("laowu-stats"))
    finally:
        await admin.close()
    topic = settings.topic(LEDGER_CHANGES.name)
    return {tp.partition: meta.offset for tp, meta in got.items() if isinstance(tp, TopicPartition) and tp.topic == topic}


async def test_kill_9_of_the_faust_worker_mid_stream_converges_exactly(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "streams.log"
    proc = spawn_ours(["streams", "worker"], settings, log)
    kills: list[dict[str, Any]] = []
    try:
        load = Workload(api, pool, workers=84, seed=5)
        task = asyncio.create_task(load.run())
        for threshold in (40, 250):  # applied ledger changes at which to kill -9
            deadline = time.monotonic() + 120
            seen = 0
            while seen < threshold:
                assert time.monotonic() < deadline, f"stats stuck at {seen} applied; see {log}"
                assert not task.done() or task.exception() is None, task
                seen = await pool.fetchval("SELECT count(*) FROM stats_applied_events")
                await asyncio.sleep(0.01)
            stop(proc, signal.SIGKILL)  # no shutdown, no final commit
            applied = await stats_store.applied_offsets(pool, settings.topic(LEDGER_CHANGES.name))
            committed = await committed_offsets(settings)
            ahead = sum(n - committed.get(p, 0) for p, n in applied.items())
            kills.append({"applied_events": seen, "applied_not_committed": ahead})
            await asyncio.sleep(0.5)  # more changes arrive while it is down
            proc = spawn_ours(["streams", "worker"], settings, log)
        await task
        report = await converge(settings, timeout=120, worker=proc)
        print(f"kills: {kills}; {load.events} events; {report.cells} figures; drift {len(report.drift)}")
        assert report.consistent_cut and report.drift == [], report.as_dict()
        assert (await api.get("/v1/stats/overview")).json()["registered"] == load.n
        # And faust does commit what was applied (after the write, never before it).
        applied = await stats_store.applied_offsets(pool, settings.topic(LEDGER_CHANGES.name))
        deadline = time.monotonic() + 15
        while (committed := await committed_offsets(settings)) != applied:
            assert all(committed.get(p, 0) <= n for p, n in applied.items()), (committed, applied)
            assert time.monotonic() < deadline, (committed, applied)
            await asyncio.sleep(0.5)
    finally:
        stop(proc)


async def test_the_sink_applies_a_redelivered_chunk_once(pool: asyncpg.Pool, settings: Settings) -> None:
    """The idempotence the convergence rests on, without Kafka: the same messages twice, and overlapping chunks."""
    import json
    import uuid

    from schemas import events as ev
    from schemas.envelope import Envelope
    from streams.sink import Message, StatsSink

    def change(i: int) -> Message:
        view = {"worker_id": f"w{i:024x}", "state": "registered", "brand_ids": ["b1"], "household_region": "460106",
                "priority_groups": [], "current_placement_id": None, "registered_at": "2026-01-02T03:04:05+00:00"}
        body = ev.LedgerChanged(entity="worker", entity_id=view["worker_id"], cause_event_id=str(uuid.uuid4()),
                                cause_type="worker.registered", regions=["460106"], before=None, after=view)
        env = Envelope.wrap(body, type="ledger.changed", key=view["worker_id"], source="test",
                            event_id=uuid.uuid5(uuid.NAMESPACE_OID, str(i)))
        return Message("t", i % 2, i, json.dumps(json.loads(env.to_bytes())).encode())

    sink = StatsSink(settings, pool)
    msgs = [change(i) for i in range(10)]
    assert await sink.apply_ledger(msgs[:6]) == 6
    assert await sink.apply_ledger(msgs[:6]) == 0
    assert await sink.apply_ledger(msgs[4:] + msgs[4:5]) == 4
    figures = await stats_store.figures_of(pool, [("region", "460000"), ("brand", "b1")])
    assert figures[("region", "460000")]["registered"] == 10 == figures[("brand", "b1")]["registered"]
    assert await pool.fetchval("SELECT count(*) FROM feed_events WHERE kind = 'ledger'") == 10
    assert await stats_store.applied_offsets(pool, "t") == {0: 9, 1: 10}


async def test_the_flow_sink_keeps_only_placement_changes_and_applies_them_once(pool: asyncpg.Pool,
                                                                               settings: Settings) -> None:
    """One decoded chunk for both sinks (streams.app): a worker's change adds no flow and leaves no applied-event
    row; a placement's adds once however often the chunk comes; the offsets move either way."""
    import uuid

    from laowu.store import flows as flow_store
    from schemas import events as ev
    from schemas.envelope import Envelope
    from streams.flows import FlowSink
    from streams.sink import Message

    topic = f"flows-{uuid.uuid4().hex[:8]}"
    placement = {"placement_id": "p-flow-1", "worker_id": "w1", "origin_region": "469005",
                 "destination_region": "440305", "departure_date": "2026-02-28", "brand_id": "b-flow",
                 "status": "dispatched", "start_date": None}

    def change(offset: int, entity: str, after: dict[str, Any]) -> Message:
        body = ev.LedgerChanged(entity=entity, entity_id=str(after.get("placement_id") or after["worker_id"]),  # type: ignore[arg-type]
                                cause_event_id=str(uuid.uuid4()), cause_type="dispatch.created", after=after)
        env = Envelope.wrap(body, type="ledger.changed", key="k", source="test")
        return Message(topic, 0, offset, env.to_bytes())

    msgs = [change(0, "worker", {"worker_id": "w1", "state": "dispatched"}), change(1, "placement", placement),
            change(2, "worker", {"worker_id": "w2", "state": "registered"})]
    flow_sink = FlowSink(settings, pool)
    assert await flow_sink.apply(msgs) == 1
    assert await flow_sink.apply(msgs) == 0
    assert await flow_sink.apply(msgs[:1]) == 0
    ids = {json.loads(m.value or b"")["event_id"] for m in msgs}
    kept = await pool.fetchval("SELECT count(*) FROM flow_applied_events WHERE event_id = ANY($1::uuid[])", list(ids))
    assert kept == 1
    assert await flow_store.applied_offsets(pool, topic) == {0: 3}
    sent = await pool.fetchval("SELECT value FROM flow_figures WHERE brand_id = 'b-flow' AND metric = 'sent'")
    assert sent == 1


async def test_recount_sees_ledger_changes_still_in_kafka(settings: Settings) -> None:
    """A change the sink has not applied yet is in flight: no consistent cut, so no correction."""
    from aiokafka import AIOKafkaProducer

    from streams.recount import recount

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for key in (b"w1", b"w2", b"w3"):
            await producer.send_and_wait(settings.topic(LEDGER_CHANGES.name), b"{}", key=key)
    finally:
        await producer.stop()
    report = await recount(settings, fix=True, attempts=1)
    assert (report.kafka_lag, report.consistent_cut, report.corrected) == (3, False, False)
