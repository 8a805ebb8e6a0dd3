"""Cost classes of routes and their token buckets."""

from __future__ import annotations

import pytest

from api.ratelimit import Buckets, parse_limits, route_class


@pytest.mark.parametrize(("method", "path", "name"), [
    ("POST", "/v1/auth/token", "token"),
    ("POST", "/v1/workers/w123:reveal", "reveal"),
    ("POST", "/v1/workers:lookup", None),  # api.lookups keeps its budget, for GET ?id_number= too
    ("GET", "/v1/export/workers.xlsx", "export"),
    ("GET", "/v1/imports/imp-1/errors.xlsx", "export"),
    ("POST", "/v1/imports/workers", "import"),
    ("GET", "/v1/workers", None),
    ("GET", "/v1/imports/imp-1", None),
    ("POST", "/v1/workers", None),
])
def test_route_classes(method: str, path: str, name: str | None) -> None:
    assert route_class(method, path) == name


def test_parse_limits() -> None:
    assert parse_limits("token=0.5/10, export=1/3,") == {"token": (0.5, 10), "export": (1.0, 3)}


def test_bucket_allows_burst_then_waits_then_refills() -> None:
    b = Buckets(rate=0.5, burst=2)
    assert [b.take("k", now=100.0) for _ in range(2)] == [0.0, 0.0]
    assert b.take("k", now=100.0) == pytest.approx(2.0)
    assert b.take("other", now=100.0) == 0.0  # keys are independent
    assert b.take("k", now=102.1) == 0.0


def test_bucket_state_is_bounded() -> None:
    b = Buckets(rate=1, burst=1, size=3)
    for i in range(10):
        b.take(f"ip:{i}", now=0.0)
    assert len(b.state) == 3
