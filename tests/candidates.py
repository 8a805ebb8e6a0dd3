"""How many resident ID numbers agree with everything a masked view shows together (API.md "Masked means
unrecoverable": at least 1,000). An attacker's count: every shown fact is used, numbers completed by
laowu.domain.identity.id_number_for."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date
from typing import Any

from laowu.domain.identity import id_number_for


def _fits(mask: str, start: int, digits: str) -> bool:
    return all(m in ("*", d) for m, d in zip(mask[start:start + len(digits)], digits, strict=True))


def _birth_dates(view: dict[str, Any]) -> Iterator[date]:
    if view.get("birth_date"):
        yield date.fromisoformat(str(view["birth_date"]))
        return
    year, month = (int(x) for x in str(view["birth_month"]).split("-"))
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        yield date(year, month, day)


def candidates(view: dict[str, Any], household_region: str) -> Iterator[str]:
    """Every 18-character number consistent with ``view`` (masked number, birth date or month, sex).

    The address code is taken from the mask where it shows, else guessed as ``household_region`` (one guess, the
    likeliest: the count is a lower bound of what is left to an attacker who would also try others).
    """
    mask = view["id_number_masked"]
    assert len(mask) == 18, mask
    address = "".join(m if m != "*" else h for m, h in zip(mask[:6], household_region, strict=True))
    parity = {"M": 1, "F": 0}.get(view.get("sex", ""))
    for born in _birth_dates(view):
        stamp = born.strftime("%Y%m%d")
        if not _fits(mask, 6, stamp):
            continue
        for seq in range(1000):
            digits = f"{seq:03d}"
            if (parity is not None and seq % 2 != parity) or not _fits(mask, 14, digits):
                continue
            number = id_number_for(address, born, seq)  # the one generator of valid numbers
            if _fits(mask, 17, number[17]):
                yield number


def count(view: dict[str, Any], household_region: str) -> int:
    return sum(1 for _ in candidates(view, household_region))
