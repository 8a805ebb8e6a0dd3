"""The ledger's rules by event name, collected from the application catalogue (one entry per event type)."""

from __future__ import annotations

from pydantic import BaseModel

from laowu.application.catalogue import ENTRIES
from laowu.ledger.rule import Effects, Rule
from schemas.events import CATALOGUE

RULES: dict[str, Rule] = {entry.name: entry.rule for entry in ENTRIES}
"""The event types the ledger consumes; every other type is derived and has no business on its topics."""

NAME_OF: dict[type[BaseModel], str] = {spec.payload: spec.name for spec in CATALOGUE}

__all__ = ["NAME_OF", "RULES", "Effects", "Rule"]
