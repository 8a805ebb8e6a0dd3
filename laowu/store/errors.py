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

# What PostgreSQL (or asyncpg, encoding a parameter) refuses because of the data one message carries, whatever the
# moment: retrying cannot help, and the consumer sets that one message aside (consumers.base). Class 22
# (data_exception: a character it cannot store, a string too long for its column, a number out of range, a malformed
# literal; asyncpg's own "invalid input for query argument" is the same class) and class 54 (program_limit_exceeded:
# one value too large for an index row or a jsonb). Class 23 (unique, foreign key, check, not null) is left out on
# purpose: those are our own invariants, and a message that breaks one means our rules and our tables disagree —
# a bug to stop for, not a message to drop.
REFUSED_DATA: tuple[type[BaseException], ...] = (
    asyncpg.DataError,
    asyncpg.exceptions.ProgramLimitExceededError,
)
