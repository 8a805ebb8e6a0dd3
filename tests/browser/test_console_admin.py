"""The admin's story through the console: create an account (a bad password first, refused next to the field),
re-role it and reset its password, disable it, and the disabled account cannot sign in; the audit log shows it all. Screenshots in
``tests/browser/artifacts/test_admin_story/``."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from .conftest import PASSWORD, ConsolePage, OpenPage, Served, Shot, pick

pytestmark = pytest.mark.services

NEW = {"username": "ws-wanning-02", "display_name": "万宁市劳务工作站 李娜", "org": "ws-469006-02", "region": "469006"}


async def test_admin_story(served: Served, console_page: ConsolePage, open_page: OpenPage, shot: Shot) -> None:
    page = await console_page("admin")
    await expect(page).to_have_url(f"{served.url}/console/admin/accounts")
    rows = page.locator(".accounts tbody tr")
    await expect(rows.filter(has_text="admin")).to_have_count(1)
    await shot(page, "01-accounts")

    await page.get_by_role("button", name="新建账户").click()
    dialog = page.get_by_role("dialog", name="新建账户")
    await dialog.get_by_label("用户名").fill(NEW["username"])
    await dialog.get_by_label("显示名称").fill(NEW["display_name"])
    await pick(page, "角色", "劳务工作站")
    await dialog.get_by_label("单位编号").fill(NEW["org"])
    await dialog.get_by_label("管辖地区代码").fill(NEW["region"])
    await dialog.get_by_label("初始密码").fill("1234567890")  # all digits: the API refuses it, next to the field
    await dialog.get_by_role("button", name="创建").click()
    error = dialog.locator(".el-form-item.is-error").filter(has=page.get_by_label("初始密码"))
    await expect(error.locator(".el-form-item__error")).to_be_visible()
    message = await error.locator(".el-form-item__error").inner_text()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), f"not Chinese: {message!r}"
    await shot(page, "02-create-refused-password")
    await dialog.get_by_label("初始密码").fill(PASSWORD)
    await dialog.get_by_role("button", name="创建").click()
    await expect(dialog).to_be_hidden()
    row = rows.filter(has_text=NEW["username"])
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("劳务工作站")
    await expect(row.locator("[data-account-state]")).to_have_attribute("data-account-state", "enabled")
    await shot(page, "03-created")

    # Re-roled: she moves to the county bureau; then her password is reset.
    await row.get_by_role("button", name=f"修改 {NEW['username']}").click()
    edit = page.get_by_role("dialog", name=f"修改账户 {NEW['username']}")
    await pick(page, "角色", "人社部门")
    await edit.get_by_label("单位编号").fill("hrss-469006")
    await edit.get_by_role("button", name="保存").click()
    await expect(edit).to_be_hidden()
    await expect(row).to_contain_text("人社部门")
    await expect(row).to_contain_text("hrss-469006")
    await row.get_by_role("button", name=f"重置 {NEW['username']} 的密码").click()
    reset = page.get_by_role("dialog", name=f"重置密码 {NEW['username']}")
    new_password = "kaishi-xin-2026"
    await reset.get_by_label("新密码").fill(new_password)
    await reset.get_by_role("button", name="重置").click()
    await expect(reset).to_be_hidden()
    await shot(page, "04-re-roled-and-reset")

    # She signs in with the new password (a second browser, at her own PC) and lands in the bureau's pages.
    clerk = await open_page(f"{served.url}/console/login")
    await clerk.get_by_label("用户名").fill(NEW["username"])
    await clerk.get_by_label("密码").fill(new_password)
    await clerk.get_by_label("密码").press("Enter")
    await expect(clerk).to_have_url(f"{served.url}/console/bureau/brands")

    await row.get_by_role("button", name=f"停用 {NEW['username']}").click()
    confirm = page.get_by_role("dialog", name="停用账户")
    await expect(confirm).to_contain_text("无法登录")
    await shot(page, "05-disable-confirm")
    await confirm.get_by_role("button", name="停用").click()
    await expect(row.locator("[data-account-state]")).to_have_attribute("data-account-state", "disabled")
    await shot(page, "06-disabled")

    # The disabled account cannot sign in: told so next to the form, still on the sign-in page.
    again = await open_page(f"{served.url}/console/login")
    await again.get_by_label("用户名").fill(NEW["username"])
    await again.get_by_label("密码").fill(new_password)
    await again.get_by_role("button", name="登录").click()
    await expect(again.get_by_text("账户已停用")).to_be_visible()
    await expect(again).to_have_url(f"{served.url}/console/login")
    assert await again.evaluate("() => sessionStorage.getItem('laowu.console.token')") is None
    await shot(again, "07-disabled-cannot-sign-in")

    # The audit log: the creation, the disabling and the refused sign-in, by whom.
    await page.get_by_role("menuitem", name="审计日志").click()
    audit = page.locator(".audit tbody")
    for action in ("account.create", "account.update", "account.password_reset", "account.disable",
                   "account.sign_in_refused"):
        entry = audit.locator("tr").filter(has=page.locator(f'[data-action="{action}"]')).filter(has_text=NEW["username"])
        await expect(entry).to_have_count(1)
    await expect(audit).to_contain_text("停用账户登录被拒")
    await shot(page, "08-audit")

    # The ledger of accounts, over the API: disabled, and the sign-in refused with the contract's answer.
    accounts = (await served.api.get("/v1/accounts")).json()["items"]
    made = next(a for a in accounts if a["username"] == NEW["username"])
    assert (made["enabled"], made["role"], made["org"], made["region"]) == (False, "bureau", "hrss-469006", NEW["region"])
    r = await served.api.post("/v1/auth/login", json={"username": NEW["username"], "password": new_password},
                              headers={"Authorization": ""})
    assert r.status_code == 403 and r.json()["detail"][0]["type"] == "account_disabled"
