"""What a command handler answers when it refuses: application-level, not HTTP.

Each door renders them its own way (API.md): a single request as 404/403/409/422, a batch item as ``rejected``
with :attr:`Refused.reason`, the Excel import as a row's reason. The reason is the same text whatever the door.
"""

from __future__ import annotations

from laowu.domain.errors import DomainError
from laowu.intake import InvalidRequest

Invalid = InvalidRequest
"""The body breaks a rule it alone decides (422): intake's own error, re-exported as the application's."""


class Refused(Exception):
    """A rule that needs the ledger (or what was accepted) said no."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(Refused):
    """The command names something the sender cannot see, or that was never accepted (404: as if it did not exist)."""

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"unknown {kind} {id}")
        self.kind, self.id = kind, id


class Forbidden(Refused):
    """The sender sees the subject but may not do this to it (403)."""


class Conflict(Refused):
    """The ledger's state refuses it now (409), one error per field."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
