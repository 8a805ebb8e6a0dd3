"""Receipts and offline batches (workstations that sync after working offline)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.access import BATCH_ROLES, CurrentActor
from api.deps import IntakeDep, PoolDep
from api.routing import JSONRoute
from api.scoping import envelope_problem
from api.writes import check_brand_transition, check_brands, chosen_event_id, event_id_for, idempotent, scope_of
from laowu.domain.errors import DomainError
from laowu.intake import Context, InvalidRequest, PlacementRef
from laowu.store import known, queries, receipts
from laowu.store.queries import NotFound
from schemas.api import BatchRequest, BatchResult, Receipt
from schemas.common import Actor
from schemas.envelope import Outgoing

router = APIRouter(route_class=JSONRoute, prefix="/v1/events", tags=["events"])


@router.get("/{event_id}", response_model=Receipt)
async def receipt(event_id: uuid.UUID, request: Request, pool: PoolDep, actor: CurrentActor) -> Receipt:
    """A sender sees the receipts of what it sent (its organization is the event's source), by the id the write
    answered or by the ``event_id`` it chose for a batch item (stored under an id scoped to its credential)."""
    for candidate in (event_id, chosen_event_id(scope_of(request), event_id)):
        row = await receipts.get(pool, candidate)
        if row is not None and (actor.role == "admin" or row["source"] == actor.org):
            break
    else:
        raise NotFound(str(event_id))
    return Receipt(event_id=row["event_id"], status=row["status"], reason=row["reason"], type=row["type"])


@router.post(":batch", response_model=BatchResult, name="events_batch")
async def batch(body: BatchRequest, request: Request, intake: IntakeDep, actor: CurrentActor) -> JSONResponse:
    """Each item is decided on its own: accepted items are published, rejected ones say why."""
    settings = request.app.state.settings
    if len(body.events) > settings.max_batch_events:
        return JSONResponse(status_code=413, content={"detail": [{
            "loc": ["body", "events"], "msg": f"at most {settings.max_batch_events} events per batch",
            "type": "too_many"}]})

    async def action(key: str | None) -> tuple[int, Any]:
        results: list[dict[str, Any]] = []
        envelopes: list[tuple[int, Outgoing]] = []
        refs = await _placement_refs(request, body, actor)
        households = await _households(request, body, actor)
        scope = scope_of(request)
        shared = Context(actor=actor)  # frozen: the items without an event id can share it
        for index, item in enumerate(body.events):
            event_id = (chosen_event_id(scope, item.event_id) if item.event_id
                        else event_id_for(scope, key, index) if key else None)
            if actor.role not in BATCH_ROLES.get(item.type, frozenset()):
                results.append(_result(index, item.event_id, "rejected", f"role {actor.role} may not send {item.type}"))
                continue
            try:
                ctx = shared if event_id is None else Context(actor=actor, event_id=event_id)
                env = intake.from_batch_item(item, ctx, refs.get, households.get)
                denied = envelope_problem(actor, env)
                if denied:
                    raise InvalidRequest([DomainError("payload", "forbidden", denied[1])])
                if env.type == "dispatch.created":
                    for p in env.payload["placements"]:
                        refs[p["placement_id"]] = PlacementRef(p["placement_id"], p["worker_id"],
                                                               env.payload["employer"]["employer_id"])
            except InvalidRequest as exc:
                results.append(_result(index, item.event_id, "rejected", "; ".join(str(e) for e in exc.errors)))
                continue
            envelopes.append((index, env))
        new_brands = {e.payload["brand_id"] for _, e in envelopes if e.type == "brand.registered"}
        problems = await check_brands(request, [e for _, e in envelopes], new_brands)
        for position, unseen in (await _unseen_workers(request, actor, [e for _, e in envelopes])).items():
            problems.setdefault(position, unseen)
        accepted: list[tuple[int, Outgoing]] = []
        for position, (index, env) in enumerate(envelopes):
            problem = problems.get(position)
            if problem is None and env.type == "brand.status_changed":
                problem = await check_brand_transition(request, env)
            if problem:
                results.append(_result(index, env.event_id, "rejected", problem))
            else:
                accepted.append((index, env))
        if accepted:
            await request.app.state.publisher.publish([e for _, e in accepted])
        for index, env in accepted:
            results.append(_result(index, env.event_id, "accepted", None, env.payload.get("worker_id"),
                                   env.payload.get("brand_id")))
        results.sort(key=lambda r: r["index"])
        return 200, {"results": results}

    return await idempotent(request, action)


def _result(index: int, event_id: uuid.UUID | None, status: str, reason: str | None = None,
            worker_id: str | None = None, brand_id: str | None = None) -> dict[str, Any]:
    """One ``BatchItemResult`` as its JSON: a plain dict, as up to 1,000 models per answer were a measurable cost.

    ``event_id`` stays a UUID: both writers of the answer, ``FastJSONResponse`` and the jsonb codec that keeps it
    for an ``Idempotency-Key``, are orjson, which writes it as ``str()`` would in a fraction of the time.
    """
    return {"index": index, "event_id": event_id, "status": status,
            "reason": reason, "worker_id": worker_id, "brand_id": brand_id}


async def _placement_refs(request: Request, body: BatchRequest, actor: Actor) -> dict[str, PlacementRef]:
    """Placements the batch's placement and follow-up events name, as far as the ledger shows them to the caller."""
    wanted = {str(i.payload.get("placement_id")) for i in body.events
              if (i.type.startswith("placement.") or i.type == "followup.recorded") and i.payload.get("placement_id")}
    if not wanted:
        return {}
    rows = await known.placement_refs(request.app.state.pool, sorted(wanted), actor)
    return {pid: PlacementRef(pid, r["worker_id"], r["employer_id"]) for pid, r in rows.items()
            if actor.role == "admin" or r["employer_id"] == actor.org or r["organizer_id"] == actor.org}


async def _households(request: Request, body: BatchRequest, actor: Actor) -> dict[str, str]:
    """Current household regions of the workers the batch's household moves name, as far as the caller sees them."""
    wanted = sorted({str(i.payload.get("worker_id")) for i in body.events
                     if i.type == "worker.household_moved" and i.payload.get("worker_id")})
    return await queries.households(request.app.state.pool, wanted, actor) if wanted else {}


async def _unseen_workers(request: Request, actor: Actor, envelopes: list[Outgoing]) -> dict[int, str]:
    """Items about workers the caller may not act on (``laowu.store.known``), unless the batch registers them."""
    if actor.role == "admin":
        return {}
    registered = {e.payload["worker_id"] for e in envelopes if e.type == "worker.registered"}
    named: dict[int, list[str]] = {}
    for i, e in enumerate(envelopes):
        if e.type.startswith("worker.") and e.type != "worker.registered":
            named[i] = [e.payload["worker_id"]]
        elif e.type == "dispatch.created":
            named[i] = [p["worker_id"] for p in e.payload["placements"]]
    wanted = sorted({w for ws in named.values() for w in ws} - registered)
    seen = await known.acting_workers(request.app.state.pool, wanted, actor) if wanted else {}
    out = {}
    for i, ws in named.items():
        missing = [w for w in ws if w not in seen and w not in registered]
        if missing:
            out[i] = f"unknown worker {missing[0]}"
    return out
