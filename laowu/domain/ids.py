"""Deterministic ids of derived events (name-based UUIDs, RFC 4122 version 5)."""

from __future__ import annotations

import hashlib
import uuid


def uuid5_str(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` without building the UUID object: the ledger derives one id per
    ledger change (3.5 per event in `make bench`), and the object and its formatting cost 2.7 µs against 1.0."""
    h = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50  # version 5
    h[8] = (h[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"
