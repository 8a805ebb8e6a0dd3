"""Accounts for people, administered by an admin (``/v1/accounts``), and what the sign-in routes share.

Parses, calls ``laowu.application.accounts`` and renders: no SQL and no rules here. The service's refusals become
HTTP as API.md's accounts section says (README "Accounts and sign-in").
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from api import auditing
from api.access import CurrentActor
from api.deps import PoolDep, SettingsDep
from api.errors import Conflict, Forbidden
from api.routing import JSONRoute
from laowu.accounts_policy import PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN, locked_message, retry_after_s
from laowu.application import accounts as service
from laowu.application import errors
from schemas.common import Actor, Identifier, Name, RegionCode, Role, Strict

router = APIRouter(route_class=JSONRoute, tags=["accounts"])

Username = Annotated[str, Field(pattern=USERNAME_PATTERN, description="2–64 lower-case letters, digits, . _ -")]
NewPassword = Annotated[str, StringConstraints(strip_whitespace=False),  # a space is part of a password
                        Field(max_length=1024, json_schema_extra={"minLength": PASSWORD_MIN,
                                                                  "maxLength": PASSWORD_MAX},
                              description=f"{PASSWORD_MIN}–{PASSWORD_MAX} characters, not only digits, not the "
                                          "user name (422 field-level otherwise)")]
"""The policy (``laowu.accounts_policy``) answers with Chinese messages beside the English; the schema states the
length for clients, the body takes up to 1,024 characters so that the policy, not the parser, says what is wrong."""


class AccountOut(BaseModel):
    username: str
    display_name: str
    role: str
    org: str
    region: str | None
    enabled: bool
    locked_until: datetime | None = Field(description="Set while a lockout holds (too many wrong passwords).")
    password_changed_at: datetime
    created_at: datetime
    updated_at: datetime


class AccountPage(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None = None


class AccountCreate(Strict):
    username: Username
    display_name: Name
    role: Role
    org: Identifier
    region: RegionCode | None = None
    password: NewPassword


class AccountUpdate(Strict):
    """Only the fields given change. ``region`` may be null (an admin has none); the others may be left out, not
    null (``Field(default=None)`` on a non-nullable type: absent is allowed, ``null`` is a 422)."""

    display_name: Name = Field(default=None)  # type: ignore[assignment]
    role: Role = Field(default=None)  # type: ignore[arg-type]
    org: Identifier = Field(default=None)  # type: ignore[assignment]
    region: RegionCode | None = None
    enabled: bool = Field(default=None)  # type: ignore[assignment]


class PasswordReset(Strict):
    new_password: NewPassword


def door(request: Request, pool: PoolDep, settings: SettingsDep) -> service.Door:
    """The service's view of this request: the pool, the settings, audit entries for it, the revocation list."""

    async def audit(actor: Actor | None, action: str, detail: dict[str, Any]) -> None:
        if actor is None:
            await auditing.record_anonymous(request, action, detail=detail)
        else:
            await auditing.record(request, actor, action, detail=detail)

    return service.Door(pool, settings, audit, request.app.state.revocations.note)


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


def _out(account: service.Account) -> AccountOut:
    return AccountOut(**service.public(account))


@router.get("/v1/accounts", response_model=AccountPage)
async def list_accounts(
    request: Request, pool: PoolDep, settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> AccountPage:
    items, next_cursor = await service.listing(door(request, pool, settings), after=cursor, limit=limit)
    return AccountPage(items=items, next_cursor=next_cursor)  # type: ignore[arg-type]


@router.post("/v1/accounts", status_code=201, response_model=AccountOut)
async def create_account(body: AccountCreate, request: Request, pool: PoolDep, settings: SettingsDep,
                         actor: CurrentActor) -> AccountOut:
    with rendered():
        account = await service.create(door(request, pool, settings), actor, username=body.username,
                                       display_name=body.display_name, role=body.role, org=body.org,
                                       region=body.region, password=body.password)
    return _out(account)


@router.patch("/v1/accounts/{username}", response_model=AccountOut)
async def update_account(username: Annotated[str, Path(pattern=USERNAME_PATTERN)], body: AccountUpdate,
                         request: Request, pool: PoolDep, settings: SettingsDep, actor: CurrentActor) -> AccountOut:
    # Only the fields the request names: ``"region": null`` (an admin's) differs from no region given.
    with rendered():
        account = await service.update(door(request, pool, settings), actor, username,
                                       body.model_dump(exclude_unset=True))
    return _out(account)


@router.post("/v1/accounts/{username}/password", status_code=204, response_class=Response)
async def reset_account_password(username: Annotated[str, Path(pattern=USERNAME_PATTERN)], body: PasswordReset,
                                 request: Request, pool: PoolDep, settings: SettingsDep,
                                 actor: CurrentActor) -> Response:
    with rendered():
        await service.reset_password(door(request, pool, settings), actor, username, body.new_password)
    return Response(status_code=204)
