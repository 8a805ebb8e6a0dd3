"""Accounts for people in PostgreSQL (``accounts``, ``account_sessions``; migration 0022): the SQL, no rules.

Every change that must agree with a sign-in running at the same moment (a wrong password counted, a session
opened, the password changed, the account disabled or re-roled) takes the account's row lock, so the two are
serialized: a sign-in that verified the old password while an admin disabled the account finds, when it opens its
session, that the account changed and opens none; a disable that commits after a sign-in finds that sign-in's
session and revokes it. Revoking a session moves its ``jti`` into ``revoked_tokens`` (migration 0018), the list every
API replica already checks (``api.revocations``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

from laowu.accounts_policy import subject_of

Conn: TypeAlias = asyncpg.Pool | asyncpg.Connection


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    org: str
    region: str | None
    enabled: bool
    password_hash: str
    failed_attempts: int
    locked_until: datetime | None
    password_changed_at: datetime
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> Account:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    def claims(self) -> tuple[str, str, str | None]:
        """What a token of this account says (role, org, region): a change of any of them revokes its sessions."""
        return self.role, self.org, self.region


_COLUMNS = ", ".join(f.name for f in fields(Account))
UPDATABLE = frozenset({"display_name", "role", "org", "region", "enabled"})


async def get(conn: Conn, username: str) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE username = $1", username)
    return None if row is None else Account.of(row)


async def create(conn: Conn, *, username: str, display_name: str, role: str, org: str, region: str | None,
                 password_hash: str, created_by: str) -> Account | None:
    """The new account, or None when the user name is taken (nothing is changed then)."""
    row = await conn.fetchrow(
        f"INSERT INTO accounts (username, display_name, role, org, region, password_hash, created_by) "
        f"VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING RETURNING {_COLUMNS}",
        username, display_name, role, org, region, password_hash, created_by)
    return None if row is None else Account.of(row)


async def page(conn: Conn, *, after: str | None, limit: int) -> list[Account]:
    """Accounts by user name, the ``limit`` after ``after`` (keyset: the cursor is the last user name seen)."""
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM accounts WHERE $1::text IS NULL OR username > $1 ORDER BY username LIMIT $2",
        after, limit)
    return [Account.of(r) for r in rows]


async def _locked_row(conn: asyncpg.Connection, username: str) -> Account | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM accounts WHERE username = $1 FOR UPDATE", username)
    return None if row is None else Account.of(row)


async def _revoke(conn: asyncpg.Connection, username: str, keep: str | None) -> list[tuple[str, int]]:
    """Move the account's sessions (all, or all but ``keep``) to ``revoked_tokens``; their (jti, exp) revoked."""
    rows = await conn.fetch(
        "WITH gone AS (DELETE FROM account_sessions WHERE username = $1 AND jti IS DISTINCT FROM $2 "
        "              RETURNING jti, expires_at) "
        "INSERT INTO revoked_tokens (jti, subject, expires_at) "
        "SELECT jti, $3, expires_at FROM gone WHERE expires_at > now() "
        "ON CONFLICT (jti) DO NOTHING RETURNING jti, extract(epoch FROM expires_at)::bigint AS exp",
        username, keep, subject_of(username))
    return [(r["jti"], int(r["exp"])) for r in rows]


async def record_failure(pool: asyncpg.Pool, username: str,
                         after_failure: Callable[[int, datetime], tuple[int, datetime | None]],
                         is_locked: Callable[[datetime | None], bool], now: datetime) -> Account | None:
    """Count one wrong password (``after_failure`` decides the new count and lock); not while already locked.
    Returns the account as it is now, or None when it no longer exists."""
    async with pool.acquire() as conn, conn.transaction():
        account = await _locked_row(conn, username)
        if account is None or is_locked(account.locked_until):
            return account
        failures, locked_until = after_failure(account.failed_attempts, now)
        row = await conn.fetchrow(
            f"UPDATE accounts SET failed_attempts = $2, locked_until = COALESCE($3, locked_until) "
            f"WHERE username = $1 RETURNING {_COLUMNS}", username, failures, locked_until)
        return Account.of(row)


async def open_session(pool: asyncpg.Pool, seen: Account, *, jti: str, expires: int, may_open: Callable[[Account], bool],
                       rehashed: str | None = None) -> Account | None:
    """Record a sign-in's token as a session of the account, and forget its failed attempts — unless, since
    ``seen`` was read and its password verified, the password, the claims or ``may_open`` changed their answer
    (None: no session). ``rehashed``: the same password under today's hash parameters, stored with it."""
    async with pool.acquire() as conn, conn.transaction():
        now_row = await _locked_row(conn, seen.username)
        if (now_row is None or now_row.password_hash != seen.password_hash or now_row.claims() != seen.claims()
                or not may_open(now_row)):
            return None
        await conn.execute("DELETE FROM account_sessions WHERE username = $1 AND expires_at < now()", seen.username)
        await conn.execute("INSERT INTO account_sessions (jti, username, expires_at) VALUES ($1, $2, to_timestamp($3))",
                           jti, seen.username, expires)
        row = await conn.fetchrow(
            f"UPDATE accounts SET failed_attempts = 0, locked_until = NULL, password_hash = COALESCE($2, password_hash) "
            f"WHERE username = $1 RETURNING {_COLUMNS}", seen.username, rehashed)
        return Account.of(row)


async def set_password(pool: asyncpg.Pool, username: str, new_hash: str, *, expected_hash: str | None,
                       keep_session: str | None) -> list[tuple[str, int]] | None:
    """Store a new password hash and revoke every session of the account but ``keep_session`` (the revoked
    (jti, exp)). ``expected_hash``: the hash the caller verified the current password against; when it changed
    meanwhile nothing is done (None). Failed attempts and a lock are forgotten: the person proved the password,
    or an admin reset it."""
    async with pool.acquire() as conn, conn.transaction():
        account = await _locked_row(conn, username)
        if account is None or (expected_hash is not None and account.password_hash != expected_hash):
            return None
        await conn.execute(
            "UPDATE accounts SET password_hash = $2, password_changed_at = now(), updated_at = now(), "
            "failed_attempts = 0, locked_until = NULL WHERE username = $1", username, new_hash)
        return await _revoke(conn, username, keep_session)


async def update(pool: asyncpg.Pool, username: str, changes: dict[str, Any],
                 revokes: Callable[[Account, Account], bool]) -> tuple[Account, Account, list[tuple[str, int]]] | None:
    """Apply ``changes`` (columns of :data:`UPDATABLE`); when ``revokes(before, after)`` says so, revoke every
    session of the account in the same transaction. (before, after, revoked), or None for no such account."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    async with pool.acquire() as conn, conn.transaction():
        before = await _locked_row(conn, username)
        if before is None:
            return None
        if not changes:
            return before, before, []
        names = sorted(changes)
        sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(names, start=2))
        row = await conn.fetchrow(
            f"UPDATE accounts SET {sets}, updated_at = now() WHERE username = $1 RETURNING {_COLUMNS}",
            username, *(changes[n] for n in names))
        after = Account.of(row)
        revoked = await _revoke(conn, username, None) if revokes(before, after) else []
        return before, after, revoked
