"""api.spool: workbooks rendered in a child process from pages; a failed or abandoned build leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from api import spool


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _worker(i: int) -> dict[str, Any]:
    return {"worker_id": f"w{i:024x}", "id_number_masked": "4601061990********", "name": f"=测试{i}", "sex": "F",
            "birth_date": date(1990, 3, 7), "phone_masked": "138****0000", "household_region": "460106",
            "brand_ids": ["b1"], "priority_groups": [], "occupation_code": None, "state": "placed",
            "current_placement_id": None, "last_followup_at": None, "registered_at": datetime(2026, 3, 1, tzinfo=UTC)}


async def test_pages_become_one_masked_sheet(temp_dir: Path) -> None:
    async def pages() -> AsyncIterator[list[dict[str, Any]]]:
        for start in (0, 3):
            yield [_worker(i) for i in range(start, start + 3)]

    path, rows = await spool.build("workers", {"names": {"b1": "文昌鸡师傅"}}, pages())
    try:
        assert rows == 6
        got = list(load_workbook(path, read_only=True)["从业人员台账"].iter_rows(values_only=True))
        assert len(got) == 7 and got[1][:5] == ("w" + "0" * 24, "460106************", "=测试0", "女", "1990-03")
        assert got[1][8] == "文昌鸡师傅" and got[1][11] == "在岗"
    finally:
        os.unlink(path)
    assert list(temp_dir.iterdir()) == []


async def test_a_failed_build_deletes_its_file(temp_dir: Path) -> None:
    with pytest.raises(spool.BuildFailed, match="KeyError"):
        await spool.build("stats", {}, None)  # no figures: the child fails
    assert list(temp_dir.iterdir()) == []


async def test_an_abandoned_build_kills_its_child_and_closes_its_pages(temp_dir: Path) -> None:
    closed = asyncio.Event()

    async def pages() -> AsyncIterator[list[dict[str, Any]]]:
        try:
            yield [_worker(0)]
            await asyncio.Event().wait()  # a page that never comes: the request goes away meanwhile
            yield []
        finally:
            closed.set()

    task = asyncio.create_task(spool.build("workers", {"names": {}}, pages()))
    while not list(temp_dir.iterdir()):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed.is_set() and list(temp_dir.iterdir()) == []


def test_the_child_gets_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAOWU_ENCRYPTION_KEYS", "k:secret")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@h/db")
    env = spool._child_env()
    assert "LAOWU_ENCRYPTION_KEYS" not in env and "DATABASE_URL" not in env and "PATH" in env
