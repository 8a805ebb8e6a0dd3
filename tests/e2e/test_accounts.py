"""Accounts for people over HTTP (issue 18): sign-in and sign-out, lockout, sessions revoked by a password change,
a disable or a re-role, the admin routes, the audit log, the OpenAPI document."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from laowu.settings import Settings
from laowu.stack.processes import child_env, laowu_argv

from conftest import REPO, serving
from helpers import bearer

pytestmark = pytest.mark.services

PASSWORD = "correct-horse-42"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make(api: httpx.AsyncClient, username: str, role: str = "workstation", org: str = "ws-469005-01",
               region: str | None = "469005", password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    r = await api.post("/v1/accounts", json={"username": username, "display_name": f"{username} 的名字", "role": role,
                                             "org": org, "region": region, "password": password, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def sign_in(api: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await api.post("/v1/auth/login", json={"username": username, "password": password},
                          headers={"Authorization": ""})


async def token_of(api: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    r = await sign_in(api, username, password)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


async def test_sign_in_who_am_i_and_sign_out(api: httpx.AsyncClient) -> None:
    await make(api, "clerk-a")
    r = await sign_in(api, "Clerk-A")  # user names are case-insensitive
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["account"] == {"username": "clerk-a", "display_name": "clerk-a 的名字", "role": "workstation",
                               "org": "ws-469005-01", "region": "469005"}
    mine = auth(body["access_token"])
    me = (await api.get("/v1/auth/me", headers=mine)).json()
    assert {k: me[k] for k in ("username", "display_name", "role", "org", "region")} == body["account"]
    # The token is the API's ordinary bearer token: the workstation's routes take it.
    assert (await api.get("/v1/alerts", headers=mine)).status_code == 200
    # A token of `laowu token` (no account) is a credential too, without a user name.
    other = (await api.get("/v1/auth/me")).json()
    assert other["username"] is None and other["display_name"] is None and other["role"] == "admin"
    assert (await api.post("/v1/auth/logout", headers=mine)).status_code == 204
    r = await api.get("/v1/auth/me", headers=mine)
    assert r.status_code == 401 and "signed out" in r.json()["detail"]


async def test_wrong_password_and_unknown_user_get_the_same_answer(api: httpx.AsyncClient) -> None:
    await make(api, "clerk-b")
    wrong = await sign_in(api, "clerk-b", "not-the-password")
    unknown = await sign_in(api, "nobody-here", "not-the-password")
    malformed = await sign_in(api, "Not A User Name!", "not-the-password")
    for r in (wrong, unknown, malformed):
        assert r.status_code == 401, r.text
        assert r.json() == {"detail": [{"loc": ["body", "password"], "msg": "用户名或密码错误", "msg_zh": "用户名或密码错误",
                                        "type": "bad_credentials"}]}
        assert r.headers.get("www-authenticate") == "Bearer"


async def test_bad_bodies_are_field_level_422(api: httpx.AsyncClient) -> None:
    for body in ({}, {"username": "a"}, {"username": "a", "password": ""}, {"username": "a", "password": 5},
                 {"username": "a", "password": "x" * 2000}, {"username": "a", "password": "pw", "extra": 1}):
        r = await api.post("/v1/auth/login", json=body, headers={"Authorization": ""})
        assert r.status_code == 422, (body, r.text)
        assert all({"loc", "msg", "type"} <= set(e) for e in r.json()["detail"])
    r = await api.post("/v1/auth/login", content=b"{not json", headers={"Authorization": "",
                                                                         "Content-Type": "application/json"})
    assert r.status_code == 422


async def test_lockout_after_n_failures_and_unlock_after_the_lock_time(settings: Settings) -> None:
    short = settings.model_copy(update={"login_max_failures": 3, "login_lock_s": 3.0})
    async with serving(short) as url, httpx.AsyncClient(base_url=url, timeout=30,
                                                         headers=bearer("admin", "laowu-ops", settings=short)) as api:
        await make(api, "clerk-c")
        for _ in range(2):
            assert (await sign_in(api, "clerk-c", "wrong-password-1")).status_code == 401
        third = await sign_in(api, "clerk-c", "wrong-password-1")
        assert third.status_code == 403, third.text
        (item,) = third.json()["detail"]
        assert item["type"] == "account_locked" and item["loc"] == ["body", "username"]
        assert item["msg"].startswith("账户已锁定，请于 ") and item["msg"].endswith(" 后重试")
        assert 1 <= int(third.headers["retry-after"]) <= 3
        # Locked: even the right password is refused, and the admin list shows the lock.
        locked = await sign_in(api, "clerk-c")
        assert locked.status_code == 403 and locked.json()["detail"][0]["type"] == "account_locked"
        listed = {a["username"]: a for a in (await api.get("/v1/accounts")).json()["items"]}
        assert listed["clerk-c"]["locked_until"] is not None
        await asyncio.sleep(3.2)
        assert (await sign_in(api, "clerk-c")).status_code == 200
        # A success forgets the count: two more failures do not lock again.
        for _ in range(2):
            assert (await sign_in(api, "clerk-c", "wrong-password-1")).status_code == 401
        assert (await sign_in(api, "clerk-c")).status_code == 200


async def test_disabled_account_is_refused_and_its_live_token_revoked(api: httpx.AsyncClient) -> None:
    await make(api, "clerk-d")
    token = await token_of(api, "clerk-d")
    assert (await api.get("/v1/auth/me", headers=auth(token))).status_code == 200
    r = await api.patch("/v1/accounts/clerk-d", json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert (await api.get("/v1/auth/me", headers=auth(token))).status_code == 401
    refused = await sign_in(api, "clerk-d")
    assert refused.status_code == 403
    assert refused.json()["detail"] == [{"loc": ["body", "username"], "msg": "账户已停用，请联系管理员",
                                         "msg_zh": "账户已停用，请联系管理员", "type": "account_disabled"}]
    # Only the right password learns that the account is disabled.
    assert (await sign_in(api, "clerk-d", "wrong-password-1")).status_code == 401
    assert (await api.patch("/v1/accounts/clerk-d", json={"enabled": True})).status_code == 200
    assert (await sign_in(api, "clerk-d")).status_code == 200


async def test_password_change_revokes_the_other_session_not_this_one(api: httpx.AsyncClient) -> None:
    await make(api, "clerk-e")
    here, there = await token_of(api, "clerk-e"), await token_of(api, "clerk-e")
    new = "a-brand-new-passphrase"
    # The rules, field by field (and the current password proven first).
    for body, field, rule in (
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password", "password_length"),
        ({"current_password": PASSWORD, "new_password": "12345678901"}, "new_password", "password_digits"),
        ({"current_password": PASSWORD, "new_password": "Clerk-E"}, "new_password", "password_length"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password", "password_unchanged"),
        ({"current_password": "wrong-password-1", "new_password": new}, "current_password", "bad_credentials"),
    ):
        r = await api.post("/v1/auth/password", json=body, headers=auth(here))
        assert r.status_code == 422, (body, r.text)
        assert any(e["loc"] == ["body", field] and e["type"] == rule and e.get("msg_zh") for e in r.json()["detail"]), r.text
    r = await api.post("/v1/auth/password", json={"current_password": PASSWORD, "new_password": new}, headers=auth(here))
    assert r.status_code == 204, r.text
    assert (await api.get("/v1/auth/me", headers=auth(here))).status_code == 200, "this session stays"
    assert (await api.get("/v1/auth/me", headers=auth(there))).status_code == 401, "the other is signed out"
    assert (await sign_in(api, "clerk-e")).status_code == 401
    assert (await sign_in(api, "clerk-e", new)).status_code == 200
    # A token that is not a person's has no password to change.
    r = await api.post("/v1/auth/password", json={"current_password": PASSWORD, "new_password": new})
    assert r.status_code == 403


async def test_password_is_the_username_refused(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/accounts", json={"username": "clerk-long-name", "display_name": "x", "role": "workstation",
                                             "org": "ws-1", "region": "469005", "password": "Clerk-Long-Name"})
    assert r.status_code == 422
    assert [e["type"] for e in r.json()["detail"]] == ["password_is_username"]


async def test_admin_creates_re_roles_and_resets(api: httpx.AsyncClient, settings: Settings) -> None:
    created = await make(api, "bureau-x", role="bureau", org="hrss-460000", region="460000")
    assert created["enabled"] is True and created["locked_until"] is None and "password_hash" not in created
    again = await api.post("/v1/accounts", json={"username": "bureau-x", "display_name": "x", "role": "bureau",
                                                 "org": "b", "region": "460000", "password": PASSWORD})
    assert again.status_code == 409 and again.json()["detail"][0]["type"] == "account_exists"
    for bad, rule in (({"role": "workstation", "region": None}, "region_required"),
                      ({"region": "999999"}, "region_unknown")):
        r = await api.post("/v1/accounts", json={"username": "y-1", "display_name": "y", "role": "bureau",
                                                 "org": "b", "region": "460000", "password": PASSWORD, **bad})
        assert r.status_code == 422 and r.json()["detail"][0]["type"] == rule, r.text
    token = await token_of(api, "bureau-x")
    r = await api.patch("/v1/accounts/bureau-x", json={"display_name": "新名字"})
    assert r.status_code == 200 and r.json()["display_name"] == "新名字"
    assert (await api.get("/v1/auth/me", headers=auth(token))).json()["display_name"] == "新名字", \
        "a new display name keeps the session"
    r = await api.patch("/v1/accounts/bureau-x", json={"role": "workstation", "org": "ws-460000-01"})
    assert r.status_code == 200 and r.json()["role"] == "workstation"
    assert (await api.get("/v1/auth/me", headers=auth(token))).status_code == 401, "re-roling revokes"
    fresh = await token_of(api, "bureau-x")
    assert (await api.get("/v1/auth/me", headers=auth(fresh))).json()["role"] == "workstation"
    for bad in ({"role": None}, {"enabled": None}, {"password": "x"}, {"enabled": "maybe"}):
        assert (await api.patch("/v1/accounts/bureau-x", json=bad)).status_code == 422, bad
    assert (await api.patch("/v1/accounts/nobody-1", json={"display_name": "x"})).status_code == 404
    r = await api.post("/v1/accounts/bureau-x/password", json={"new_password": "reset-by-the-admin"})
    assert r.status_code == 204
    assert (await api.get("/v1/auth/me", headers=auth(fresh))).status_code == 401, "a reset revokes every session"
    assert (await sign_in(api, "bureau-x", "reset-by-the-admin")).status_code == 200
    assert (await api.post("/v1/accounts/nobody-1/password", json={"new_password": "reset-by-the-admin"})).status_code == 404
    # Paging by user name.
    for n in range(3):
        await make(api, f"page-{n}")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = (await api.get("/v1/accounts", params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        seen += [a["username"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and {"bureau-x", "page-0", "page-1", "page-2"} <= set(seen)
    assert len(seen) == len(set(seen))


async def test_only_admins_administer_accounts(api: httpx.AsyncClient, settings: Settings) -> None:
    await make(api, "clerk-f")
    person = auth(await token_of(api, "clerk-f"))
    for role, org, region in (("workstation", "ws-1", "469005"), ("employer", "emp-1", "440300"),
                              ("bureau", "hrss-460000", "460000")):
        other = bearer(role, org, region, settings)
        for headers in (other, person):
            assert (await api.get("/v1/accounts", headers=headers)).status_code == 403
            assert (await api.post("/v1/accounts", headers=headers, json={
                "username": "z-1", "display_name": "z", "role": "admin", "org": "o",
                "password": PASSWORD})).status_code == 403
            assert (await api.patch("/v1/accounts/clerk-f", headers=headers, json={"enabled": False})).status_code == 403
            assert (await api.post("/v1/accounts/clerk-f/password", headers=headers,
                                   json={"new_password": "x" * 12})).status_code == 403
    assert (await api.get("/v1/auth/me", headers=person)).status_code == 200


async def test_every_account_action_is_audited_without_secrets(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    await make(api, "clerk-g")
    await sign_in(api, "clerk-g", "wrong-password-9")
    await sign_in(api, "ghost-user", "wrong-password-9")
    token = await token_of(api, "clerk-g")
    await api.post("/v1/auth/password", headers=auth(token),
                   json={"current_password": PASSWORD, "new_password": "second-passphrase-7"})
    await api.patch("/v1/accounts/clerk-g", json={"display_name": "改名"})
    await api.post("/v1/accounts/clerk-g/password", json={"new_password": "third-passphrase-77"})
    await api.patch("/v1/accounts/clerk-g", json={"enabled": False})
    assert (await sign_in(api, "clerk-g", "third-passphrase-77")).status_code == 403  # disabled
    rows = await pool.fetch("SELECT actor, role, org, action, ip, detail FROM audit_log ORDER BY seq")
    actions = [r["action"] for r in rows]
    for action in ("account.create", "account.sign_in_failed", "account.sign_in", "account.password_change",
                   "account.update", "account.password_reset", "account.disable", "account.sign_in_refused"):
        assert action in actions, (action, actions)
    mine = [r for r in rows if r["actor"] == "account:clerk-g"]
    assert {"account.sign_in_failed", "account.sign_in", "account.password_change"} <= {r["action"] for r in mine}
    assert any(r["actor"] == "anonymous" and r["action"] == "account.sign_in_failed" for r in rows)
    text = json.dumps([dict(r) for r in rows], default=str)
    for secret in (PASSWORD, "wrong-password-9", "second-passphrase-7", "third-passphrase-77", "$argon2", "ghost-user"):
        assert secret not in text, secret
    # Through the API too, by the account's actor name.
    listed = (await api.get("/v1/audit", params={"actor": "account:clerk-g"})).json()["items"]
    assert {e["action"] for e in listed} >= {"account.sign_in", "account.password_change"}


async def test_sign_out_is_audited_and_works_for_both_kinds_of_token(api: httpx.AsyncClient, pool: asyncpg.Pool,
                                                                     settings: Settings) -> None:
    await make(api, "clerk-h")
    person = auth(await token_of(api, "clerk-h"))
    machine = bearer("workstation", "ws-9", "469005", settings)
    for headers in (person, machine):
        assert (await api.post("/v1/auth/logout", headers=headers)).status_code == 204
        assert (await api.get("/v1/auth/me", headers=headers)).status_code == 401
    outs = await pool.fetch("SELECT actor FROM audit_log WHERE action = 'account.sign_out'")
    assert {r["actor"] for r in outs} == {"account:clerk-h", "workstation:ws-9"}


async def test_sign_in_is_rate_limited_by_client_address(settings: Settings) -> None:
    tight = settings.model_copy(update={"route_rate_limits": "token=1/20,login=0.01/2"})
    async with serving(tight) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
        answers = [(await api.post("/v1/auth/login", json={"username": "x-1", "password": "y"})).status_code
                   for _ in range(3)]
        assert answers[:2] == [401, 401] and answers[2] == 429


async def test_openapi_names_the_operations(api: httpx.AsyncClient) -> None:
    doc = (await api.get("/openapi.json")).json()
    ids = {op["operationId"]: (method, path) for path, ops in doc["paths"].items() for method, op in ops.items()}
    assert ids["signIn"] == ("post", "/v1/auth/login")
    assert ids["whoAmI"] == ("get", "/v1/auth/me")
    assert ids["changePassword"] == ("post", "/v1/auth/password")
    assert ids["listAccounts"] == ("get", "/v1/accounts")
    assert ids["createAccount"] == ("post", "/v1/accounts")
    assert ids["updateAccount"] == ("patch", "/v1/accounts/{username}")
    assert ids["resetAccountPassword"] == ("post", "/v1/accounts/{username}/password")
    login = doc["paths"]["/v1/auth/login"]["post"]
    assert login["security"] == [] and {"401", "403", "422", "429"} <= set(login["responses"])


def _cli(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(laowu_argv("account", "create", *args), input=stdin, env=child_env(settings), cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_cli_creates_the_first_admin_from_stdin_or_a_file(settings: Settings, tmp_path: Path) -> None:
    made = _cli(settings, "--role", "admin", "--username", "root-1", "--org", "laowu-ops", stdin="first-admin-pass\n")
    assert made.returncode == 0, made.stderr
    assert "first-admin-pass" not in made.stdout + made.stderr
    weak = _cli(settings, "--role", "admin", "--username", "root-2", "--org", "laowu-ops", stdin="1234567890\n")
    assert weak.returncode == 2 and "password" in weak.stderr and "密码不能全部是数字" in weak.stderr
    bad_org = _cli(settings, "--role", "admin", "--username", "root-3", "--org", "has space", stdin="good-password-1\n")
    assert bad_org.returncode == 2 and "org" in bad_org.stderr
    secret = tmp_path / "pw"
    secret.write_text("a password with spaces \n", encoding="utf-8")
    clerk = _cli(settings, "--role", "workstation", "--username", "clerk-cli", "--org", "ws-469005-01", "--region",
                 "469005", "--display-name", "文昌工作站", "--password-file", str(secret))
    assert clerk.returncode == 0, clerk.stderr
    again = _cli(settings, "--role", "admin", "--username", "root-1", "--org", "laowu-ops", stdin="first-admin-pass\n")
    assert again.returncode == 1 and "exists" in again.stderr

    async def check() -> None:
        async with serving(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as api:
            r = await sign_in(api, "root-1", "first-admin-pass")
            assert r.status_code == 200 and r.json()["account"]["role"] == "admin", r.text
            admin = auth(r.json()["access_token"])
            r = await sign_in(api, "clerk-cli", "a password with spaces ")
            assert r.status_code == 200 and r.json()["account"]["display_name"] == "文昌工作站", r.text
            # The first admin administers the others in the console's routes.
            assert (await api.get("/v1/accounts", headers=admin)).status_code == 200
            audit = (await api.get("/v1/audit", headers=admin)).json()["items"]
            created = [e for e in audit if e["action"] == "account.create"]
            assert len(created) == 2 and all(e["actor"].startswith("cli:") for e in created)

    asyncio.run(check())


async def test_demo_accounts_one_per_role_as_the_contract_names_them(api: httpx.AsyncClient) -> None:
    from laowu.demo import DEMO_PASSWORD, create_demo_accounts

    assert await create_demo_accounts(api) == ["ws-demo", "employer-demo", "bureau-demo", "admin", "reviewer-demo"]
    await create_demo_accounts(api)  # a second `make run` leaves them as they are
    expected = {"ws-demo": ("workstation", "ws-469005-01", "469005"),
                "employer-demo": ("employer", "emp-sz-hotel", "440300"),
                "bureau-demo": ("bureau", "hrss-460000", "460000"), "admin": ("admin", "laowu-ops", None),
                "reviewer-demo": ("reviewer", "expert-panel-460000", "460000")}  # issue 21: 评审专家
    for username, (role, org, region) in expected.items():
        r = await sign_in(api, username, DEMO_PASSWORD)
        assert r.status_code == 200, r.text
        account = r.json()["account"]
        assert (account["role"], account["org"], account["region"]) == (role, org, region)


async def test_a_sign_in_that_raced_a_change_opens_no_session(api: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    """The row lock serializes a sign-in with a disable or a password change (laowu.store.accounts): a sign-in that
    verified the password of the account as it was before finds, when it opens its session, that it changed."""
    from laowu.accounts_passwords import hash_password
    from laowu.store import accounts as store

    await make(api, "clerk-r")
    seen = await store.get(pool, "clerk-r")
    assert seen is not None
    assert await store.set_password(pool, "clerk-r", hash_password("another-passphrase"), expected_hash=None,
                                    keep_session=None) == []
    assert await store.open_session(pool, seen, jti="j-1", expires=2_000_000_000, may_open=lambda a: True) is None
    assert await store.set_password(pool, "clerk-r", hash_password("third-passphrase"),
                                    expected_hash=seen.password_hash, keep_session=None) is None, "a stale proof"
    fresh = await store.get(pool, "clerk-r")
    assert fresh is not None
    opened = await store.open_session(pool, fresh, jti="j-2", expires=2_000_000_000, may_open=lambda a: a.enabled)
    assert opened is not None
    done = await store.update(pool, "clerk-r", {"enabled": False}, lambda before, after: before.enabled != after.enabled)
    assert done is not None and done[2] == [("j-2", 2_000_000_000)]
    assert await pool.fetchval("SELECT subject FROM revoked_tokens WHERE jti = 'j-2'") == "account:clerk-r"
    assert await store.open_session(pool, fresh, jti="j-3", expires=2_000_000_000, may_open=lambda a: a.enabled) is None
    assert await pool.fetchval("SELECT count(*) FROM account_sessions WHERE username = 'clerk-r'") == 0
