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
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidRequest([DomainError("cursor", "format", "not a cursor this API issued")], "query") from None
