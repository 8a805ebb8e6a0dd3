"""Who an audit entry names: the credential (its subject, else its organization), role and organization, and the
client's address (``api.proxies`` has already put the client, not the proxy, in the scope)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from laowu.store import queries
from schemas.common import Actor


def identity(request: Request, actor: Actor) -> dict[str, Any]:
    """The ``actor``, ``role``, ``org`` and ``ip`` fields of an audit entry for this request."""
    return {"actor": actor.subject or actor.org, "role": actor.role, "org": actor.org,
            "ip": request.client.host if request.client else None}


async def record(request: Request, actor: Actor, action: str, **fields: Any) -> None:
    """Write one audit entry for this request (``fields``: worker_id, purpose, detail)."""
    await queries.audit(request.app.state.pool, action=action, **identity(request, actor), **fields)


ANONYMOUS: dict[str, Any] = {"actor": "anonymous", "role": "anonymous", "org": "-"}
"""Who an entry names when nobody we know acted (a sign-in naming no account)."""


async def record_anonymous(request: Request, action: str, **fields: Any) -> None:
    """Write one audit entry for a request without a known actor."""
    ip = request.client.host if request.client else None
    await queries.audit(request.app.state.pool, action=action, ip=ip, **ANONYMOUS, **fields)
