"""Browser tests as a person would work: Playwright for Python driving Debian's ``/usr/bin/chromium``.

No browser download: Playwright is told where Chromium is (``executable_path``) and ``playwright install`` is never
run (``make system-deps`` installs ``chromium`` and ``fonts-noto-cjk``, without which Chinese renders as boxes).

Fixtures for every browser test (the console's and the wall dashboard's):

* ``served`` — the API, the ledger consumer (with its outbox relay) and the streams worker as real processes for
  this test's private world (``laowu.stack.processes``), so the browser speaks to the stack as deployed and the
  test's own event loop stays free for Playwright. ``served.api`` is an admin client of it.
* ``browser`` — headless Chromium.
* ``open_page(url)`` — a page in a fresh browser context (its own sessionStorage) whose console errors, uncaught
  exceptions and server errors FAIL the test (see :class:`Watch`).
* ``console_page(role)`` — a console page signed in as the demo-like account of that role (:data:`ACCOUNTS`).
* ``shot(page, name)`` — a full-page screenshot in ``tests/browser/artifacts/<test>/<name>.png`` for a person to
  look at (the folder is git-ignored).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Request, Response, async_playwright

from laowu.settings import Settings
from laowu.stack.ports import free_port
from laowu.stack.processes import stop_process

from conftest import REPO, spawn_ours
from helpers import bearer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CONSOLE_DIST = REPO / "console" / "dist"

#: The console keeps its bearer token here (sessionStorage: gone with the tab, never in the address bar).
TOKEN_KEY = "laowu.console.token"

#: The password every test account gets (the demo accounts of ``make run`` use ``laowu-demo-2026``).
PASSWORD = "laowu-test-2026"

VIEWPORT = {"width": 1440, "height": 900}


@dataclass(frozen=True)
class Account:
    """A person's account as the accounts API takes it (h18 contract: ``POST /v1/accounts``)."""

    username: str
    display_name: str
    role: str
    org: str
    region: str | None

    def body(self, password: str = PASSWORD) -> dict[str, Any]:
        return {"username": self.username, "display_name": self.display_name, "role": self.role, "org": self.org,
                "region": self.region, "password": password}


#: The demo accounts of ``make run``, one per role (same organizations and regions, so the demo data fits).
ACCOUNTS = {
    "workstation": Account("ws-demo", "万宁市劳务工作站", "workstation", "ws-469005-01", "469005"),
    "employer": Account("employer-demo", "深圳酒店", "employer", "emp-sz-hotel", "440300"),
    "bureau": Account("bureau-demo", "海南省人社厅", "bureau", "hrss-460000", "460000"),
    "admin": Account("admin", "系统管理员", "admin", "laowu-ops", None),
}


# ---- the stack ------------------------------------------------------------------------------------------------


@dataclass
class Served:
    """The running stack of one test: its URL, its settings, an admin client and the processes' logs."""

    url: str
    settings: Settings
    api: httpx.AsyncClient
    worker: subprocess.Popen[bytes]
    logs: Path
    accounts: dict[str, Account] = field(default_factory=dict)  # username -> account created in this world

    def token(self, account: Account) -> str:
        """A bearer token for ``account``'s role, organization and region, issued without signing in."""
        from laowu.auth import issue

        return issue(self.settings, role=account.role, org=account.org, region=account.region, subject=account.username)


