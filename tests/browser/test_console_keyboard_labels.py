"""Keyboard and labels (issue 18: "every form can be filled and sent without a mouse; every field has a label").

* The sign-in form and the brand status change (a select, a text area, a button) filled and sent with the keyboard
  alone: each field reached with Tab, nothing clicked.
* Every page of every role's menu, the sign-in page and the wall dashboard's sign-in: every visible field has a
  label a screen reader reads (``console_steps.every_field_labelled``), and every table fits the 1440-px window
  without a sideways scroll (its header no wider than the table).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from .conftest import ACCOUNTS, PASSWORD, ConsolePage, OpenPage, Served, Shot, ensure_account
from .console_steps import every_field_labelled
from helpers import wait_receipt

pytestmark = pytest.mark.services

BRAND = {"brand_id": "kb-weaver", "name": "黎锦织娘", "region_code": "469030", "category": "culture_tourism",
         "level": "provincial"}


async def focused(page: Page) -> str:
    return str(await page.evaluate("() => document.activeElement?.id ?? ''"))


async def tab_to(page: Page, element_id: str, most: int = 80) -> None:
    """Press Tab until the field with ``element_id`` has the focus: it is reachable by keyboard, in order."""
    for _ in range(most):
        if await focused(page) == element_id:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} not reached with {most} presses of Tab (focus on #{await focused(page)})")


async def test_sign_in_and_change_a_brand_status_without_a_mouse(served: Served, open_page: OpenPage, shot: Shot) -> None:
    bureau = await ensure_account(served, ACCOUNTS["bureau"])
    r = await served.api.post("/v1/brands", json=BRAND)
    assert (await wait_receipt(served.api, r.json()["event_id"]))["status"] == "applied"

    page = await open_page(f"{served.url}/console/login")
    await tab_to(page, "login-username")
    await page.keyboard.type(bureau.username)
    await page.keyboard.press("Tab")
    assert await focused(page) == "login-password"
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{served.url}/console/bureau/brands")

    await page.goto(f"{served.url}/console/bureau/brands/{BRAND['brand_id']}")  # the address bar, not a click
    await expect(page.get_by_test_id("brand-status")).to_have_attribute("data-status", "candidate")
    await tab_to(page, "brand-status-target")
    await page.keyboard.press("Enter")  # opens the list
    for _ in range(5):
        await page.keyboard.press("ArrowDown")
        if await page.locator(".el-select-dropdown__item.is-hovering").filter(has_text="暂停").count():
            break
    await page.keyboard.press("Enter")
    await tab_to(page, "brand-status-reason", most=5)
    await page.keyboard.type("传承人外出，暂停新成员加入")
    await page.keyboard.press("Tab")  # the submit button
    assert await page.evaluate("() => document.activeElement?.textContent?.trim()") == "提交变更"
    await shot(page, "before-send")
    await page.keyboard.press("Enter")
    await expect(page.get_by_test_id("brand-status")).to_have_attribute("data-status", "suspended", timeout=20_000)
    await expect(page.locator(".history tbody tr").last).to_contain_text("传承人外出")
    brand = (await served.api.get(f"/v1/brands/{BRAND['brand_id']}")).json()
    assert brand["status"] == "suspended"


async def menu_pages(page: Page) -> list[str]:
    """The entries of the signed-in menu (what the role may open), by their Chinese titles."""
    await expect(page.locator(".el-menu-item").first).to_be_visible()
    return [t.strip() for t in await page.locator(".el-menu-item").all_inner_texts()]


WIDER_THAN_SCREEN_JS = """() => [...document.querySelectorAll('.el-table')].filter(t => t.offsetParent).map(t => {
    const head = t.querySelector('.el-table__header');
    return [t.getAttribute('aria-label') || '(unnamed table)', head ? head.offsetWidth : 0, t.clientWidth];
}).filter(([, w, c]) => w > c + 1).map(([name, w, c]) => `${name} ${w}>${c}`)"""


async def test_every_field_of_every_page_has_a_label(served: Served, console_page: ConsolePage, open_page: OpenPage,
                                                     shot: Shot) -> None:
    r = await served.api.post("/v1/brands", json=BRAND)
    assert (await wait_receipt(served.api, r.json()["event_id"]))["status"] == "applied"
    login = await open_page(f"{served.url}/console/login")
    await expect(login.get_by_label("用户名")).to_be_visible()
    await every_field_labelled(login)
    wall = await open_page(f"{served.url}/dashboard")  # no sign-in: its token form shows
    await expect(wall.locator("#signin-token")).to_be_visible()
    await every_field_labelled(wall)

    checked: list[str] = []
    wide: list[str] = []
    for role in ("workstation", "employer", "bureau", "admin"):
        page = await console_page(role, via="token")
        titles = await menu_pages(page)
        assert titles, role
        for title in titles:
            await page.locator(".el-menu-item", has_text=title).first.click()
            await expect(page.locator(".header-title")).to_have_text(title)
            await page.wait_for_load_state("networkidle")
            await every_field_labelled(page)
            wide.extend(f"{role}:{title}:{t}" for t in await page.evaluate(WIDER_THAN_SCREEN_JS))
            checked.append(f"{role}:{title}")
        if role == "bureau":  # a page with a path parameter: the brand's
            await page.goto(f"{served.url}/console/bureau/brands/{BRAND['brand_id']}")
            await expect(page.get_by_role("heading", name=BRAND["name"])).to_be_visible()
            await every_field_labelled(page)
        if role == "admin":  # the dialogs' forms
            await page.locator(".el-menu-item", has_text="账户管理").click()
            await page.get_by_role("button", name="新建账户").click()
            await expect(page.get_by_role("dialog", name="新建账户")).to_be_visible()
            await every_field_labelled(page)
            await shot(page, "admin-create-dialog")
    print(f"every field labelled on {len(checked)} menu pages: {', '.join(checked)}")
    # and every table fits the screen the console is used on (1440 px): a column behind a sideways scroll is missed
    assert wide == [], wide
    assert len(checked) >= 12
