"""Accounts for people: sign-in, sign-out's companions (who am I, change my password) and their administration.

One service for every door (the HTTP routes in ``api.routers.accounts`` and ``api.routers.auth``, the
``laowu account`` command): the rules are ``laowu.accounts_policy``, the hashing ``laowu.accounts_passwords``, the
SQL ``laowu.store.accounts``. It answers with the application's errors (and :class:`SignInRefused`); each door
renders them. Every account action goes through :attr:`Door.audit`, with what was done and never a password or a
hash.

Sessions: a sign-in issues the same bearer token as ``POST /v1/auth/token`` (``laowu.auth.issue``), its subject
``account:<username>``, and records its ``jti`` in ``account_sessions``. Revoking sessions (a password change: the
others; disabling, re-roling, moving to another organization or region, an admin's reset: all) moves those ids into
``revoked_tokens``, the list every replica checks on every request; :attr:`Door.revoked` tells this replica at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
from pydantic import TypeAdapter, ValidationError

from laowu import auth
from laowu.accounts_passwords import ahash_password, averify_password, needs_rehash
from laowu.accounts_policy import (
    Lockout,
    normalize_username,
    password_problems,
    subject_of,
    username_of,
    username_problem,
)
from laowu.application.errors import Conflict, Forbidden, Invalid
from laowu.domain import regions
from laowu.domain.errors import DomainError
from laowu.settings import Settings
from laowu.store import accounts as store
from laowu.store.accounts import Account
from laowu.store.errors import NotFound
from schemas.common import Actor, Identifier, Name

Audit = Callable[[Actor | None, str, dict[str, Any]], Awaitable[None]]
"""Writes one audit entry: who (None: nobody we know, a sign-in naming no account), the action, its detail."""

RefusalKind = Literal["bad_credentials", "account_locked", "account_disabled"]


class SignInRefused(Exception):
    """A sign-in (or a password change) refused: wrong user name or password, locked, or disabled."""

    def __init__(self, kind: RefusalKind, locked_until: datetime | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.locked_until = locked_until


class NotAnAccount(Forbidden):
    """The token is not a person's (an API key's, ``laowu token``'s): it has no password to change (403)."""


@dataclass(frozen=True)
class Door:
    """What the service needs from the door that calls it."""

    pool: asyncpg.Pool
    settings: Settings
    audit: Audit
    revoked: Callable[[Iterable[str]], None] = lambda jtis: None
    """Tells this process's revocation list which token ids were just revoked (the other replicas reread it)."""

    @property
    def lockout(self) -> Lockout:
        return Lockout(self.settings.login_max_failures, self.settings.login_lock_s)


@dataclass(frozen=True)
class Session:
    access_token: str
    expires_in: int
    account: Account


def actor_of(account: Account) -> Actor:
    """The actor an account's tokens stand for (and its audit entries name)."""
    return Actor(role=account.role, org=account.org, region=account.region,  # type: ignore[arg-type]
                 subject=subject_of(account.username))


def now() -> datetime:
    return datetime.now(UTC)


def public(account: Account, at: datetime | None = None) -> dict[str, Any]:
    """The account as the API shows it: never the hash; ``locked_until`` only while the lock holds."""
    locked = account.locked_until if account.locked_until is not None and (at or now()) < account.locked_until else None
    return {"username": account.username, "display_name": account.display_name, "role": account.role,
            "org": account.org, "region": account.region, "enabled": account.enabled, "locked_until": locked,
            "password_changed_at": account.password_changed_at, "created_at": account.created_at,
            "updated_at": account.updated_at}


# ---- sign-in --------------------------------------------------------------------------------------------------

