"""Steps the console's stories share: what a person does with Element Plus widgets, by label and keyboard, and the
checks every page gets (every field labelled, nothing unreadable)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from playwright.async_api import Locator, Page, expect

#: Form controls a person can reach that have no label: neither a <label> (for= or wrapping), nor aria-label(ledby).
UNLABELLED_JS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && !e.disabled && e.offsetParent !== null && e.getAttribute('aria-hidden') !== 'true')
  .filter(e => !(e.labels && [...e.labels].some(l => l.textContent.trim()))
            && !(e.getAttribute('aria-label') || '').trim()
            && !(e.getAttribute('aria-labelledby') || '').split(/\\s+/)
                  .some(id => id && document.getElementById(id)?.textContent.trim())
            && !e.closest('[role=radiogroup][aria-label], [role=group][aria-label]')
            && !e.closest('.el-table'))
  .map(e => e.outerHTML.slice(0, 160))"""

async def every_field_labelled(page: Page) -> None:
    """Every visible field of the page has a label a screen reader reads (the issue: "every field has a label")."""
    missing = await page.evaluate(UNLABELLED_JS)
    assert not missing, f"fields without a label on {page.url}: {missing}"


async def choose(page: Page, label: str, text: str) -> None:
    """An Element Plus select, by keyboard: focus it by its label, type to filter, Enter picks the first match
    (the console's selects are ``filterable default-first-option``)."""
    field = page.get_by_label(label, exact=True)
    await field.focus()
    await page.keyboard.type(text)
    await expect(page.locator(".el-select-dropdown__item:visible", has_text=text).first).to_be_visible()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Escape")


async def wait_applied(api: httpx.AsyncClient, path: str, check: Any, timeout: float = 30) -> dict[str, Any]:
    """GET ``path`` until ``check(body)`` holds (the ledger applies asynchronously); returns the body."""
    deadline = time.monotonic() + timeout
    while True:
        r = await api.get(path)
        if r.status_code == 200 and check(r.json()):
            return dict(r.json())
        assert time.monotonic() < deadline, f"{path}: {r.status_code} {r.text[:500]}"
        await asyncio.sleep(0.2)


async def lookup(api: httpx.AsyncClient, id_number: str) -> dict[str, Any] | None:
    r = await api.post("/v1/workers:lookup", json={"id_number": id_number})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    return items[0] if items else None


async def see(page: Page, text: str, timeout: float = 20_000) -> None:
    await expect(page.get_by_text(text).first).to_be_visible(timeout=timeout)


def table(page: Page, name: str) -> Locator:
    """An Element Plus table by its aria-label (its header and body are two <table>s inside one labelled <div>)."""
    return page.locator(f'.el-table[aria-label="{name}"] .el-table__body-wrapper')
