"""Checks that tie an event to its sender's organization and jurisdiction, shared by every write door."""

from __future__ import annotations

from laowu.store.scope import covers
from schemas.common import Actor
from schemas.envelope import Outgoing
from schemas.events import CATALOGUE

# Both from the catalogue (schemas.events): which payload field names the sender's organization, which its region.
ORG_FIELDS = {spec.name: spec.org_field for spec in CATALOGUE if spec.org_field}
REGION_FIELDS = {spec.name: spec.region_field for spec in CATALOGUE if spec.region_field}


def envelope_problem(actor: Actor | None, env: Outgoing) -> tuple[int, str] | None:
    """(status, reason) when the sender may not send this event as built from the body alone; no sender may send
    nothing."""
    if actor is None:
        return 401, "no credential names the sender"
    if actor.role == "admin":
        return None
    field = ORG_FIELDS.get(env.type)
    if field and env.payload.get(field) != actor.org:
        return 403, f"{field} must be your own organization ({actor.org})"
    field = REGION_FIELDS.get(env.type)
    code = env.payload.get(field) if field else None
    if code and not covers(actor, code):
        return 403, f"{field} {code} is outside your jurisdiction ({actor.region})"
    return None