async def sign_in(door: Door, typed_username: str, password: str) -> Session:
    """A bearer token for the account, or :class:`SignInRefused`.

    An unknown user name and a wrong password get the same answer after the same work (a verification against a
    dummy hash). The password is checked before "disabled" is said, so only who knows it learns that. A locked
    account is refused without looking at the password."""
    lockout, at = door.lockout, now()
    username = normalize_username(typed_username)
    account = await store.get(door.pool, username) if username_problem(username) is None else None
    if account is None:
        await averify_password(None, password)
        # The typed name is not recorded: people type their password into the user-name field.
        await door.audit(None, "account.sign_in_failed", {"reason": "bad_credentials"})
        raise SignInRefused("bad_credentials")
    who = actor_of(account)
    if lockout.is_locked(account.locked_until, at):
        await door.audit(who, "account.sign_in_locked", {"locked_until": _iso(account.locked_until)})
        raise SignInRefused("account_locked", account.locked_until)
    if not await averify_password(account.password_hash, password):
        await _count_failure(door, account, "account.sign_in_failed")
    if not account.enabled:
        await door.audit(who, "account.sign_in_refused", {"reason": "account_disabled"})
        raise SignInRefused("account_disabled")
    rehashed = await ahash_password(password) if needs_rehash(account.password_hash) else None
    token = auth.issue(door.settings, role=account.role, org=account.org, region=account.region,
                       subject=subject_of(account.username))
    _, expires, jti = auth.verify_claims(door.settings, token)
    opened = await store.open_session(door.pool, account, jti=jti, expires=expires, rehashed=rehashed,
                                      may_open=lambda a: a.enabled and not lockout.is_locked(a.locked_until, now()))
    if opened is None:  # disabled, re-roled, locked or given a new password while we verified: as a wrong password
        await door.audit(who, "account.sign_in_failed", {"reason": "changed_meanwhile"})
        raise SignInRefused("bad_credentials")
    await door.audit(actor_of(opened), "account.sign_in", {"session": jti})
    return Session(token, max(0, expires - int(at.timestamp())), opened)


async def _count_failure(door: Door, account: Account, action: str) -> None:
    """Count a wrong password and refuse: locked when this one reached the limit, else bad credentials."""
    lockout, at = door.lockout, now()
    after = await store.record_failure(door.pool, account.username, lockout.after_failure,
                                       lambda until: lockout.is_locked(until, at), at)
    who = actor_of(account)
    if after is not None and lockout.is_locked(after.locked_until, at):
        await door.audit(who, "account.locked", {"reason": "bad_credentials", "locked_until": _iso(after.locked_until),
                                                 "max_failures": lockout.max_failures})
        raise SignInRefused("account_locked", after.locked_until)
    await door.audit(who, action, {"reason": "bad_credentials",
                                   "failed_attempts": after.failed_attempts if after else None})
    raise SignInRefused("bad_credentials")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


# ---- the signed-in person ---------------------------------------------------------------------------------------

async def who_am_i(door: Door, actor: Actor) -> dict[str, Any]:
    """The credential's claims, and for a person's token the account's user name and display name."""
    username = username_of(actor.subject)
    account = await store.get(door.pool, username) if username else None
    return {"username": account.username if account else None,
            "display_name": account.display_name if account else None,
            "role": actor.role, "org": actor.org, "region": actor.region}


async def _own_account(door: Door, actor: Actor) -> Account:
    username = username_of(actor.subject)
    account = await store.get(door.pool, username) if username else None
    if account is None:
        raise NotAnAccount("only a person signed in with a password (POST /v1/auth/login) has a password to change")
    return account


async def change_password(door: Door, actor: Actor, session: str, current: str, new: str) -> int:
    """Set a new password after proving the current one; every other session of the account is revoked, this one
    (``session``: its jti) stays. Returns how many sessions were revoked. A wrong current password counts as a failed
    sign-in (a stolen session must not be a way to guess the password without the lockout)."""
    account = await _own_account(door, actor)
    problems = password_problems(new, account.username, field="new_password")
    if new == current:
        problems.append(DomainError("new_password", "password_unchanged", "the new password is the current one",
                                    "新密码不能与当前密码相同"))
    if problems:
        raise Invalid(problems)
    if door.lockout.is_locked(account.locked_until, now()):
        raise SignInRefused("account_locked", account.locked_until)
    if not await averify_password(account.password_hash, current):
        try:
            await _count_failure(door, account, "account.password_change_failed")
        except SignInRefused as refused:
            if refused.kind == "account_locked":
                raise
        raise Invalid([DomainError("current_password", "bad_credentials", "the current password is wrong",
                                   "当前密码错误")])
    new_hash = await ahash_password(new)
    revoked = await store.set_password(door.pool, account.username, new_hash, expected_hash=account.password_hash,
                                       keep_session=session)
    if revoked is None:
        raise Conflict([DomainError("current_password", "changed_meanwhile",
                                    "the password was changed meanwhile; sign in again", "密码已被修改，请重新登录")])
    door.revoked(jti for jti, _ in revoked)
    await door.audit(actor, "account.password_change", {"username": account.username,
                                                        "sessions_revoked": len(revoked)})
    return len(revoked)


