"""Accounts for people: the password and user-name rules, the lockout arithmetic, Argon2id hashing, and the layers
(no SQL in the routers, the hashing off the event loop)."""

from __future__ import annotations

import ast
import asyncio
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from laowu import accounts_passwords as pw
from laowu.accounts_policy import (
    Lockout,
    locked_message,
    normalize_username,
    password_problems,
    retry_after_s,
    subject_of,
    unlock_clock,
    username_of,
    username_problem,
)
from laowu.settings import Settings

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 1, 0, 0, tzinfo=UTC)  # 09:00 in Beijing


def rules(password: str, username: str = "clerk-a") -> list[str]:
    return [p.rule for p in password_problems(password, username)]


@pytest.mark.parametrize(("password", "expected"), [
    ("correct-horse", []),
    ("x" * 10, []),
    ("x" * 128, []),
    ("中文密码也可以用的很长", []),
    ("x" * 9, ["password_length"]),
    ("x" * 129, ["password_length"]),
    ("", ["password_length"]),
    ("1234567890", ["password_digits"]),
    ("12345", ["password_length", "password_digits"]),
    ("１２３４５６７８９０", ["password_digits"]),  # full-width digits are digits too
    ("Clerk-Long1", ["password_is_username"]),
    ("bad\x00password!", ["password_unclean"]),
])
def test_password_rules(password: str, expected: list[str]) -> None:
    assert rules(password, "clerk-long1") == expected


def test_password_problems_name_the_field_and_speak_chinese() -> None:
    (problem,) = password_problems("short", "u1", field="new_password")
    assert problem.field == "new_password" and problem.message_zh and "10" in problem.message_zh


@pytest.mark.parametrize(("typed", "ok"), [
    ("ws-demo", True), ("admin", True), ("a.b_c-d", True), ("a" * 64, True), ("9lives", True),
    ("a", False), ("a" * 65, False), ("-lead", False), ("Upper", False), ("with space", False), ("中文", False),
    ("", False),
])
def test_user_names(typed: str, ok: bool) -> None:
    assert (username_problem(typed) is None) is ok


def test_user_names_are_case_insensitive() -> None:
    assert normalize_username("  Admin ") == "admin"


def test_subjects_name_accounts_only() -> None:
    assert username_of(subject_of("ws-demo")) == "ws-demo"
    assert username_of("credential:cred-1") is None and username_of("admin:laowu-ops") is None
    assert username_of(None) is None


def test_lockout_counts_up_to_the_limit_then_locks_and_starts_again() -> None:
    lockout = Lockout(max_failures=3, lock_s=900)
    assert lockout.after_failure(0, T0) == (1, None)
    assert lockout.after_failure(1, T0) == (2, None)
    failures, until = lockout.after_failure(2, T0)
    assert failures == 0 and until == T0 + timedelta(seconds=900)
    assert lockout.is_locked(until, T0) and lockout.is_locked(until, until - timedelta(microseconds=1))
    assert not lockout.is_locked(until, until) and not lockout.is_locked(None, T0)


def test_a_limit_of_one_locks_at_the_first_failure() -> None:
    assert Lockout(max_failures=1, lock_s=5).after_failure(0, T0) == (0, T0 + timedelta(seconds=5))


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    until = T0 + timedelta(seconds=900)
    assert retry_after_s(until, T0) == 900
    assert retry_after_s(until, T0 + timedelta(seconds=899, milliseconds=100)) == 1
    assert retry_after_s(until, until + timedelta(seconds=5)) == 1


def test_unlock_clock_is_china_time_rounded_up_to_the_minute() -> None:
    assert unlock_clock(T0 + timedelta(minutes=15)) == "09:15"
    assert unlock_clock(T0 + timedelta(minutes=15, seconds=1)) == "09:16"
    assert unlock_clock(datetime(2026, 3, 1, 15, 59, 30, tzinfo=UTC)) == "00:00"
    assert locked_message(T0 + timedelta(minutes=15)) == "账户已锁定，请于 09:15 后重试"


def test_lockout_settings_have_their_defaults_and_bounds() -> None:
    s = Settings(env="test")
    assert (s.login_max_failures, s.login_lock_s) == (5, 900.0)
    with pytest.raises(ValueError):
        Settings(env="test", login_max_failures=0)
    with pytest.raises(ValueError):
        Settings(env="test", login_lock_s=0)


