"""Checks that tie an event to its sender's organization and jurisdiction: the rule lives in
``laowu.application.scoping`` (every door asks it); this is its (status, reason) view for HTTP."""

from __future__ import annotations

from laowu.application.scoping import ORG_FIELDS, REGION_FIELDS, scope_problem
from schemas.common import Actor
from schemas.envelope import Outgoing

__all__ = ["ORG_FIELDS", "REGION_FIELDS", "envelope_problem"]


def envelope_problem(actor: Actor | None, env: Outgoing) -> tuple[int, str] | None:
    """(status, reason) when the sender may not send this event as built from the body alone."""
    problem = scope_problem(actor, env.type, env.payload)
    if problem is None:
        return None
    return (401 if problem.kind == "credential" else 403), problem.reason
