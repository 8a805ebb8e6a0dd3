"""Receipts and offline batches (workstations that sync after working offline)."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api.access import BATCH_ROLES, CurrentActor
from api.deps import IntakeDep, PoolDep
from api.pagination import decode_cursor, encode_cursor
from api.routing import JSONRoute
from api.writes import chosen_event_id, event_id_for, idempotent, lookups, scope_of
from laowu.application import catalogue
from laowu.application.commands import Command, CreateDispatch
from laowu.application.errors import Invalid, Refused
from laowu.application.facts import gather
from laowu.domain.errors import DomainError
from laowu.intake import Context, InvalidRequest
from laowu.store import receipts
from laowu.store.queries import NotFound
from schemas.api import BatchRequest, BatchResult, Receipt, ReceiptsPublic
from schemas.envelope import Outgoing
from schemas.events import EventType

router = APIRouter(route_class=JSONRoute, prefix="/v1/events", tags=["events"])


@router.get("", response_model=ReceiptsPublic, name="list_receipts")
async def list_receipts(
    pool: PoolDep,
    actor: CurrentActor,
    status: Literal["accepted", "applied", "rejected"] | None = None,
    type: EventType | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> ReceiptsPublic:
    """What became of what my organization sent (回执), newest first: the console's "my receipts", rejected ones
    with their reasons (``status=rejected``). Only the sender's own (an admin's: everyone's). It lists what was
    sent through the API and every rejected event; an applied worker or placement event sent to Kafka directly
    has no receipt row (its history row is its receipt) and is found by ``GET /v1/events/{event_id}``."""
    rows = await receipts.sent_by(pool, None if actor.role == "admin" else actor.org, status=status, type_=type,
                                  after=_receipt_key(decode_cursor(cursor)), limit=limit)
    last = rows[-1] if len(rows) == limit else None
    return ReceiptsPublic(items=rows,  # type: ignore[arg-type]
                          next_cursor=encode_cursor(f"{last['accepted_at'].isoformat()}|{last['event_id']}") if last else None)


def _receipt_key(key: str | None) -> tuple[datetime.datetime, uuid.UUID] | None:
    if key is None:
        return None
    at, _, event_id = key.partition("|")
    try:
        return datetime.datetime.fromisoformat(at), uuid.UUID(event_id)
    except ValueError:
        raise InvalidRequest([DomainError("cursor", "format", "not a cursor this API issued")], "query") from None


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
    """Each item is decided on its own, by the handler of its command (the same as the single endpoint's), in
    order: an item may name what an earlier one of the batch created. Accepted items are published, rejected ones
    say why, in the words the single endpoint answers with."""
    settings = request.app.state.settings
    if len(body.events) > settings.max_batch_events:
        return JSONResponse(status_code=413, content={"detail": [{
            "loc": ["body", "events"], "msg": f"at most {settings.max_batch_events} events per batch",
            "type": "too_many"}]})

    async def action(key: str | None) -> tuple[int, Any]:
        results: list[dict[str, Any]] = []
        parsed: list[tuple[int, uuid.UUID | None, Command, Context]] = []
        scope = scope_of(request)
        shared = Context(actor=actor, lean=True)  # frozen: the items without an event id can share it
        for index, item in enumerate(body.events):
            if actor.role not in BATCH_ROLES.get(item.type, frozenset()):
                results.append(_result(index, item.event_id, "rejected", f"role {actor.role} may not send {item.type}"))
                continue
            try:
                command = catalogue.parse(item)
            except Invalid as exc:
                results.append(_result(index, item.event_id, "rejected", _reason(exc)))
                continue
            event_id = (chosen_event_id(scope, item.event_id) if item.event_id
                        else event_id_for(scope, key, index) if key else None)
            ctx = shared if event_id is None else Context(actor=actor, event_id=event_id, lean=True)
            parsed.append((index, item.event_id, command, ctx))
        facts = await gather(lookups(request), [command for _, _, command, _ in parsed], actor)
        accepted: list[tuple[int, Outgoing]] = []
        for index, chosen, command, ctx in parsed:
            try:
                # A dispatch keeps a worker on an active placement: the ledger refuses them in the same words.
                env = catalogue.decide(intake, command, facts, ctx, **_BATCH_OPTIONS.get(type(command), {})).envelope
            except (Invalid, Refused) as exc:
                results.append(_result(index, chosen, "rejected", _reason(exc)))
                continue
            accepted.append((index, env))
        if accepted:
            await request.app.state.publisher.publish([e for _, e in accepted])
        for index, env in accepted:
            results.append(_result(index, env.event_id, "accepted", None, env.payload.get("worker_id"),
                                   env.payload.get("brand_id")))
        results.sort(key=lambda r: r["index"])
        return 200, {"results": results}

    return await idempotent(request, action)


_BATCH_OPTIONS: dict[type[Command], dict[str, Any]] = {CreateDispatch: {"leave_out": False}}


def _reason(exc: Exception) -> str:
    """A rejected item's reason: the single endpoint's message (422: every field error; else the refusal's)."""
    if isinstance(exc, Invalid):
        return "; ".join(str(e) for e in exc.errors)
    return exc.reason if isinstance(exc, Refused) else str(exc)


def _result(index: int, event_id: uuid.UUID | None, status: str, reason: str | None = None,
            worker_id: str | None = None, brand_id: str | None = None) -> dict[str, Any]:
    """One ``BatchItemResult`` as its JSON: a plain dict, as up to 1,000 models per answer were a measurable cost.

    ``event_id`` stays a UUID: both writers of the answer, ``FastJSONResponse`` and the jsonb codec that keeps it
    for an ``Idempotency-Key``, are orjson, which writes it as ``str()`` would in a fraction of the time.
    """
    return {"index": index, "event_id": event_id, "status": status,
            "reason": reason, "worker_id": worker_id, "brand_id": brand_id}
