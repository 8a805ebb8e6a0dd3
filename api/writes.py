"""The one way a write happens: idempotency → the command's handler (``laowu.application``: facts, validation,
rules, envelope) → publish → 202. Idempotency is HTTP's; everything the handler decides is every door's."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse

from api.errors import Conflict, Forbidden
from laowu.application import catalogue, errors
from laowu.application.commands import Command
from laowu.application.facts import Facts, gather
from laowu.application.handlers import Decision
from laowu.application.lookups import PoolLookups
from laowu.domain import ids
from laowu.intake import Context
from laowu.store import idempotency
from laowu.store.queries import NotFound


class FastJSONResponse(JSONResponse):
    """JSON rendered by orjson: a 1,000-item batch answer took the stdlib encoder a couple of milliseconds."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def scope_of(request: Request) -> str:
    """Idempotency keys are scoped to the credential; until access control lands, to anonymous callers."""
    actor = getattr(request.state, "actor", None)
    return f"{actor.role}:{actor.org}" if actor else "anonymous"


def chosen_event_id(scope: str, chosen: uuid.UUID) -> uuid.UUID:
    """The id an event chosen by a client is stored under: the client's id within its credential's scope.

    Event ids are global (the ledger keeps one event per id), so a client-chosen id taken as it is lets one
    organisation pre-empt another's event — guess or learn its id, or compute one derived from its
    Idempotency-Key — and the victim's write is dropped as a duplicate. Scoped, the same client retrying keeps one
    id, and nobody else can reach it. A separate namespace keeps chosen ids apart from idempotency-derived ones.
    """
    return uuid.uuid5(ids.CLIENT_CHOSEN, f"{scope}\n{chosen}")


def event_id_for(scope: str, key: str, index: int | None = None) -> uuid.UUID:
    """Deterministic, so even two concurrent retries publish the same event_id and the consumer keeps one."""
    return uuid.uuid5(ids.IDEMPOTENCY, f"{scope}\n{key}" + ("" if index is None else f"\n{index}"))


async def idempotent(
    request: Request, action: Callable[[str | None], Awaitable[tuple[int, Any]]]
) -> JSONResponse:
    key = request.headers.get("idempotency-key")
    if not key:
        status, body = await action(None)
        return FastJSONResponse(status_code=status, content=body)
    if len(key) > 200:
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": ["header", "Idempotency-Key"], "msg": "at most 200 characters", "type": "too_long"}]})
    scope = scope_of(request)
    digest = hashlib.sha256(request.method.encode() + request.url.path.encode() + await request.body()).hexdigest()
    pool = request.app.state.pool
    stored = await idempotency.find(pool, scope, key)
    if stored is None:
        status, body = await action(key)
        if status >= 500:
            return JSONResponse(status_code=status, content=body)
        stored = await idempotency.remember(pool, scope, key, digest, status, body)
    if stored["request_hash"] != digest:
        return JSONResponse(status_code=409, content={"detail": [
            {"loc": ["header", "Idempotency-Key"], "msg": "key was used for a different request", "type": "key_reused"}]})
    return FastJSONResponse(status_code=stored["status_code"], content=stored["body"])


def lookups(request: Request) -> PoolLookups:
    """The handlers' lookups for this app: its pool, and its coalesced brand lookup shared by concurrent requests."""
    return PoolLookups(request.app.state.pool, request.app.state.brand_statuses)


def decided(request: Request, command: Command, facts: Facts, ctx: Context) -> Decision:
    """The handler's decision for a single request, its refusals translated into HTTP's errors (404/403/409; 422
    passes as it is)."""
    try:
        return catalogue.decide(request.app.state.intake, command, facts, ctx)
    except errors.NotFound as exc:
        raise NotFound(exc.id) from None
    except errors.Forbidden as exc:
        raise Forbidden(exc.reason) from None
    except errors.Conflict as exc:
        raise Conflict(exc.errors) from None


Render = Callable[[Decision], dict[str, Any]]


async def write(request: Request, command: Command, ids: tuple[str, ...] = (), render: Render | None = None
                ) -> JSONResponse:
    """Single-event write: 202 ``{event_id, status: accepted, <ids>}`` (plus what ``render`` adds)."""

    async def action(key: str | None) -> tuple[int, Any]:
        actor = getattr(request.state, "actor", None)
        ctx = Context(actor=actor, event_id=event_id_for(scope_of(request), key) if key else None)
        facts = await gather(lookups(request), [command], actor) if actor is not None else Facts()
        decision = decided(request, command, facts, ctx)
        envelope = decision.envelope
        await request.app.state.publisher.publish([envelope])
        body: dict[str, Any] = {"event_id": str(envelope.event_id), "status": "accepted"}
        for name in ids:
            body[name] = envelope.payload.get(name)
        if render is not None:
            body.update(render(decision))
        return 202, body

    return await idempotent(request, action)
