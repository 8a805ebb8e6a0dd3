"""What the sign-in routes (``api.routers.auth``) and the account administration (``api.routers.accounts``) share:
the service's :class:`~laowu.application.accounts.Door` for a request, the rendering of its refusals, the body types
of user names and new passwords. (A router is no other router's service.)"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import HTTPException, Request
from pydantic import Field, StringConstraints

from api import auditing
from api.errors import Conflict, Forbidden
from laowu.accounts_policy import PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN, locked_message, retry_after_s
from laowu.application import accounts as service
from laowu.application import errors
from laowu.settings import Settings
from schemas.common import CLEAN, Actor

Username = Annotated[str, Field(pattern=USERNAME_PATTERN, description="2–64 lower-case letters, digits, . _ -")]
NewPassword = Annotated[str, StringConstraints(strip_whitespace=False), CLEAN,  # a space is part of a password
                        Field(max_length=1024, json_schema_extra={"minLength": PASSWORD_MIN,
                                                                  "maxLength": PASSWORD_MAX},
                              description=f"{PASSWORD_MIN}–{PASSWORD_MAX} characters, not only digits, not the "
                                          "user name (422 field-level otherwise)")]
"""The policy (``laowu.accounts_policy``) answers with Chinese messages beside the English; the schema states the
length for clients, the body takes up to 1,024 characters so that the policy, not the parser, says what is wrong."""


def door(request: Request) -> service.Door:
    """The service's view of this request: the pool, the settings, audit entries for it, the revocation list."""

    async def audit(actor: Actor | None, action: str, detail: dict[str, Any]) -> None:
        if actor is None:
            await auditing.record_anonymous(request, action, detail=detail)
        else:
            await auditing.record(request, actor, action, detail=detail)

    settings: Settings = request.app.state.settings
    return service.Door(request.app.state.pool, settings, audit, request.app.state.revocations.note)


@contextlib.contextmanager
def rendered(field: str = "username") -> Iterator[None]:
    """The service's refusals as HTTP: sign-in refusals in the contract's shape (``field``: the field a lock or a
    disabled account is reported at), the application's errors as the API's (422 passes as it is)."""
    try:
        yield
    except service.SignInRefused as exc:
        raise refusal(exc, field) from None
    except errors.Forbidden as exc:
        raise Forbidden(exc.reason) from None
    except errors.Conflict as exc:
        raise Conflict(exc.errors) from None


def refusal(exc: service.SignInRefused, field: str) -> HTTPException:
    if exc.kind == "account_locked" and exc.locked_until is not None:
        wait = retry_after_s(exc.locked_until, service.now())
        return HTTPException(403, [_item(field, locked_message(exc.locked_until), "account_locked")],
                             headers={"Retry-After": str(wait)})
    if exc.kind == "account_disabled":
        return HTTPException(403, [_item(field, "账户已停用，请联系管理员", "account_disabled")])
    return HTTPException(401, [_item("password", "用户名或密码错误", "bad_credentials")],
                         headers={"WWW-Authenticate": "Bearer"})


def _item(field: str, msg: str, type_: str) -> dict[str, Any]:
    return {"loc": ["body", field], "msg": msg, "msg_zh": msg, "type": type_}
