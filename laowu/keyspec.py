"""Key specifications read from the environment, parsed in one place.

``LAOWU_ENCRYPTION_KEYS`` and ``LAOWU_TOKEN_KEYS`` are rings: ``kid:key[,kid:key…]``, the first one in use, the
others still accepted so keys rotate without rewriting data or signing everyone out. The settings validator,
the cipher and the token signer all read them through these functions, so a key that production refuses is the
same key the cipher would have used.
"""

from __future__ import annotations

import base64
import binascii

# AES-256 takes exactly this many bytes; HMAC-SHA256 keys (worker ids, token signatures) are only as strong as
# their length up to the hash's own size, so anything shorter is refused in production.
AES_KEY_BYTES = 32
MIN_HMAC_KEY_BYTES = 32


class KeySpecError(ValueError):
    """A key ring that cannot be parsed; the message names the variable, never the key."""


def _ring(spec: str, variable: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        kid, sep, key = part.partition(":")
        if not sep or not kid or not key:
            raise KeySpecError(f"{variable}: every entry must be kid:key")
        if kid in {k for k, _ in entries}:
            raise KeySpecError(f"{variable}: key id {kid!r} appears twice")
        entries.append((kid, key))
    if not entries:
        raise KeySpecError(f"{variable} holds no key")
    return entries


def encryption_keys(spec: str) -> dict[str, bytes]:
    """``kid:base64(32 bytes)`` entries; every key must be exactly 32 bytes."""
    keys: dict[str, bytes] = {}
    for kid, b64 in _ring(spec, "LAOWU_ENCRYPTION_KEYS"):
        try:
            raw = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise KeySpecError(f"LAOWU_ENCRYPTION_KEYS: key {kid!r} is not base64") from None
        if len(raw) != AES_KEY_BYTES:
            raise KeySpecError(f"LAOWU_ENCRYPTION_KEYS: key {kid!r} must be {AES_KEY_BYTES} bytes (AES-256), got {len(raw)}")
        keys[kid] = raw
    return keys


def token_keys(spec: str) -> dict[str, str]:
    """``kid:secret`` entries, the HS256 signing secrets; lengths are checked by :func:`weak_keys`."""
    return dict(_ring(spec, "LAOWU_TOKEN_KEYS"))


def weak_keys(*, worker_id_key: str, encryption_spec: str, token_spec: str) -> list[str]:
    """Why each configured secret is too weak for production (empty when all are strong enough).

    By length, because length is what an operator can check and what a guessed or truncated key lacks:
    HMAC keys (worker ids, token signatures) at least 32 bytes, encryption keys exactly 32.
    """
    problems: list[str] = []
    if len(worker_id_key.encode()) < MIN_HMAC_KEY_BYTES:
        problems.append(f"LAOWU_WORKER_ID_KEY is shorter than {MIN_HMAC_KEY_BYTES} bytes")
    try:
        encryption_keys(encryption_spec)
    except KeySpecError as exc:
        problems.append(str(exc))
    try:
        for kid, secret in token_keys(token_spec).items():
            if len(secret.encode()) < MIN_HMAC_KEY_BYTES:
                problems.append(f"LAOWU_TOKEN_KEYS: key {kid!r} is shorter than {MIN_HMAC_KEY_BYTES} bytes")
    except KeySpecError as exc:
        problems.append(str(exc))
    return problems
