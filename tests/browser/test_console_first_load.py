"""What a person waits for when the console opens, measured in the browser on loopback (issue 18: "first-load size of
the console (gzipped JS+CSS; aim under 600 KB through on-demand imports) and time to interactive").

For a cold tab (new browser context, empty cache): every script and style sheet the page loads, gzipped (level 9, as
``console/scripts/first-load-size.mjs`` counts the build), and the time from navigation to the first meaningful
interaction — typing into the sign-in form's user name and seeing it there; for a signed-in bureau page, typing
into the library's filter with its rows shown; for the wall dashboard, its first figure on the screen. Median of
three cold loads. The figures are printed and written to ``tests/browser/artifacts/first-load.json`` for the note.
"""

from __future__ import annotations

import gzip
import json
import statistics
import time
from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, Response, expect

from .conftest import ACCOUNTS, ARTIFACTS, TOKEN_KEY, OpenPage, Served
from helpers import wait_receipt

pytestmark = pytest.mark.services

BUDGET_KB = 600
TTI_BUDGET_S = 5.0  # loopback, a shared two-core machine: generous, and still fails a page that hangs


async def cold_load(open_page: OpenPage, url: str, ready: Callable[[Page], Awaitable[None]],
                    token: str | None = None) -> tuple[float, float, int]:
    """(gzipped KB of JS+CSS, seconds to interactive, files) of one cold load of ``url``."""
    page = await open_page()
    if token:  # signed in as after the login form: the token in this tab's sessionStorage before any script runs
        await page.add_init_script(f"sessionStorage.setItem({TOKEN_KEY!r}, {token!r})")
    bodies: list[Response] = []
    page.on("response", lambda r: bodies.append(r) if r.request.resource_type in ("script", "stylesheet") else None)
    t0 = time.monotonic()
    await page.goto(url, wait_until="commit")
    await ready(page)
    tti = time.monotonic() - t0
    await page.wait_for_load_state("networkidle")
    sizes = [len(gzip.compress(await r.body(), 9)) for r in bodies if r.ok]
    await page.context.close()
    return sum(sizes) / 1024, tti, len(sizes)


async def test_first_load_size_and_time_to_interactive(served: Served, open_page: OpenPage) -> None:
    r = await served.api.post("/v1/brands", json={"brand_id": "fl-b", "name": "测量品牌", "region_code": "460100",
                                                  "category": "skilled", "level": "municipal"})
    assert (await wait_receipt(served.api, r.json()["event_id"]))["status"] == "applied"

    async def login_ready(page: Page) -> None:
        field = page.get_by_label("用户名")
        await field.fill("ws-demo")  # waits until it is there, visible and enabled
        await expect(field).to_have_value("ws-demo")

    async def library_ready(page: Page) -> None:
        await expect(page.locator('[data-brand-id="fl-b"]')).to_be_visible()
        field = page.get_by_label("地区代码")
        await field.fill("460100")
        await expect(field).to_have_value("460100")

    async def dashboard_ready(page: Page) -> None:
        await page.wait_for_function("() => document.querySelector('[data-kpi=registered]').dataset.value !== undefined")

    bureau_token = served.token(ACCOUNTS["bureau"])
    cases = {
        "console sign-in (/console/)": (f"{served.url}/console/", login_ready, None),
        "bureau library, signed in (/console/bureau/brands)": (f"{served.url}/console/bureau/brands", library_ready,
                                                                bureau_token),
        "wall dashboard (/dashboard)": (f"{served.url}/dashboard", dashboard_ready, bureau_token),
    }
    report = {}
    for name, (url, ready, token) in cases.items():
        runs = [await cold_load(open_page, url, ready, token) for _ in range(3)]
        kb, files = runs[0][0], runs[0][2]
        assert all(abs(r[0] - kb) < 1 for r in runs), runs  # the same files every cold load
        tti = statistics.median(r[1] for r in runs)
        report[name] = {"gzipped_js_css_kb": round(kb, 1), "files": files, "time_to_interactive_s": round(tti, 3)}
        print(f"{name}: {kb:.1f} KB gzipped JS+CSS in {files} files; interactive after {tti * 1000:.0f} ms "
              f"(median of {len(runs)} cold loads on loopback)")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "first-load.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    for name, figures in report.items():
        if "dashboard" not in name:  # the budget is the console's; the wall screen is measured and printed
            assert figures["gzipped_js_css_kb"] < BUDGET_KB, (name, figures)
        assert figures["time_to_interactive_s"] < TTI_BUDGET_S, (name, figures)