# ---- administration -------------------------------------------------------------------------------------------

def _claims_problems(role: str, region: str | None) -> list[DomainError]:
    """As ``laowu.auth.issue`` requires, so that every account can be issued a token."""
    if role != "admin" and region is None:
        return [DomainError("region", "region_required", "a GB/T 2260 region is required for this role",
                            "该角色须填写行政区划代码")]
    if region is not None and not regions.region_exists(region):
        return [DomainError("region", "region_unknown", f"{region} is not a GB/T 2260 region code",
                            f"{region} 不是有效的行政区划代码")]
    return []


_NAME: TypeAdapter[str] = TypeAdapter(Name)
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)


def _checked(adapter: TypeAdapter[str], value: str, field: str, problems: list[DomainError]) -> str:
    """``value`` as the API's body type takes it (stripped), or a problem for ``field``: the CLI's door gets the
    verdict the HTTP body gets."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        problems.append(DomainError(field, exc.errors()[0]["type"], exc.errors()[0]["msg"]))
        return value


async def create(door: Door, actor: Actor, *, username: str, display_name: str, role: str, org: str,
                 region: str | None, password: str) -> Account:
    username = normalize_username(username)
    problems = [p for p in [username_problem(username)] if p is not None]
    display_name = _checked(_NAME, display_name, "display_name", problems)
    org = _checked(_IDENTIFIER, org, "org", problems)
    problems += _claims_problems(role, region) + password_problems(password, username)
    if problems:
        raise Invalid(problems)
    account = await store.create(door.pool, username=username, display_name=display_name, role=role, org=org,
                                 region=region, password_hash=await ahash_password(password),
                                 created_by=actor.subject or actor.org)
    if account is None:
        raise Conflict([DomainError("username", "account_exists", f"an account {username} exists",
                                    "该用户名已存在")])
    await door.audit(actor, "account.create", {"username": username, "display_name": display_name, "role": role,
                                               "org": org, "region": region})
    return account


def revokes_sessions(before: Account, after: Account) -> bool:
    """A token states role, organization and region: when any changes, or the account is disabled, its tokens
    state what is no longer true."""
    return before.claims() != after.claims() or (before.enabled and not after.enabled)


async def update(door: Door, actor: Actor, username: str, changes: dict[str, Any]) -> Account:
    """Change the fields given (``changes``: only those present in the request), revoking the sessions when
    :func:`revokes_sessions` says so."""
    current = await store.get(door.pool, username)
    if current is None:
        raise NotFound(username)
    problems = _claims_problems(changes.get("role", current.role), changes.get("region", current.region))
    if problems:
        raise Invalid(problems)
    done = await store.update(door.pool, username, changes, revokes_sessions)
    if done is None:
        raise NotFound(username)
    before, after, revoked = done
    door.revoked(jti for jti, _ in revoked)
    changed = {k: [getattr(before, k), getattr(after, k)] for k in sorted(changes)
               if getattr(before, k) != getattr(after, k)}
    action = ("account.disable" if before.enabled and not after.enabled
              else "account.enable" if after.enabled and not before.enabled else "account.update")
    await door.audit(actor, action, {"username": username, "changes": changed, "sessions_revoked": len(revoked)})
    return after


async def reset_password(door: Door, actor: Actor, username: str, new: str) -> int:
    """An admin sets a new password (the person forgot theirs, or it leaked): every session of the account is
    revoked and a lock lifted. Returns how many sessions were revoked."""
    account = await store.get(door.pool, username)
    if account is None:
        raise NotFound(username)
    problems = password_problems(new, username, field="new_password")
    if problems:
        raise Invalid(problems)
    revoked = await store.set_password(door.pool, username, await ahash_password(new), expected_hash=None,
                                       keep_session=None)
    if revoked is None:
        raise NotFound(username)
    door.revoked(jti for jti, _ in revoked)
    await door.audit(actor, "account.password_reset", {"username": username, "sessions_revoked": len(revoked)})
    return len(revoked)


async def listing(door: Door, *, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """A page of accounts (:func:`public`) and the cursor of the next, None on the last."""
    rows = await store.page(door.pool, after=after, limit=limit)
    at = now()
    return [public(a, at) for a in rows], rows[-1].username if len(rows) == limit else None
