"""Accounts for people, administered by an admin (``/v1/accounts``).

Parses, calls ``laowu.application.accounts`` and renders: no SQL and no rules here. The service's refusals become
HTTP as API.md's accounts section says (README "Accounts and sign-in").
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from api.access import CurrentActor
from api.routing import JSONRoute
from api.signin import NewPassword, Username, door, rendered
from laowu.accounts_policy import USERNAME_PATTERN
from laowu.application import accounts as service
from schemas.common import Identifier, Name, RegionCode, Role, Strict

router = APIRouter(route_class=JSONRoute, tags=["accounts"])


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


def _out(account: service.Account) -> AccountOut:
    return AccountOut(**service.public(account))


@router.get("/v1/accounts", response_model=AccountPage)
async def list_accounts(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> AccountPage:
    items, next_cursor = await service.listing(door(request), after=cursor, limit=limit)
    return AccountPage(items=items, next_cursor=next_cursor)  # type: ignore[arg-type]


@router.post("/v1/accounts", status_code=201, response_model=AccountOut)
async def create_account(body: AccountCreate, request: Request,
                         actor: CurrentActor) -> AccountOut:
    with rendered():
        account = await service.create(door(request), actor, username=body.username,
                                       display_name=body.display_name, role=body.role, org=body.org,
                                       region=body.region, password=body.password)
    return _out(account)


@router.patch("/v1/accounts/{username}", response_model=AccountOut)
async def update_account(username: Annotated[str, Path(pattern=USERNAME_PATTERN)], body: AccountUpdate,
                         request: Request, actor: CurrentActor) -> AccountOut:
    # Only the fields the request names: ``"region": null`` (an admin's) differs from no region given.
    with rendered():
        account = await service.update(door(request), actor, username,
                                       body.model_dump(exclude_unset=True))
    return _out(account)


@router.post("/v1/accounts/{username}/password", status_code=204, response_class=Response)
async def reset_account_password(username: Annotated[str, Path(pattern=USERNAME_PATTERN)], body: PasswordReset,
                                 request: Request,
                                 actor: CurrentActor) -> Response:
    with rendered():
        await service.reset_password(door(request), actor, username, body.new_password)
    return Response(status_code=204)
