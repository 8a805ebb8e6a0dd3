"""A ledger change as the statistics stream reads it (``ledger.changed`` on ``laowu.ledger-changes.v1``).

The stream reads only events the ledger built through :class:`schemas.envelope.Envelope` and
:class:`schemas.events.LedgerChanged`, so validating each again through pydantic checked nothing new, and it cost
the statistics worker about a tenth of its time under load (py-spy, issue 22). msgspec decodes the fields the
stream uses, typed (a UUID, aware datetimes, lists and objects), and ignores the rest of the envelope.

The catalogue stays the one declaration of the event: ``tests/unit/test_stream_changes.py`` holds these
structs to :class:`schemas.events.LedgerChanged`'s fields and to what ``Envelope`` decodes from the same bytes.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Annotated, Any, Protocol

import msgspec

log = logging.getLogger(__name__)

LEDGER_CHANGED = "ledger.changed"
Aware = Annotated[datetime, msgspec.Meta(tz=True)]  # as the envelope's AwareDatetime


class ChangeBody(msgspec.Struct, frozen=True):
    """The payload of ``ledger.changed`` (:class:`schemas.events.LedgerChanged`), as the stream uses it."""

    entity: str
    entity_id: str
    cause_event_id: str
    cause_type: str
    regions: list[str] = msgspec.field(default_factory=list)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    facts: dict[str, Any] | None = None


class Change(msgspec.Struct, frozen=True):
    """The envelope's fields the stream reads: identity, type, both clocks and the payload."""

    event_id: uuid.UUID
    type: str
    occurred_at: Aware
    recorded_at: Aware
    payload: ChangeBody

    @property
    def body(self) -> ChangeBody:
        return self.payload


_DECODER = msgspec.json.Decoder(Change)


def decode_change(value: bytes | None, where: str) -> Change | None:
    """One message; anything unreadable or of another type is logged and skipped (its offset still counts)."""
    if value is None:
        return None
    try:
        change = _DECODER.decode(value)
    except msgspec.MsgspecError as exc:
        log.warning("skipping undecodable message %s: %s", where, str(exc)[:200])
        return None
    if change.type != LEDGER_CHANGED:
        log.warning("skipping %s on %s", change.type, where)
        return None
    return change


class ChangeView(Protocol):
    """What the stream's pure functions read of a change: a decoded :class:`ChangeBody` or the catalogue's
    :class:`schemas.events.LedgerChanged` (``laowu stats recount`` and the unit tests build those)."""

    @property
    def entity(self) -> str: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def regions(self) -> list[str]: ...
    @property
    def before(self) -> dict[str, Any] | None: ...
    @property
    def after(self) -> dict[str, Any] | None: ...
    @property
    def facts(self) -> dict[str, Any] | None: ...