async def _ready(url: str, procs: list[subprocess.Popen[bytes]], logs: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        while True:
            for p in procs:
                assert p.poll() is None, f"{p.args} exited with {p.returncode}; logs in {logs}"
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            assert time.monotonic() < deadline, f"the API was not ready after {timeout}s; logs in {logs}"
            await asyncio.sleep(0.1)


@pytest.fixture
async def served(settings: Settings, tmp_path: Path) -> AsyncIterator[Served]:
    """API + ledger + streams worker as processes of this test's world.

    The ledger sweeps its deadlines once at start (nothing yet) and then only every day: the tests' field times are
    months old, and alerts raised in the middle of a test would move the figures it compares (tests that want a
    sweep call ``consumers.sweeper.sweep_once`` with a chosen day, as the other tests do)."""
    port = free_port()
    logs = tmp_path / "logs"
    logs.mkdir()
    url = f"http://127.0.0.1:{port}"
    procs = [
        spawn_ours(["api"], settings, logs / "api.log", LAOWU_API_PORT=str(port)),
        spawn_ours(["consume", "ledger"], settings, logs / "ledger.log", LAOWU_SWEEP_EVERY_S="86400"),
        spawn_ours(["streams", "worker"], settings, logs / "streams.log"),
    ]
    try:
        await _ready(url, procs, logs)
        async with httpx.AsyncClient(base_url=url, timeout=30,
                                     headers=bearer("admin", "laowu-ops", settings=settings)) as admin:
            yield Served(url=url, settings=settings, api=admin, worker=procs[2], logs=logs)
    finally:
        for p in reversed(procs):
            stop_process(p, timeout=10)


# ---- the browser ----------------------------------------------------------------------------------------------


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Debian Chromium, Chinese locale; never a downloaded browser."""
    assert CHROMIUM.exists(), "/usr/bin/chromium is missing: `make system-deps` (apt-get install chromium fonts-noto-cjk)"
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--lang=zh-CN", "--hide-scrollbars"])
        try:
            yield b
        finally:
            await b.close()


#: Chromium's own network log line for a response the page asked for and got (e.g. the 401 of a wrong password).
_RESOURCE_STATUS = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


@dataclass
class Watch:
    """What went wrong in the pages of one test; any of it fails the test (:func:`pytest_runtest_call`).

    Counted: ``console.error``/``console.assert`` from the page's code, an uncaught exception, a request that got no
    answer, and any 5xx. Not counted: Chromium's "Failed to load resource: … status of 4xx" line for a call to the
    API (``/v1/``, ``/auth``): those are the API's answers to what a person typed (a wrong password, a bad check
    digit), which the page shows next to the field; a 4xx for a page asset still counts."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type not in ("error", "assert"):
            return
        where = msg.location.get("url", "")
        m = _RESOURCE_STATUS.search(msg.text)
        if m and 400 <= int(m.group(1)) < 500 and "/v1/" in where:
            return
        self.errors.append(f"console.{msg.type}: {msg.text} ({where})")

    def _failed(self, request: Request) -> None:
        reason = request.failure or ""
        # A navigation away (or the live feed closed with its page) aborts requests in flight: not a fault.
        if "ERR_ABORTED" in reason:
            return
        self.errors.append(f"request failed: {request.method} {request.url}: {reason}")

    def _response(self, response: Response) -> None:
        if response.status >= 500:
            self.errors.append(f"server error: {response.status} {response.request.method} {response.url}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A console error fails the test itself (not only its teardown), with the errors in the message."""
    result = yield
    watch: Watch | None = getattr(item, "_browser_watch", None)
    if watch and watch.errors:
        raise AssertionError("errors in the browser:\n" + "\n".join(watch.errors))
    return result


@pytest.fixture
def watch(request: pytest.FixtureRequest) -> Iterator[Watch]:
    w = Watch()
    request.node._browser_watch = w
    yield w
    # Errors logged after the test body (while pages close) still fail the run.
    assert not w.errors, "errors in the browser:\n" + "\n".join(w.errors)


OpenPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def open_page(browser: Browser, watch: Watch) -> AsyncIterator[OpenPage]:
    """``await open_page(url)``: a watched page in a context of its own (own sessionStorage, zh-CN, 1440×900)."""
    contexts = []

    async def _open(url: str | None = None, *, viewport: dict[str, int] | None = None) -> Page:
        ctx = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport=viewport or VIEWPORT)
        ctx.set_default_timeout(10_000)
        contexts.append(ctx)
        ctx.on("page", watch.attach)  # every page of the context, tabs a link opens too
        page = await ctx.new_page()
        if url:
            await page.goto(url)
        return page

    yield _open
    for ctx in contexts:
        with contextlib.suppress(Exception):
            await ctx.close()


