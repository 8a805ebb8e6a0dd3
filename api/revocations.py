"""Signed-out tokens (by ``jti``), as the API replicas see them.

Every request checks an in-process set; the set is reread from ``revoked_tokens`` at most every
``revocation_refresh_s`` seconds, so a token signed out at one replica is refused there at once and at every other
replica within that many seconds. Rows past their token's expiry are deleted on reread: the signature check
refuses those tokens anyway, and the table stays as small as the tokens alive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import asyncpg

from laowu.store import credentials


class Revocations:
    def __init__(self, refresh_s: float) -> None:
        self.refresh_s = refresh_s
        self.revoked: set[str] = set()
        self.added_while_reading: set[str] = set()  # so a reread that began before a sign-out cannot drop it
        self.read_at = float("-inf")
        self.lock = asyncio.Lock()

    def is_revoked(self, jti: str) -> bool:
        return jti in self.revoked

    async def refresh(self, pool: asyncpg.Pool | None) -> None:
        """Reread the list if it is older than refresh_s (one reader at a time; the others use the current set)."""
        if pool is None or time.monotonic() - self.read_at < self.refresh_s or self.lock.locked():
            return
        async with self.lock:
            self.added_while_reading = set()
            alive = await credentials.revoked_tokens(pool)
            self.revoked = alive | self.added_while_reading
            self.read_at = time.monotonic()

    async def revoke(self, pool: asyncpg.Pool, *, jti: str, subject: str, expires: int) -> None:
        await credentials.revoke_token(pool, jti=jti, subject=subject, expires=expires)
        self.revoked.add(jti)
        self.added_while_reading.add(jti)

    def note(self, jtis: Iterable[str]) -> None:
        """Token ids already written to ``revoked_tokens`` by someone else (an account's sessions, revoked by
        ``laowu.store.accounts``): refused by this replica at once, by the others at their next reread."""
        for jti in jtis:
            self.revoked.add(jti)
            self.added_while_reading.add(jti)


def pool_of(scope: dict[str, Any] | Any) -> asyncpg.Pool | None:
    app = scope.get("app")
    return getattr(getattr(app, "state", None), "pool", None)
