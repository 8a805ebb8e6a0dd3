"""Synthetic people (实名登记 bodies) for the demo, the simulator, the benches and the tests: one generator.

Numbers come from :func:`laowu.domain.identity.id_number_for`; a body's birth date, sex and household region
are read back from its number, so a generated person is always consistent with the rules the ledger checks
(the sex digit, the address code, the birth date). The simulator draws its people at random
(:mod:`laowu.simulate`), the demo with faker, the tests and benches by a counter (:func:`person`): all of them
write the body here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from laowu.domain.identity import Sex, id_number_for

# Real GB/T 2260 county codes (Hainan, Chongqing, Guangdong).
COUNTIES = ["460105", "460106", "460107", "460108", "469005", "460202", "500101", "500103", "440305"]

#: ``person(n)`` gives distinct ID numbers for ``0 <= n < UNIQUE`` (480 birth dates × 1,000 order codes).
UNIQUE = 480_000


def sex_of(number: str) -> Sex:
    """The holder's sex as the number says it: the order code's last digit (the 17th character) is odd for a man."""
    return "M" if int(number[16]) % 2 else "F"


def registration(number: str, name: str, *, workstation: str | None = None, phone: str | None = None,
                 **more: Any) -> dict[str, Any]:
    """A ``worker.registered`` body (``POST /v1/workers``) for the holder of ``number``: birth date, sex and household
    region read from it; ``workstation`` defaults to the county's first (``ws-<county>-01``); ``more`` adds fields
    (``brand_ids``, ``priority_groups``, ``occurred_at``, …)."""
    region = number[:6]
    body: dict[str, Any] = {"id_number": number, "name": name, "sex": sex_of(number),
                            "birth_date": date(int(number[6:10]), int(number[10:12]), int(number[12:14])).isoformat()}
    if phone is not None:
        body["phone"] = phone
    body |= {"household_region": region, "workstation_id": workstation or f"ws-{region}-01"}
    return body | more


def person(n: int, region: str | None = None, *, name: str | None = None, phone: bool = True,
           **more: Any) -> dict[str, Any]:
    """The ``n``-th synthetic person's registration body: the same ``n`` always gives the same person, distinct
    ``n`` below :data:`UNIQUE` distinct ID numbers (whatever the region)."""
    region = region or COUNTIES[n % len(COUNTIES)]
    birth = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
    number = id_number_for(region, birth, (n // 480) % 1000)
    return registration(number, name or f"测试{n}", phone=f"138{n:08d}"[:11] if phone else None, **more)
