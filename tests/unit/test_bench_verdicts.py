"""``make bench``'s verdicts: every issue-22 target judged from the same run's figures, a figure the run could not
measure reported as such (never as met), and the run's JSON printed even when a phase fails."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from benchmarks import run


def test_ratios_and_bounds_are_judged_from_the_same_run() -> None:
    r: dict[str, Any] = {"ledger_events_per_s": 6_000, "ledger_write_floor_events_per_s": 16_000,
                         "naive_sink_per_s": 1_500, "connect_jdbc_sink_per_s": 20_000,
                         "api_batch_events_per_s": 10_000, "api_batch_2_procs_events_per_s": 17_000,
                         "worker_lookup_p99_ms": 12.5, "freshness_p99_ms": 800.0}
    bench = run.Bench.__new__(run.Bench)
    bench.result = r
    bench.ratios()
    t = r["targets"]
    assert t["ledger_vs_write_floor"] == {"target": ">= 0.5", "value": 0.375, "ratio": 0.75, "met": False}
    assert t["ledger_vs_naive"]["met"] is True and t["ledger_vs_naive"]["value"] == 4.0
    assert t["ledger_vs_connect_jdbc_sink"]["met"] is True  # 0.3 of it, above a quarter
    assert t["api_batch_2_procs_vs_1"] == {"target": ">= 1.6", "value": 1.7, "ratio": 1.062, "met": True}
    assert t["worker_lookup_p99_ms"]["met"] is False and t["worker_lookup_p99_ms"]["ratio"] == 0.8  # a ceiling
    assert t["freshness_p99_ms"]["met"] is True
    assert t["matching_shortlist_p99_ms"] == {"target": "<= 200", "value": None, "met": None}


def test_a_failing_phase_is_named_and_the_others_still_count() -> None:
    bench = run.Bench.__new__(run.Bench)
    bench.notes, bench.failed = [], []

    async def broken() -> None:
        raise TimeoutError("ledger/mixed: 10 of 500000 events committed after 600s")

    async def fine() -> int:
        return 7

    async def both() -> tuple[Any, Any]:
        return await bench.step("ledger", broken()), await bench.step("pg_copy", fine())

    assert asyncio.run(both()) == (None, 7)
    assert bench.failed == ["ledger"]
    assert bench.notes == ["ledger failed: TimeoutError: ledger/mixed: 10 of 500000 events committed after 600s"]


def test_the_table_shows_what_failed_and_what_was_not_measured(capsys: pytest.CaptureFixture[str]) -> None:
    r: dict[str, Any] = {"machine": {"load_at_start": [0.1], "load_at_end": [2.0]}, "ledger_events_per_s": 4_000.0,
                         "failed_phases": ["naive_sink"], "notes": ["naive_sink failed: RuntimeError: exited"]}
    r["targets"] = run.targets(r)
    text = run.table(r)
    assert "FAILED PHASES: naive_sink" in text
    assert "ledger_vs_naive >= 3: not measured" in text