def test_hashes_are_argon2id_salted_and_verify() -> None:
    first, second = pw.hash_password("correct-horse"), pw.hash_password("correct-horse")
    assert first.startswith("$argon2id$") and first != second, "a salt of its own"
    assert pw.verify_password(first, "correct-horse") and pw.verify_password(second, "correct-horse")
    assert not pw.verify_password(first, "correct-horsE")
    assert not pw.verify_password("not a hash", "correct-horse"), "a damaged hash is a mismatch, not an error"
    assert not pw.needs_rehash(first)
    weak = "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$" + "A" * 43
    assert pw.needs_rehash(weak)


async def test_hashing_runs_off_the_event_loop() -> None:
    threads: list[int] = []
    original = pw.hash_password

    def spy(password: str) -> str:
        threads.append(threading.get_ident())
        return original(password)

    pw_hash = pw.hash_password
    try:
        pw.hash_password = spy  # type: ignore[assignment]
        encoded = await pw.ahash_password("correct-horse")
    finally:
        pw.hash_password = pw_hash  # type: ignore[assignment]
    assert threads and threads[0] != threading.get_ident()
    assert await pw.averify_password(encoded, "correct-horse")
    # While a verification runs, the loop goes on serving others.
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticker = asyncio.create_task(tick())
    assert not await pw.averify_password(encoded, "wrong")
    ticker.cancel()
    assert ticks > 3


async def test_an_unknown_user_costs_a_verification_too() -> None:
    calls: list[str] = []
    original = pw.verify_password

    def spy(encoded: str, password: str) -> bool:
        calls.append(encoded)
        return original(encoded, password)

    pw.verify_password = spy  # type: ignore[assignment]
    try:
        assert not await pw.averify_password(None, "anything-at-all")
    finally:
        pw.verify_password = original  # type: ignore[assignment]
    assert calls == [pw.dummy_hash()] and calls[0].startswith("$argon2id$")
    assert not pw.needs_rehash(calls[0]), "the dummy costs what a real hash costs"


SQL_WORDS = ("SELECT ", "INSERT ", "UPDATE ", "DELETE ", "FOR UPDATE")


@pytest.mark.parametrize("router", ["api/routers/accounts.py", "api/routers/auth.py", "api/signin.py",
                                    "laowu/application/accounts.py"])
def test_routers_and_the_service_hold_no_sql(router: str) -> None:
    """Routers parse, call and render; the service applies rules; SQL is laowu.store.accounts' alone."""
    tree = ast.parse((REPO / router).read_text(encoding="utf-8"))
    texts = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    found = [t for t in texts if any(w in t for w in SQL_WORDS)]  # the store writes its SQL in capitals
    assert not found, found
    calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    assert not calls & {"fetch", "fetchrow", "fetchval", "execute", "executemany", "transaction", "acquire"}
    imports = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imports |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "asyncpg" not in imports or router.startswith("laowu/application"), "no driver in a router"


def test_the_summary_prints_the_console_and_the_demo_accounts() -> None:
    from laowu.demo import ACCOUNTS, DEMO_PASSWORD
    from laowu.stack.launcher import format_summary

    state = {"supervisor_pid": 1, "api_url": "http://127.0.0.1:8000", "demo_password": DEMO_PASSWORD,
             "demo_accounts": [{"username": u, "role": r, "org": o, "region": g} for u, _, r, o, g in ACCOUNTS]}
    text = format_summary(state, foreground=True)
    assert "http://127.0.0.1:8000/console/" in text and "http://127.0.0.1:8000/dashboard" in text
    assert f"password {DEMO_PASSWORD}" in text
    for username, org in (("ws-demo", "ws-469005-01"), ("employer-demo", "emp-sz-hotel"),
                          ("bureau-demo", "hrss-460000"), ("admin", "laowu-ops")):
        assert any(username in line and org in line for line in text.splitlines()), username
    assert "Demo accounts" not in format_summary({"api_url": "http://x"}, foreground=False)


def test_the_demo_password_passes_the_rules() -> None:
    from laowu.demo import ACCOUNTS, DEMO_PASSWORD

    assert DEMO_PASSWORD == "laowu-demo-2026"
    assert [a[2] for a in ACCOUNTS] == ["workstation", "employer", "bureau", "admin", "reviewer"]
    for username, *_ in ACCOUNTS:
        assert username_problem(username) is None and password_problems(DEMO_PASSWORD, username) == []
