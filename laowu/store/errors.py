"""The store's errors, and which database failures are transient.

Callers above the store (the API, the application) see the store's own errors — :class:`NotFound`,
:class:`Unavailable` — never the driver's: a pool made with ``create_pool(translate=True)`` (``laowu.store.pool``)
turns the driver errors that mean "the database cannot be reached" into :class:`Unavailable`. The consumers,
which retry whatever is transient, classify driver errors with :data:`TRANSIENT_DB` and :data:`REFUSED_DATA`.
"""

from __future__ import annotations

import asyncpg


class StoreError(Exception):
    """Something the store reports about the data or the database, in its own terms."""


class NotFound(StoreError, LookupError):
    """No such record (or none the caller may see: the store does not say which)."""


class Unavailable(StoreError):
    """The database cannot be reached now (down, restarting, connection lost); retrying later may succeed.

    ``kind`` names the driver's error, for the client's message and the logs; the driver's exception is the cause.
    """

    def __init__(self, kind: str) -> None:
        super().__init__(f"database unavailable: {kind}")
        self.kind = kind


UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    ConnectionError,
    OSError,
)
"""Driver errors translated into :class:`Unavailable` (what the API answered 503 for before the translation)."""

# InternalClientError ("cannot switch to state …") is what asyncpg raises when the server goes away in the
# middle of a protocol exchange — a restart, not a bug of ours.
TRANSIENT_DB: tuple[type[BaseException], ...] = (
    Unavailable,
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
