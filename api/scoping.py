"""Checks that tie an event to its sender's organization and jurisdiction, shared by every write door."""

from __future__ import annotations

from laowu.store.scope import covers
from schemas.common import Actor
from schemas.envelope import Outgoing

ORG_FIELDS = {
    "worker.registered": "workstation_id",
    "dispatch.created": "organizer_id",
    "placement.confirmed": "employer_id",
    "placement.rejected": "employer_id",
}
REGION_FIELDS = {
    "worker.registered": "household_region",
    "worker.household_moved": "from_region",  # the current household region: its jurisdiction moves the person
    "dispatch.created": "origin_region",
    "brand.registered": "region_code",
    "brand.updated": "region_code",
}


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
