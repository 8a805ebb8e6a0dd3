"""The deferral policy: what an event waits for, how it is woken, and when the wait ends in a rejection.

A 202 is a promise (README, "Consistency model"): a client may build on a write it was told was accepted
before the ledger applied it, and Kafka gives no order across partitions. So an event that names something the
ledger does not hold yet *waits* instead of being refused:

* **what waits, for what** — a key ``<kind>:<id>``:
  - ``brand:<id>``: a worker event or dispatch that names a brand not in the library (its registration was
    accepted);
  - ``worker:<id>``: a dispatch naming a worker not in the ledger, and any event about a worker whose own
    registration waits (for a brand), so the worker's events keep their order behind it;
  - ``placement:<id>``: a placement event (confirmation, rejection, end, follow-up) before the dispatch that
    creates the placement, and a later event of a placement while an earlier one still waits.
* **what wakes it** — deciding the event it waits for (``unblocks``): a registration wakes ``worker:``/``brand:``,
  a dispatch wakes the ``placement:`` keys of its workers. Woken events are decided at once, in arrival order,
  in the same transaction; what they wake in turn is loaded with them (``repository.load`` follows the chain).
* **how a wait ends in a rejection** — the awaited registration was rejected: the waiting event is rejected
  with that reason (``refused_registrations``); a dispatch that refused a worker rejects that placement's events.
  What was never accepted is refused by the API at once and never waits.
* **the repair** — with several ledger consumers, one may defer an event just after another applied what it
  waits for and looked for waiters. Every ``REPAIR_EVERY_S`` a consumer wakes whatever has waited that long for
  something already in the ledger (``store.dispatch.stale_satisfied_waits``).

Waiting events are stored in ``deferred_events`` (with the offsets of the batch that deferred them), so a
restart forgets nothing; a row leaves when its event is decided.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from laowu.domain.outcome import Rejected
from laowu.ledger.rules import RULES
from schemas.envelope import Envelope

if TYPE_CHECKING:
    from laowu.ledger.state import LedgerState

REPAIR_EVERY_S = 2.0


class Deferred(Exception):
    """The event depends on something not applied yet: it waits for ``waits_for`` (a ``<kind>:<id>`` key)."""

    def __init__(self, waits_for: str) -> None:
        super().__init__(waits_for)
        self.waits_for = waits_for


def waited_on(key: str) -> tuple[str, str]:
    """``(kind, id)`` of a key; ids may hold ``:`` themselves (the SQL side splits at the first one too)."""
    kind, _, ident = key.partition(":")
    return kind, ident


def unblocks(e: Envelope) -> list[str]:
    """What a decided event may have been awaited as (rejected, it ends the wait with a rejection)."""
    rule = RULES[e.type]
    if rule.registers:
        return [f"{rule.kind}:{e.payload[rule.kind + '_id']}"]
    if rule.kind == "dispatch":
        return [f"placement:{x['placement_id']}" for x in e.payload["placements"]]
    return []


def placement_key(e: Envelope) -> str | None:
    """A placement event waits behind an earlier event of its placement that waits."""
    return f"placement:{e.payload['placement_id']}" if RULES[e.type].kind == "placement" else None


def brands_named(e: Envelope) -> list[str]:
    """The brands a worker event or dispatch needs (a brand's own events need none)."""
    rule = RULES[e.type]
    if rule.kind in ("brand", "agreement"):  # an agreement's brands are checked when it is sent (issue 19)
        return []
    named = list(e.payload.get("brand_ids", []))
    if rule.joins_brand:
        named.append(e.payload["brand_id"])
    return named


def workers_named(e: Envelope) -> list[str]:
    if RULES[e.type].kind == "dispatch":
        return [x["worker_id"] for x in e.payload["placements"]]
    return [e.payload["worker_id"]] if "worker_id" in e.payload else []


def registers_worker(e: Envelope) -> str | None:
    rule = RULES[e.type]
    return e.payload["worker_id"] if rule.registers and rule.kind == "worker" else None


def registers_brand(e: Envelope) -> str | None:
    rule = RULES[e.type]
    return e.payload["brand_id"] if rule.registers and rule.kind == "brand" else None


def await_brands(state: LedgerState, e: Envelope) -> None:
    """A brand not in the ledger was accepted (the API let the event through on that promise): wait for its
    registration, or share its fate if it was rejected."""
    for bid in brands_named(e):
        if bid not in state.brands:
            why = state.refused_registrations.get(f"brand:{bid}")
            if why is not None:
                raise Rejected(f"brand {bid}'s registration was refused: {why}")
            raise Deferred(f"brand:{bid}")


def await_registration(state: LedgerState, wid: str) -> None:
    """An event about a worker not in the ledger: wait behind a registration that waits itself, share the fate of
    one that was rejected; otherwise the rules refuse the unknown worker as before."""
    if wid in state.deferred_registrations:
        raise Deferred(f"worker:{wid}")
    why = state.refused_registrations.get(f"worker:{wid}")
    if why is not None:
        raise Rejected(f"worker {wid}'s registration was refused: {why}")


def await_dispatch_workers(state: LedgerState, e: Envelope) -> dict[str, str]:
    """A dispatch waits for the registrations of its workers that are accepted but not applied; returns the
    workers whose registration was refused, with the reason (the dispatch refuses those)."""
    refused: dict[str, str] = {}
    for x in e.payload["placements"]:
        wid = x["worker_id"]
        if wid in state.workers:
            continue
        why = state.refused_registrations.get(f"worker:{wid}")
        if why is None or wid in state.deferred_registrations:
            # The API publishes dispatches of workers in the ledger or accepted: the registration is on its way.
            raise Deferred(f"worker:{wid}")
        refused[wid] = f"worker {wid}'s registration was refused: {why}"
    return refused


def await_demand(state: LedgerState, e: Envelope) -> None:
    """A dispatch naming a job demand not in the ledger waits for its posting (``demand:<id>``), or shares the fate
    of a posting that was rejected."""
    did = e.payload.get("demand_id")
    if did is None or did in state.demands:
        return
    why = state.refused_registrations.get(f"demand:{did}")
    if why is not None:
        raise Rejected(f"demand {did}'s posting was refused: {why}")
    raise Deferred(f"demand:{did}")


def note_refusal(state: LedgerState, e: Envelope, reason: str) -> None:
    """A rejected registration of something the ledger lacks: what waits for it is rejected with this reason."""
    rule = RULES[e.type]
    if rule.registers and rule.kind == "demand" and e.payload["demand_id"] not in state.demands:
        state.refused_registrations[f"demand:{e.payload['demand_id']}"] = reason
    wid, bid = registers_worker(e), registers_brand(e)
    if wid is not None and wid not in state.workers:
        state.refused_registrations[f"worker:{wid}"] = reason
        state.deferred_registrations.discard(wid)
    elif bid is not None and bid not in state.brands:
        state.refused_registrations[f"brand:{bid}"] = reason


def note_wait(state: LedgerState, e: Envelope) -> None:
    wid = registers_worker(e)
    if wid is not None:
        state.deferred_registrations.add(wid)


def note_decided(state: LedgerState, e: Envelope) -> None:
    wid = registers_worker(e)
    if wid is not None:
        state.deferred_registrations.discard(wid)
