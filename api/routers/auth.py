"""Credentials: API keys for machine clients (workstation terminals) and passwords of people (accounts) exchanged
for short-lived tokens; who am I, sign-out, password change; audit.

Parses, calls ``laowu.store.credentials`` / ``laowu.store.queries`` / ``laowu.application.accounts`` and renders: no
SQL here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from api import auditing
from api.access import CurrentActor
from api.deps import PoolDep, SettingsDep
from api.routing import JSONRoute
from api.signin import NewPassword, door, rendered
from laowu import auth
from laowu.application import accounts as service
from laowu.domain import regions
from laowu.domain.errors import DomainError
from laowu.intake import InvalidRequest
from laowu.store import credentials, queries
from schemas.common import CLEAN, Identifier, RegionCode, Role, Strict

router = APIRouter(route_class=JSONRoute, tags=["access"])


class TokenRequest(Strict):
    api_key: Annotated[str, Field(min_length=8, max_length=200), CLEAN]


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


Password = Annotated[str, StringConstraints(strip_whitespace=False), Field(min_length=1, max_length=1024), CLEAN]
"""A password as typed, spaces included; any password an account may have fits (new ones: ``NewPassword``)."""


class LoginRequest(Strict):
    username: Annotated[str, Field(min_length=1, max_length=128), CLEAN]
    password: Password


class AccountBrief(BaseModel):
    username: str
    display_name: str
    role: str
    org: str
    region: str | None


class LoginResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    account: AccountBrief


class Me(BaseModel):
    username: str | None = Field(description="The account of a token from a sign-in; null for an API key's token.")
    display_name: str | None
    role: str
    org: str
    region: str | None
    expires_at: datetime = Field(description="When this token expires; sign in again before.")


class PasswordChange(Strict):
    current_password: Password
    new_password: NewPassword


class CredentialCreate(Strict):
    role: Role
    org: Identifier
    region: RegionCode | None = None


class CredentialCreated(BaseModel):
    credential_id: str
    api_key: str = Field(description="Shown once; only its hash is stored.")
    role: str
    org: str
    region: str | None


class AuditEntry(BaseModel):
    seq: int
    at: Any
    actor: str
    role: str
    org: str
    action: str
    worker_id: str | None
    purpose: str | None
    ip: str | None
    detail: dict[str, Any]


class AuditPublic(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None = None


@router.post("/v1/auth/token", response_model=TokenResponse)
async def exchange(body: TokenRequest, pool: PoolDep, settings: SettingsDep) -> TokenResponse:
    found = await credentials.active(pool, auth.hash_api_key(body.api_key))
    if found is None:
        raise HTTPException(status_code=401, detail="unknown or revoked API key")
    token = auth.issue(settings, role=found.role, org=found.org, region=found.region,
                       subject=f"credential:{found.credential_id}")
    return TokenResponse(access_token=token, expires_in=min(settings.token_ttl_s, settings.token_max_ttl_s))


_PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@router.post("/v1/auth/login", response_model=LoginResponse, responses={
    401: {"description": "Wrong user name or password, the same answer for both: `bad_credentials` at "
                         "`[\"body\", \"password\"]`, msg 用户名或密码错误", "content": _PROBLEM},
    403: {"description": "`account_locked` (with `Retry-After`; msg 账户已锁定，请于 HH:MM 后重试) or `account_disabled`, "
                         "at `[\"body\", \"username\"]`", "content": _PROBLEM}})
async def login(body: LoginRequest, request: Request) -> LoginResponse:
    """Sign in with a user name and password: the same bearer token an API key gets, naming the account."""
    with rendered("username"):
        session = await service.sign_in(door(request), body.username, body.password)
    a = session.account
    return LoginResponse(access_token=session.access_token, expires_in=session.expires_in,
                         account=AccountBrief(username=a.username, display_name=a.display_name, role=a.role, org=a.org,
                                              region=a.region))


@router.get("/v1/auth/me", response_model=Me)
async def who_am_i(request: Request, actor: CurrentActor) -> Me:
    found = await service.who_am_i(door(request), actor)
    return Me(**found, expires_at=datetime.fromtimestamp(request.state.token_exp, UTC))


@router.post("/v1/auth/password", status_code=204, response_class=Response)
async def change_password(body: PasswordChange, request: Request, actor: CurrentActor) -> Response:
    """Change one's own password; the account's other sessions are signed out, this one stays."""
    with rendered("current_password"):
        await service.change_password(door(request), actor, request.state.token_jti,
                                      body.current_password, body.new_password)
    return Response(status_code=204)


@router.post("/v1/auth/logout", status_code=204, response_class=Response)
async def logout(request: Request, pool: PoolDep, actor: CurrentActor) -> Response:
    """Sign out: the token presented is refused from now on (at once here, within LAOWU_REVOCATION_REFRESH_S at the
    other replicas), and an open feed on it closes."""
    await request.app.state.revocations.revoke(pool, jti=request.state.token_jti, subject=actor.subject or actor.org,
                                               expires=request.state.token_exp)
    await auditing.record(request, actor, "account.sign_out", detail={"session": request.state.token_jti})
    return Response(status_code=204)


@router.post("/v1/credentials", status_code=201, response_model=CredentialCreated)
async def create_credential(body: CredentialCreate, request: Request, pool: PoolDep, actor: CurrentActor) -> CredentialCreated:
    if body.role != "admin" and (body.region is None or not regions.region_exists(body.region)):
        raise InvalidRequest([DomainError("region", "region", "a GB/T 2260 region is required for this role")])
    key, digest = auth.new_api_key()
    credential_id = await credentials.create(pool, key_hash=digest, role=body.role, org=body.org, region=body.region,
                                             created_by=actor.subject or actor.org)
    await auditing.record(request, actor, "credential.create",
                          detail={"credential_id": credential_id, "role": body.role, "org": body.org, "region": body.region})
    return CredentialCreated(credential_id=credential_id, api_key=key, role=body.role, org=body.org, region=body.region)


@router.get("/v1/audit", response_model=AuditPublic)
async def audit_log(
    pool: PoolDep,
    worker_id: Annotated[str | None, Query(max_length=32)] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> AuditPublic:
    rows = await queries.audit_entries(pool, worker_id=worker_id, actor=actor, after=cursor, limit=limit)
    return AuditPublic(items=rows,  # type: ignore[arg-type]
                       next_cursor=str(rows[-1]["seq"]) if len(rows) == limit else None)
