"""Opaque keyset cursors: the last key seen, base64url-encoded."""

from __future__ import annotations

import base64
import binascii

from laowu.domain.errors import DomainError
from laowu.intake import InvalidRequest


def encode_cursor(last_key: str) -> str:
    return base64.urlsafe_b64encode(last_key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        key = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError):  # non-ASCII input, bad padding, bytes that are not UTF-8
        key = None
    if not key or not key.isprintable() or len(key) > 128:
        raise InvalidRequest([DomainError("cursor", "format", "not a cursor this API issued")], "query")
    return key