# ---- the console ----------------------------------------------------------------------------------------------


def console_built() -> Path:
    index = CONSOLE_DIST / "index.html"
    assert index.exists(), f"{index} is missing: build the console first (`npm ci && npm run build` in console/)"
    return CONSOLE_DIST


async def ensure_account(served: Served, account: Account, password: str = PASSWORD) -> Account:
    """``account`` in this world, created once through the accounts API (as an admin would in the console)."""
    if account.username in served.accounts:
        return account
    r = await served.api.post("/v1/accounts", json=account.body(password))
    assert r.status_code == 201, r.text
    served.accounts[account.username] = account
    return account


async def sign_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Through the login form, as a person: user name, password, Enter; back on a page of the console."""
    await page.goto(f"{base_url}/console/")
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_label("密码").press("Enter")
    await page.wait_for_function(f"() => !!sessionStorage.getItem({TOKEN_KEY!r})")
    await page.wait_for_function("() => !location.pathname.endsWith('/login') && !location.hash.includes('login')")


ConsolePage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def console_page(served: Served, open_page: OpenPage) -> ConsolePage:
    """``await console_page("bureau")``: the console signed in as that role's demo-like account (:data:`ACCOUNTS`).

    The account is created through ``POST /v1/accounts`` and signed in through the login form; ``via="token"``
    skips the form (a token in sessionStorage, as after a sign-in) for tests about other pages."""
    console_built()

    async def _console(role: str, path: str = "", *, account: Account | None = None, via: str = "form") -> Page:
        acct = account or ACCOUNTS[role]
        page = await open_page()
        if via == "form":
            await ensure_account(served, acct)
            await sign_in(page, served.url, acct.username)
        else:  # as after a sign-in: the token in this tab's sessionStorage (once: a sign-out really signs out)
            await page.goto(f"{served.url}/console/")
            await page.evaluate("([k, t]) => sessionStorage.setItem(k, t)", [TOKEN_KEY, served.token(acct)])
        if path or via != "form":
            await page.goto(f"{served.url}/console/{path.lstrip('/')}")
        return page

    return _console


async def pick(page: Page, label: str, option: str) -> None:
    """Choose ``option`` in the Element Plus select labelled ``label``, as a person does: open it, click the option
    in its own list (other selects' lists stay in the page, hidden)."""
    box = page.get_by_role("combobox", name=label)
    await box.locator("xpath=ancestor::div[contains(@class, 'el-select__wrapper')][1]").click()
    listbox = await box.get_attribute("aria-controls")
    await page.locator(f"[id='{listbox}']").get_by_role("option", name=option, exact=True).click()


# ---- screenshots ----------------------------------------------------------------------------------------------


Shot = Callable[[Page, str], Awaitable[Path]]

_CONTENT_HEIGHT = """() => Math.max(document.documentElement.scrollHeight, ...[...document.querySelectorAll('.el-main')]
    .map(e => e.getBoundingClientRect().top + e.scrollHeight))"""


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Shot:
    """``await shot(page, "brand-list")`` → ``tests/browser/artifacts/<test>/brand-list.png`` (the whole page)."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)

    async def _shot(page: Page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        # The console scrolls inside its main pane, not the document: grow the window to what the pane holds so
        # the picture shows the whole page, then give the window back.
        size = page.viewport_size or VIEWPORT
        height = await page.evaluate(_CONTENT_HEIGHT)
        if height > size["height"]:
            await page.set_viewport_size({"width": size["width"], "height": min(int(height), 6000)})
        try:
            await page.screenshot(path=str(path), full_page=True, animations="disabled")
        finally:
            if page.viewport_size != size:
                await page.set_viewport_size(size)
        return path

    return _shot
