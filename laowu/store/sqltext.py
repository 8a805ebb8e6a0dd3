"""SQL text from the domain's constants, so a query states a rule's values once (in ``laowu.domain``).

Only for constants of our own code, never for input: the values must be plain words, which is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[a-z_][a-z0-9_]*")


def in_list(values: Iterable[str]) -> str:
    """``('a', 'b')`` for ``column IN …``, in sorted order (a set's iteration order is not stable across runs)."""
    words = sorted(set(values))
    if not words or not all(_WORD.fullmatch(w) for w in words):
        raise ValueError(f"not a list of plain words: {words!r}")
    return "(" + ", ".join(f"'{w}'" for w in words) + ")"
