"""Password hashes: Argon2id (``argon2-cffi``, RFC 9106), computed off the event loop.

One hash costs ~0.15 s of CPU and 64 MiB by design (argon2-cffi's defaults, RFC 9106's second recommended
profile): on the event loop it would stall every other request of the replica for that long, so the ``a…``
functions run it in a thread (``asyncio.to_thread``). A sign-in naming no account verifies the password against
a dummy hash all the same, so that an unknown user name takes as long as a wrong password and the answer's timing
does not say which user names exist.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4


def hash_password(password: str) -> str:
    """The encoded hash (``$argon2id$v=19$m=…``): algorithm, parameters and salt travel with it."""
    return _HASHER.hash(password)


def verify_password(encoded: str, password: str) -> bool:
    """Whether ``password`` matches; a malformed stored hash is a mismatch, never an exception to the caller."""
    try:
        return _HASHER.verify(encoded, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehashed at the next good sign-in."""
    try:
        return _HASHER.check_needs_rehash(encoded)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash of a random password, made once per process with today's parameters: the unknown user's stand-in."""
    import secrets

    return hash_password(secrets.token_urlsafe(24))


def burn_verify(password: str) -> None:
    """Spend what a verification spends, for a user name without an account (the answer is always 'no')."""
    verify_password(dummy_hash(), password)


async def ahash_password(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def averify_password(encoded: str | None, password: str) -> bool:
    """``verify_password`` in a thread; ``encoded`` None (no such account) verifies against the dummy and fails."""
    if encoded is None:
        await asyncio.to_thread(burn_verify, password)
        return False
    return await asyncio.to_thread(verify_password, encoded, password)
