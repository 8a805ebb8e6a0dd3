"""A regional viewer's worker list: the same workers, in the same pages, whichever way the page is found.

``queries.workers`` collects a small jurisdiction's ids from three indexes and walks worker ids in order for a
big one (``FEW_VISIBLE``). Each reason a worker is visible (household region, dispatch origin, registering
workstation) must hold on both ways, and no one outside the jurisdiction may appear.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from laowu.settings import Settings
from laowu.store import queries
from laowu.store import stats as stats_store
from laowu.store.pool import create_pool
from schemas.common import Actor as Viewer  # what the API passes as the viewer

from helpers import every_page

WORKERS = [  # worker_id, household region, registering workstations
    *[(f"w-a{i:02d}", "469006", ["ws-469006-01"]) for i in range(7)],  # county A (万宁)
    *[(f"w-c{i:02d}", "460106", ["ws-460106-01"]) for i in range(40)],  # elsewhere in the province
    ("w-migrant", "500101", ["ws-469006-01"]),  # registered by A's workstation, household in Chongqing
    ("w-dispatched", "460203", ["ws-460203-01"]),  # dispatched from A (placement origin), household elsewhere
    ("w-other", "500229", ["ws-500229-01"]),
    ("w-neighbour", "469007", ["ws-469007-01"]),  # 469007 shares A's prefix as text, not its county
]
EXPECTED = [  # (viewer, the workers it sees); a list: the API's Actor is not hashable
    (Viewer(role="workstation", org="ws-469006-01", region="469006"),
     sorted([f"w-a{i:02d}" for i in range(7)] + ["w-migrant", "w-dispatched"])),
    (Viewer(role="bureau", org="wanning", region="469006"), sorted([f"w-a{i:02d}" for i in range(7)] + ["w-dispatched"])),
    (Viewer(role="bureau", org="hainan", region="460000"), sorted(w for w, region, _ in WORKERS if region.startswith("46"))),
]


async def _ledger(dsn: str) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        now = datetime.now(UTC)
        await pool.executemany(
            "INSERT INTO workers (worker_id, id_number_enc, id_number_masked, name, sex, birth_date, household_region,"
            " workstation_ids, registered_at, version) VALUES ($1, 'enc', 'masked', '测试', 'F', $2, $3, $4, $5, 1)",
            [(w, date(1990, 1, 1), region, stations, now) for w, region, stations in WORKERS])
        await pool.execute(
            "INSERT INTO placements (placement_id, dispatch_id, worker_id, employer_id, organizer_id, brand_id,"
            " origin_region, destination_region, departure_date, status, version)"
            " VALUES ('pl-1', 'd-1', 'w-dispatched', 'emp-1', 'ws-469006-01', 'b-1', '469006', '440305', $1,"
            " 'dispatched', 1)", date(2026, 3, 1))
    finally:
        await pool.close()


async def _pages(dsn: str, viewer: Viewer, limit: int, export: bool = False) -> list[str]:
    """Every page of ``GET /v1/workers`` (or of the spreadsheet export) for ``viewer``, concatenated."""
    pool = await create_pool(dsn, min_size=1, max_size=1)

    async def page(after: str | None) -> list[dict[str, Any]]:
        if export:
            return await stats_store.export_workers(pool, brand_id=None, region=None, viewer=viewer,
                                                    after=after or "", limit=limit)
        return await queries.workers(pool, brand_id=None, region=None, state=None, after=after, limit=limit,
                                     viewer=viewer)

    try:
        return await every_page(page, "worker_id", limit)
    finally:
        await pool.close()


@pytest.mark.parametrize("few_visible", [5_000, 3, 1], ids=["collected", "walked-when-a-reason-is-cut", "walked"])
async def test_each_viewer_sees_exactly_its_workers_page_by_page(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                                 few_visible: int) -> None:
    assert settings.database_url
    await _ledger(settings.database_url)
    monkeypatch.setattr(queries, "FEW_VISIBLE", few_visible)
    for viewer, expected in EXPECTED:
        for limit in (2, 100):
            assert await _pages(settings.database_url, viewer, limit) == expected, (viewer, limit)
            assert await _pages(settings.database_url, viewer, limit, export=True) == expected, (viewer, limit)


async def test_a_small_jurisdiction_is_collected_not_walked(settings: Settings) -> None:
    """The collected ids are the viewer's workers, not a page of everyone to be filtered."""
    assert settings.database_url
    await _ledger(settings.database_url)
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        viewer, expected = EXPECTED[0]
        ids = await queries.few_visible(pool, viewer, None)
        assert ids is not None and sorted(set(ids)) == expected  # repeats are harmless in = ANY
        nobody = Viewer(role="workstation", org="ws-469028-01", region="469028")  # a new county workstation: nothing to walk for
        assert await queries.few_visible(pool, nobody, None) == []
        assert await queries.workers(pool, brand_id=None, region=None, state=None, after=None, limit=50,
                                     viewer=nobody) == []
        assert sorted(set(await queries.few_visible(pool, viewer, "w-a03") or [])) == [
            w for w in expected if w > "w-a03"]
    finally:
        await pool.close()
