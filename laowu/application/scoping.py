"""The rule that ties an event to its sender: the organization it names is the sender's own, the region it names
lies in the sender's jurisdiction (辖区). One function, asked by every door: the command handlers (single requests,
``/v1/events:batch``, the simulator) and the Excel import, which renders the same verdict in Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from laowu.store.scope import covers
from schemas.common import Actor
from schemas.events import CATALOGUE

# Both from the catalogue (schemas.events): which payload field names the sender's organization, which its region.
ORG_FIELDS = {spec.name: spec.org_field for spec in CATALOGUE if spec.org_field}
REGION_FIELDS = {spec.name: spec.region_field for spec in CATALOGUE if spec.region_field}


@dataclass(frozen=True)
class ScopeProblem:
    """Why the sender may not send this: ``kind`` says which half of the rule, ``field`` and ``value`` what broke it."""

    kind: Literal["credential", "organization", "jurisdiction"]
    field: str | None
    value: str | None
    reason: str


def scope_problem(actor: Actor | None, type: str, payload: Mapping[str, Any]) -> ScopeProblem | None:
    """The problem with ``actor`` sending an event of ``type`` with ``payload``, or None; no sender may send nothing."""
    if actor is None:
        return ScopeProblem("credential", None, None, "no credential names the sender")
    if actor.role == "admin":
        return None
    field = ORG_FIELDS.get(type)
    if field and payload.get(field) != actor.org:
        return ScopeProblem("organization", field, payload.get(field),
                            f"{field} must be your own organization ({actor.org})")
    field = REGION_FIELDS.get(type)
    code = payload.get(field) if field else None
    if field and code and not covers(actor, code):
        return ScopeProblem("jurisdiction", field, code, f"{field} {code} is outside your jurisdiction ({actor.region})")
    return None
