"""Which database failures are transient: retried with backoff, never treated as bad data or as our bug."""

from __future__ import annotations

import asyncpg

# InternalClientError ("cannot switch to state …") is what asyncpg raises when the server goes away in the
# middle of a protocol exchange — a restart, not a bug of ours.
TRANSIENT_DB: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    OSError,
    ConnectionError,
)
