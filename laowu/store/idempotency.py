"""Stored answers for ``Idempotency-Key``: a retry gets the first answer and publishes nothing."""

from __future__ import annotations

from typing import Any

import asyncpg


async def find(pool: asyncpg.Pool, scope: str, key: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT request_hash, status_code, body FROM idempotency_keys WHERE scope = $1 AND key = $2", scope, key
    )
    return dict(row) if row else None


async def remember(pool: asyncpg.Pool, scope: str, key: str, request_hash: str, status: int, body: Any) -> dict[str, Any]:
    """Store the answer unless a concurrent twin stored one first; return whichever answer stands."""
    row = await pool.fetchrow(
        """
        WITH ins AS (
            INSERT INTO idempotency_keys (scope, key, request_hash, status_code, body) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT DO NOTHING RETURNING request_hash, status_code, body
        )
        SELECT * FROM ins
        UNION ALL
        SELECT request_hash, status_code, body FROM idempotency_keys WHERE scope = $1 AND key = $2
        LIMIT 1
        """,
        scope, key, request_hash, status, body,
    )
    assert row is not None
    return dict(row)
