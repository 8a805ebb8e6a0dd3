"""What ``make run`` loads (``laowu.demo.load_demo``), in a stack of this test's own: every step is accepted and
applied (the loader stops at the first refusal or timeout), the statistics converge to a recount of the ledger, and
the people who meet the demo read names: an employer sees which workstation sent each arrival by its name.

It lives beside the browser tests for their ``served`` stack (API, ledger and statistics worker as processes)."""

from __future__ import annotations

import time

import pytest

from laowu.demo import load_demo
from laowu.domain.regions import region_name

from .conftest import Served
from helpers import bearer
from workload import converge

pytestmark = pytest.mark.services


async def test_the_demo_loads_converges_and_names_its_workstations(served: Served) -> None:
    t0 = time.monotonic()
    people = await load_demo(served.url, served.settings)
    print(f"demo loaded: {people} people in {time.monotonic() - t0:.1f}s")
    assert people >= 250
    report = await converge(served.settings, worker=served.worker)
    assert report.consistent_cut and not report.drift

    hotel = bearer("employer", "emp-sz-hotel", "440300", settings=served.settings)
    placements = (await served.api.get("/v1/placements", params={"limit": 500}, headers=hotel)).json()["items"]
    assert placements
    for p in placements:
        county = p["organizer_id"].removeprefix("ws-").removesuffix("-01")
        assert p["organizer_name"] == f"{region_name(county)}劳务工作站", p
