"""The bureau dashboard in real headless Chromium (Debian ``chromium``), driven over the DevTools protocol.

No Playwright/Selenium: Chromium is started with ``--remote-debugging-port=0`` and spoken to over its
WebSocket (the ``websockets`` package). Checks: no console errors, KPIs equal the API's figures, a new event
posted to the API shows up on the page within 2 s, drill-down into a region. A screenshot is written to
``tests/browser/artifacts/dashboard.png`` (git-ignored) for a human to look at.

Needs ``apt-get install chromium fonts-noto-cjk``; skipped (only) when /usr/bin/chromium is missing.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import websockets

from laowu.settings import Settings
from laowu.stack.processes import spawn, stop_process

from helpers import bearer, person
from workload import Workload, converge, streams_worker

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium fonts-noto-cjk)"),
]


class Page:
    """One browser tab over the Chrome DevTools Protocol."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.errors: list[str] = []
        self.loaded = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if "id" in msg:
                fut = self.pending.pop(msg["id"], None)
                if fut and not fut.done():
                    fut.set_result(msg)
                continue
            method, params = msg.get("method"), msg.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                self.errors.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                self.errors.append("exception: " + str(details.get("exception", {}).get("description", details.get("text"))))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                self.errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
            elif method == "Page.loadEventFired":
                self.loaded.set()

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        n = next(self.ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[n] = fut
        await self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        msg = await asyncio.wait_for(fut, 30)
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return dict(msg.get("result", {}))

    async def js(self, expression: str) -> Any:
        got = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in got:
            raise RuntimeError(f"{expression}: {got['exceptionDetails']}")
        return got["result"].get("value")

    async def wait_for(self, expression: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = await self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression!r} still falsy after {timeout}s; console errors: {self.errors}")
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def chromium(tmp: Path) -> AsyncIterator[Page]:
    profile = tmp / "profile"
    profile.mkdir()
    proc = spawn(
        [str(CHROMIUM), "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={profile}", "--no-sandbox",
         "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--window-size=1920,1080", "--lang=zh-CN", "--remote-allow-origins=*", "about:blank"],
        tmp / "chromium.log", die_with_parent=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert proc.poll() is None, (tmp / "chromium.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        async with httpx.AsyncClient() as http:
            target = (await http.put(f"http://127.0.0.1:{port}/json/new?about:blank")).json()
        async with websockets.connect(target["webSocketDebuggerUrl"], max_size=64 << 20) as ws:
            page = Page(ws)
            for domain in ("Runtime", "Log", "Page"):
                await page.call(f"{domain}.enable")
            await page.call("Emulation.setDeviceMetricsOverride", width=1920, height=1080, deviceScaleFactor=1, mobile=False)
            try:
                yield page
            finally:
                page.reader.cancel()
    finally:
        stop_process(proc, timeout=10)


KPIS_JS = """JSON.stringify(Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(
    e => [e.dataset.kpi, {value: e.dataset.value ?? null, text: e.querySelector('b').textContent}])))"""


def same(page_value: str | None, api_value: Any) -> bool:
    if api_value is None:
        return page_value in ("", None)
    if isinstance(api_value, int | float):
        return page_value not in ("", None) and abs(float(page_value) - float(api_value)) < 1e-9
    return page_value == str(api_value)


async def test_dashboard_in_headless_chromium(
    api: httpx.AsyncClient, pool: asyncpg.Pool, ledger: Any, settings: Settings, tmp_path: Path
) -> None:
    token = bearer("admin", "laowu-ops", settings=settings)["Authorization"].removeprefix("Bearer ")
    with streams_worker(settings, tmp_path / "streams.log") as worker:
        await Workload(api, pool).run()
        report = await converge(settings, worker=worker)
        assert report.consistent_cut and not report.drift
        await pool.execute("UPDATE brands SET status = 'listed' WHERE brand_id = 'wenchang-chef'")  # a target met

        async with chromium(tmp_path) as page:
            await page.call("Page.navigate", url=f"{api.base_url}/dashboard?access_token={token}")
            await asyncio.wait_for(page.loaded.wait(), 20)
            # The credential moved to sessionStorage and out of the address bar.
            assert await page.js("location.search") == ""
            assert await page.js("sessionStorage.getItem('laowu.dashboard.token')") == token
            await page.wait_for("document.querySelector('[data-kpi=registered]').dataset.value", 10)
            await page.wait_for("document.querySelectorAll('#regions tbody tr[data-code]').length > 0", 10)
            await page.wait_for("document.querySelectorAll('#targets .goal').length > 0", 10)
            await page.wait_for("document.querySelector('#conn').classList.contains('on')", 10)

            # KPIs equal the API's figures.
            overview = (await api.get("/v1/stats/overview")).json()
            kpis = json.loads(await page.js(KPIS_JS))
            assert len(kpis) >= 10
            for key, shown in kpis.items():
                assert same(shown["value"], overview[key]), (key, shown, overview[key])
            assert kpis["registered"]["text"].replace(",", "") == str(overview["registered"])
            assert kpis["followup_coverage"]["text"] == f"{overview['followup_coverage'] * 100:.1f}%"
            assert await page.js("document.querySelectorAll('#trend canvas').length") >= 1
            assert await page.js("document.querySelectorAll('#brands canvas').length") >= 1
            shown_regions = await page.js("[...document.querySelectorAll('#regions tbody tr')].map(r => r.dataset.code)")
            assert shown_regions == [c["code"] for c in overview["children"]]

            # A new event posted to the API appears on the page within 2 s, and the KPI follows.
            body = person(9100, region="460106") | {"brand_ids": ["qiongzhu"]}
            t0 = time.monotonic()
            r = await api.post("/v1/workers", json=body)
            assert r.status_code == 202, r.text
            wid = r.json()["worker_id"]
            await page.wait_for(f"!!document.querySelector('#ticker li[data-worker-id=\"{wid}\"]')", 2.0)
            seen_after = time.monotonic() - t0
            await page.wait_for(
                f"document.querySelector('[data-kpi=registered]').dataset.value === '{overview['registered'] + 1}'",
                max(0.1, 2.0 - seen_after) + 1.0)
            kpi_after = time.monotonic() - t0
            print(f"event on the page {seen_after:.3f}s after POST; KPI updated after {kpi_after:.3f}s")
            assert seen_after < 2.0

            ARTIFACTS.mkdir(exist_ok=True)
            await asyncio.sleep(1)  # let chart animations finish
            shot = await page.call("Page.captureScreenshot", format="png")
            (ARTIFACTS / "dashboard.png").write_bytes(base64.b64decode(shot["data"]))

            # Drill down: click a province, then its breadcrumb back to the top.
            await page.js("document.querySelector('#regions tbody tr[data-code=\"460000\"]').click()")
            hainan = (await api.get("/v1/stats/overview", params={"region": "460000"})).json()
            await page.wait_for(
                f"document.querySelector('[data-kpi=registered]').dataset.value === '{hainan['registered']}'", 5)
            assert "海南省" in await page.js("document.querySelector('#crumbs').textContent")
            assert await page.js("location.hash") == "#region=460000"
            await asyncio.sleep(1)
            shot = await page.call("Page.captureScreenshot", format="png")
            (ARTIFACTS / "dashboard-460000.png").write_bytes(base64.b64decode(shot["data"]))
            await page.js("document.querySelector('#crumbs a').click()")
            await page.wait_for(
                f"document.querySelector('[data-kpi=registered]').dataset.value === '{overview['registered'] + 1}'", 5)

            assert page.errors == []
