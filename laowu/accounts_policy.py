"""The rules of accounts for people (账户): what a user name and a password may be, and the lockout arithmetic.

Pure functions, no I/O, no clock of their own (``now`` is passed in): the service (``laowu.application.accounts``)
applies them, the unit tests hold them. The password rules are few on purpose (NIST SP 800-63B: length, not
composition rules); the lockout bounds online guessing per account, the per-address rate limit of the sign-in
route bounds it per client.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from laowu.domain.errors import DomainError
from schemas.common import unclean_character

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
"""2–64 characters, lower-case ASCII letters, digits, ``.``, ``_``, ``-``: typed on any keyboard, safe in a URL
(``/v1/accounts/{username}``) and in the audit log's ``actor`` (``account:<username>``)."""
_USERNAME = re.compile(USERNAME_PATTERN)

PASSWORD_MIN = 10
PASSWORD_MAX = 128
"""Argon2 takes any length; the upper bound keeps a sign-in from being a way to make the server hash megabytes."""

SUBJECT_PREFIX = "account:"
"""A token issued by a sign-in names its account in ``sub`` as ``account:<username>`` (API keys: ``credential:…``)."""

CHINA = ZoneInfo("Asia/Shanghai")


def normalize_username(typed: str) -> str:
    """User names are case-insensitive: ``Admin`` and ``admin`` are one account (stored lower-case)."""
    return typed.strip().lower()


def username_problem(username: str) -> DomainError | None:
    if _USERNAME.fullmatch(username):
        return None
    return DomainError("username", "username_format",
                       "2-64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit",
                       "用户名为 2–64 位小写字母、数字或 . _ -，以字母或数字开头")


def password_problems(password: str, username: str, field: str = "password") -> list[DomainError]:
    """Why ``password`` may not be the password of ``username`` (empty when it may).

    10–128 characters, not only digits (a phone or ID number is the first guess), not the user name, clean text
    (a control character could not be typed again at the sign-in form)."""
    problems: list[DomainError] = []
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        problems.append(DomainError(field, "password_length",
                                    f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters",
                                    f"密码长度须为 {PASSWORD_MIN}–{PASSWORD_MAX} 个字符"))
    if password.isdigit():
        problems.append(DomainError(field, "password_digits", "a password may not be only digits",
                                    "密码不能全部是数字"))
    if normalize_username(password) == normalize_username(username) and username:
        problems.append(DomainError(field, "password_is_username", "a password may not be the user name",
                                    "密码不能与用户名相同"))
    if unclean_character(password) is not None:
        problems.append(DomainError(field, "password_unclean", "a password may not contain control characters",
                                    "密码不能包含不可见字符"))
    return problems


@dataclass(frozen=True)
class Lockout:
    """``max_failures`` wrong passwords in a row lock the account for ``lock_s`` seconds (锁定)."""

    max_failures: int
    lock_s: float

    def is_locked(self, locked_until: datetime | None, now: datetime) -> bool:
        return locked_until is not None and now < locked_until

    def after_failure(self, failures: int, now: datetime) -> tuple[int, datetime | None]:
        """(failures to store, locked_until to store) after one more wrong password.

        The failure that reaches ``max_failures`` locks and starts the count again, so that once the lock has
        passed a person has ``max_failures`` tries again (not one). Failures while locked are not counted: the
        service refuses those before looking at the password, so an attacker cannot keep a person locked out
        longer than ``lock_s`` after their last guess by guessing on."""
        failures += 1
        if failures >= self.max_failures:
            return 0, now + timedelta(seconds=self.lock_s)
        return failures, None


def retry_after_s(locked_until: datetime, now: datetime) -> int:
    """Whole seconds until the lock is over (``Retry-After``), at least 1."""
    return max(1, math.ceil((locked_until - now).total_seconds()))


def unlock_clock(locked_until: datetime) -> str:
    """``HH:MM`` China time at which a retry is allowed: rounded up to the next minute, so trying at the time
    shown never meets the lock again."""
    local = locked_until.astimezone(CHINA)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return local.strftime("%H:%M")


def locked_message(locked_until: datetime) -> str:
    return f"账户已锁定，请于 {unlock_clock(locked_until)} 后重试"


def subject_of(username: str) -> str:
    return SUBJECT_PREFIX + username


def username_of(subject: str | None) -> str | None:
    """The account a token's subject names, or None for tokens of API keys and of ``laowu token``."""
    if subject and subject.startswith(SUBJECT_PREFIX):
        return subject[len(SUBJECT_PREFIX):]
    return None
