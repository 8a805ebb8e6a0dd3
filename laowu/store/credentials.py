"""Credentials in PostgreSQL: API keys (only their hash is stored) and signed-out tokens.

``credentials`` holds one row per API key a machine client (a workstation terminal) exchanges for tokens;
``revoked_tokens`` one row per token signed out before its expiry (``api.revocations`` keeps the replica's
in-process copy of it). The routers and the revocation list call these functions; no SQL of theirs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeAlias

import asyncpg

Conn: TypeAlias = asyncpg.Pool | asyncpg.Connection

REVOKED_KEPT_S = 60
"""How long past its token's expiry a sign-out is kept: the signature check refuses the token by then anyway; the
margin covers the clocks of the replicas."""


@dataclass(frozen=True)
class Credential:
    """What a live API key stands for: the claims of the tokens it is exchanged for."""

    credential_id: str
    role: str
    org: str
    region: str | None


async def active(conn: Conn, key_hash: str) -> Credential | None:
    """The credential of an API key's hash, unless it was revoked (None then, as for an unknown key)."""
    row = await conn.fetchrow(
        "SELECT credential_id, role, org, region FROM credentials WHERE key_hash = $1 AND revoked_at IS NULL", key_hash)
    return None if row is None else Credential(row["credential_id"], row["role"], row["org"], row["region"])


async def create(conn: Conn, *, key_hash: str, role: str, org: str, region: str | None, created_by: str) -> str:
    """Store a new API key's hash with what it stands for; returns the new credential's id."""
    credential_id = "cred-" + uuid.uuid4().hex[:12]
    await conn.execute(
        "INSERT INTO credentials (credential_id, key_hash, role, org, region, created_by) VALUES ($1,$2,$3,$4,$5,$6)",
        credential_id, key_hash, role, org, region, created_by,
    )
    return credential_id


async def revoke_token(conn: Conn, *, jti: str, subject: str, expires: int) -> None:
    """Sign a token out (``expires``: its ``exp`` claim, epoch seconds); signing out twice is one sign-out."""
    await conn.execute(
        "INSERT INTO revoked_tokens (jti, subject, expires_at) VALUES ($1, $2, to_timestamp($3)) "
        "ON CONFLICT (jti) DO NOTHING", jti, subject, expires)


async def revoked_tokens(pool: asyncpg.Pool) -> set[str]:
    """The ids of the signed-out tokens still alive; forgets those past expiry first, so the list stays small."""
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM revoked_tokens WHERE expires_at < now() - make_interval(secs => $1)",
                           REVOKED_KEPT_S)
        rows = await conn.fetch("SELECT jti FROM revoked_tokens")
    return {r["jti"] for r in rows}
