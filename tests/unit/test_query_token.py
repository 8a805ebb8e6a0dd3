"""``?access_token=`` is a credential only where a browser cannot send a header: the feed (EventSource)."""

from __future__ import annotations

from typing import Any

import pytest

from api.access import Authenticate
from laowu.settings import Settings


def _scope(method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "query_string": query, "headers": headers or []}


@pytest.fixture
def auth() -> Authenticate:
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never reached here
        raise AssertionError

    return Authenticate(app, Settings())


def test_feed_takes_the_query_token(auth: Authenticate) -> None:
    assert auth._token(_scope("GET", "/v1/feed", b"region=46&access_token=abc")) == "abc"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/workers"), ("GET", "/v1/brands"), ("POST", "/v1/workers"), ("POST", "/v1/feed"),
    ("GET", "/v1/exports/workers.xlsx"),
])
def test_other_routes_ignore_the_query_token(auth: Authenticate, method: str, path: str) -> None:
    assert auth._token(_scope(method, path, b"access_token=abc")) is None


def test_header_still_wins_everywhere(auth: Authenticate) -> None:
    headers = [(b"authorization", b"Bearer xyz")]
    assert auth._token(_scope("GET", "/v1/workers", b"access_token=abc", headers)) == "xyz"
