"""What applying one event to the ledger produced: a new state and its changes, or a rejection."""

from __future__ import annotations

from typing import Any


class Rejected(Exception):
    """An event that breaks a ledger rule (unknown worker, illegal transition …).

    Never retried: the event gets a ``rejected`` receipt with this reason and the ledger is untouched.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Changes = dict[str, list[Any]]
"""``{field: [before, after]}`` — what an event changed; never holds a ciphertext or a plaintext ID."""
