"""Token buckets: one per credential for every request, and one per credential and *cost class* for the routes
that cost far more than a read (building a workbook, parsing a spreadsheet, breaking the glass, exchanging an API
key, a password's Argon2id verification at sign-in). A flat per-request limit let a caller spend its 200/s on
exports. Lookups by ID number have their budget in ``api.lookups``, which covers both of their doors.

``/v1/auth/token`` and ``/v1/auth/login`` have no credential yet: their buckets are keyed by the client address
(api.proxies).
"""

from __future__ import annotations

import re
import time

# (method, path pattern) → class name; names are the keys of LAOWU_ROUTE_RATE_LIMITS.
ROUTE_CLASSES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"/v1/auth/token"), "token"),
    ("POST", re.compile(r"/v1/auth/login"), "login"),
    ("POST", re.compile(r"/v1/workers/[^/]+:reveal"), "reveal"),
    ("POST", re.compile(r"/v1/organizations/[^/]+/reveal"), "reveal"),  # a person broker's ID number (issue 21)
    ("GET", re.compile(r"/v1/export/.+"), "export"),
    ("GET", re.compile(r"/v1/imports/[^/]+/errors\.xlsx"), "export"),
    ("POST", re.compile(r"/v1/imports/.+"), "import"),
    ("POST", re.compile(r"/v1/export/monitoring-revealed\.xlsx"), "export"),  # issue 20: and a reveal per person
)


def route_class(method: str, path: str) -> str | None:
    return next((name for m, pattern, name in ROUTE_CLASSES if m == method and pattern.fullmatch(path)), None)


def parse_limits(spec: str) -> dict[str, tuple[float, int]]:
    """``"token=0.5/10,export=0.2/5"`` → ``{"token": (0.5, 10), …}``: refills per second / burst."""
    limits: dict[str, tuple[float, int]] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        rate, _, burst = value.partition("/")
        limits[name.strip()] = (float(rate), int(burst))
    return limits


class Buckets:
    """Token buckets by key; ``take`` answers 0 when allowed, else the seconds until one token is back."""

    def __init__(self, rate: float, burst: int, size: int = 100_000) -> None:
        self.rate, self.burst, self.size = rate, burst, size
        self.state: dict[str, tuple[float, float]] = {}  # key → (tokens, stamp)

    def take(self, key: str, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        tokens, stamp = self.state.get(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens >= 1:
            tokens -= 1
            wait = 0.0
        else:
            wait = (1 - tokens) / self.rate if self.rate > 0 else 3600.0
        if key not in self.state and len(self.state) >= self.size:
            self.state.pop(next(iter(self.state)))  # bounded: client addresses are unbounded
        self.state[key] = (tokens, now)
        return wait
