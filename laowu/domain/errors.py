"""Errors raised when input breaks a domain rule."""

from __future__ import annotations


class DomainError(ValueError):
    """A rule broken by input; carries the field, the rule name and a readable message.

    ``field`` and ``rule`` are stable machine-readable keys (e.g. ``id_number`` / ``check_digit``) so
    that API layers and import reports can map errors to form fields and counters without parsing
    prose; ``message`` is English, ``message_zh`` the optional Chinese text shown to bureau staff.
    """

    def __init__(self, field: str, rule: str, message: str, message_zh: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = rule
        self.message = message
        self.message_zh = message_zh

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

    def __reduce__(self) -> tuple[type[DomainError], tuple[str, str, str, str | None]]:
        # ValueError pickles via self.args, which holds only the joined text; errors cross process
        # boundaries (stream workers), so rebuild from the real constructor arguments.
        return (type(self), (self.field, self.rule, self.message, self.message_zh))

    def __repr__(self) -> str:
        return f"DomainError(field={self.field!r}, rule={self.rule!r}, message={self.message!r})"
