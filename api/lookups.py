"""Exact lookups by ID number: a confirmation oracle, so limited per credential and written to the audit log.

A lookup answers "is this number the person I think it is?". Anyone who holds a partial number can turn that into
the full number by guessing, so the lookup is kept to roles that register people (API.md), each credential gets a
budget of its own (``LAOWU_LOOKUP_RATE_PER_MIN``, ``LAOWU_LOOKUP_BURST``), and every lookup, found or not, is an
audit entry (action ``lookup``, the worker id — the keyed hash — never the number).
"""

from __future__ import annotations

import math
import time

from fastapi import HTTPException, Request

from api import auditing
from schemas.common import Actor

REGISTERING_ROLES = frozenset({"workstation", "bureau", "admin"})


class LookupBudget:
    """A token bucket per credential, in this API process (as the general rate limit)."""

    def __init__(self, per_min: float, burst: int) -> None:
        self.rate, self.burst = per_min / 60.0, burst
        self.buckets: dict[str, tuple[float, float]] = {}

    def wait(self, key: str) -> float:
        """0 when a lookup may go ahead (and spends it), else the seconds until one may."""
        now = time.monotonic()
        tokens, stamp = self.buckets.get(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate if self.rate > 0 else 3600.0


def credential(actor: Actor) -> str:
    return f"{actor.role}:{actor.subject or actor.org}"


async def admit(request: Request, actor: Actor) -> None:
    """403 for roles that do not register people, 429 past the credential's lookup budget."""
    if actor.role not in REGISTERING_ROLES:
        raise HTTPException(status_code=403, detail=f"role {actor.role} may not look workers up by ID number")
    state = request.app.state
    budget = getattr(state, "lookup_budget", None)
    if budget is None:
        settings = state.settings
        budget = state.lookup_budget = LookupBudget(settings.lookup_rate_per_min, settings.lookup_burst)
    wait = budget.wait(credential(actor))
    if wait:
        raise HTTPException(status_code=429, detail="lookup limit exceeded",
                            headers={"Retry-After": str(math.ceil(wait))})


async def record(request: Request, actor: Actor, worker_id: str, found: bool) -> None:
    await auditing.record(request, actor, "lookup", worker_id=worker_id, detail={"found": found})
