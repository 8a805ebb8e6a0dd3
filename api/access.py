"""Who may do what (access rules), authentication before anything else (401), rate limits (429).

Every ``/v1`` route must have a rule here; a route without one is refused (deny by default) and the
route-table test fails, so a new endpoint cannot ship unguarded. Jurisdiction (a GB/T 2260 code covers its
sub-regions) is applied by the queries; out-of-scope records answer 404 as if they did not exist.
"""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, HTTPException, Request

from api import ratelimit
from api.middleware import CleanParameters
from api.ratelimit import Buckets
from api.revocations import Revocations, pool_of
from laowu.auth import InvalidCredential, verify_claims
from laowu.settings import Settings
from schemas import events as ev
from schemas.common import Actor
from schemas.events import CATALOGUE, FIELD, LIBRARY, STAFF

SENDERS = {spec.payload: spec.senders for spec in CATALOGUE}  # a route that publishes one event type: its senders

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

ALL = frozenset({"workstation", "employer", "bureau", "admin"})
# STAFF, LIBRARY and FIELD: the role groups of the event catalogue (schemas.events), so a route and the event it
# publishes name the same senders.

RULES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/v1/auth/token"): frozenset(),  # public: exchanges an API key
    ("POST", "/v1/auth/logout"): frozenset({"workstation", "employer", "bureau", "admin"}),  # signs out its token
    ("POST", "/v1/auth/login"): frozenset(),  # public: exchanges a user name and password
    ("GET", "/v1/auth/me"): ALL,
    ("POST", "/v1/auth/password"): ALL,  # a person's own password (403 for a token of an API key)
    ("GET", "/v1/accounts"): frozenset({"admin"}),
    ("POST", "/v1/accounts"): frozenset({"admin"}),
    ("PATCH", "/v1/accounts/{username}"): frozenset({"admin"}),
    ("POST", "/v1/accounts/{username}/password"): frozenset({"admin"}),
    ("POST", "/v1/credentials"): frozenset({"admin"}),
    ("GET", "/v1/audit"): frozenset({"admin"}),
    ("POST", "/v1/brands"): LIBRARY,
    ("GET", "/v1/brands"): ALL,
    ("GET", "/v1/brands/{brand_id}"): ALL,
    ("GET", "/v1/brands/{brand_id}/history"): ALL,
    ("PATCH", "/v1/brands/{brand_id}"): LIBRARY,
    ("POST", "/v1/brands/{brand_id}/status"): LIBRARY,
    ("POST", "/v1/workers"): FIELD,
    ("GET", "/v1/workers"): ALL,
    # Only roles that register people may confirm an ID number (rate-limited and audited in the router).
    ("POST", "/v1/workers:lookup"): STAFF,
    ("GET", "/v1/workers/{worker_id}"): ALL,
    ("PATCH", "/v1/workers/{worker_id}"): FIELD,
    ("POST", "/v1/workers/{worker_id}/household"): STAFF,  # and jurisdiction over the current household region
    ("GET", "/v1/workers/{worker_id}/discrepancies"): STAFF,
    ("GET", "/v1/workers/{worker_id}/history"): STAFF,
    ("POST", "/v1/workers/{worker_id}/certificates"): FIELD,
    ("POST", "/v1/workers/{worker_id}/trainings"): FIELD,
    ("POST", "/v1/workers/{worker_id}/brands"): FIELD,
    ("POST", "/v1/workers/{worker_id}:reveal"): STAFF,
    ("GET", "/v1/events/{event_id}"): ALL,
    ("GET", "/v1/events"): ALL,  # the sender's own receipts (an admin's: all)
    ("POST", "/v1/events:batch"): ALL,  # and per item by type: see BATCH_ROLES
    ("POST", "/v1/dispatches"): FIELD,
    ("GET", "/v1/dispatches/{dispatch_id}"): ALL,
    ("GET", "/v1/placements/{placement_id}"): ALL,
    ("GET", "/v1/placements"): ALL,  # scoped as one placement is
    # Only the employer named on the dispatch: an admin must not forge an employer's word.
    ("POST", "/v1/placements/{placement_id}/confirm"): frozenset({"employer"}),
    ("POST", "/v1/placements/{placement_id}/reject"): frozenset({"employer"}),
    ("POST", "/v1/placements/{placement_id}/end"): frozenset({"employer", "workstation"}),
    ("POST", "/v1/followups"): frozenset({"workstation"}),
    ("GET", "/v1/alerts"): STAFF,
    ("GET", "/v1/subsidies"): STAFF,
    ("GET", "/v1/templates/workers.xlsx"): STAFF,
    ("GET", "/v1/templates/dispatch.xlsx"): STAFF,
    ("POST", "/v1/imports/workers"): FIELD,
    ("POST", "/v1/imports/dispatch"): FIELD,
    ("GET", "/v1/imports/{import_id}"): FIELD,
    ("GET", "/v1/imports/{import_id}/errors.xlsx"): FIELD,
    ("GET", "/v1/stats/overview"): STAFF,
    ("GET", "/v1/stats/brands/{brand_id}"): STAFF,
    ("GET", "/v1/stats/regions/{code}"): STAFF,
    ("GET", "/v1/targets"): STAFF,
    ("GET", "/v1/feed"): STAFF,
    ("GET", "/v1/export/workers.xlsx"): STAFF,
    ("GET", "/v1/export/stats.xlsx"): STAFF,
    # priority-group monitoring and alert casework (issue 20); jurisdiction as the queries apply it
    ("GET", "/v1/monitoring/table"): STAFF,
    ("GET", "/v1/monitoring/workers/{worker_id}/months"): STAFF,
    ("GET", "/v1/monitoring/returned-home"): STAFF,
    ("GET", "/v1/monitoring/not-in-work"): STAFF,
    ("GET", "/v1/export/monitoring.xlsx"): STAFF,
    ("POST", "/v1/export/monitoring-revealed.xlsx"): STAFF,
    ("POST", "/v1/alerts/{alert_id}/assign"): STAFF,
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): STAFF,
    ("POST", "/v1/alerts/{alert_id}/work"): STAFF,
    ("POST", "/v1/alerts/{alert_id}/resolve"): STAFF,
    ("POST", "/v1/alerts/{alert_id}/reopen"): STAFF,
    ("GET", "/v1/alerts/{alert_id}/case"): STAFF,
    ("GET", "/v1/cases"): STAFF,
    ("GET", "/v1/cases/figures"): STAFF,
    # job demands and matching (issue 19): demands are scoped by the query; a shortlist is for those who dispatch
    ("GET", "/v1/demands"): ALL,
    ("GET", "/v1/demands/{demand_id}"): ALL,
    ("GET", "/v1/demands/{demand_id}/shortlist"): STAFF,
    ("GET", "/v1/workers/{worker_id}/demands"): STAFF,
    ("POST", "/v1/demands"): SENDERS[ev.DemandPosted],  # and: an employer its own, staff their regions
    ("POST", "/v1/demands/{demand_id}/close"): SENDERS[ev.DemandClosed],  # its employer, poster, admin
    ("POST", "/v1/workers/{worker_id}/intention"): SENDERS[ev.WorkerIntentionRecorded],
    # organizations and the subsidy workflow (issue 21)
    ("POST", "/v1/organizations"): STAFF,
    ("GET", "/v1/organizations"): ALL,  # scoped: staff their region's, others themselves
    ("GET", "/v1/organizations/{org_id}"): ALL,
    ("GET", "/v1/organizations/{org_id}/history"): STAFF,
    ("POST", "/v1/organizations/{org_id}/verification"): LIBRARY,
    ("POST", "/v1/organizations/{org_id}/reveal"): STAFF,
    ("POST", "/v1/subsidies/{subsidy_id}/application"): FIELD,
    ("POST", "/v1/subsidies/{subsidy_id}/review"): LIBRARY,
    ("POST", "/v1/subsidies/{subsidy_id}/notice"): LIBRARY,
    ("POST", "/v1/subsidies/{subsidy_id}/objections"): LIBRARY,
    ("POST", "/v1/subsidies/{subsidy_id}/objection-decisions"): LIBRARY,
    ("POST", "/v1/subsidies/{subsidy_id}/payment"): LIBRARY,
    ("GET", "/v1/subsidies/{subsidy_id}"): STAFF,
    ("GET", "/v1/subsidy-notice"): STAFF,
    ("GET", "/v1/subsidy-notice.xlsx"): STAFF,
    ("GET", "/v1/subsidy-budgets"): STAFF,
    # cooperation between regions (issue 19): agreements by the bureaus of their sides (the handler checks which),
    # read by both sides' bureaus and the workstations that dispatch under them; postings by the destination's bureau
    ("POST", "/v1/agreements"): LIBRARY,
    ("GET", "/v1/agreements"): STAFF,
    ("GET", "/v1/agreements/{agreement_id}"): STAFF,
    ("PATCH", "/v1/agreements/{agreement_id}"): LIBRARY,
    ("POST", "/v1/agreements/{agreement_id}/end"): LIBRARY,
    ("GET", "/v1/flows"): STAFF,
    ("GET", "/v1/received"): STAFF,  # the receiving bureau, a posted workstation (an admin names a region)
    ("PUT", "/v1/postings/{workstation_id}"): LIBRARY,
    ("DELETE", "/v1/postings/{workstation_id}"): LIBRARY,
    ("GET", "/v1/postings"): STAFF,
}

# ---- brand dynamic management (动态管理, issue 21) ----
# The reviewer (评审专家) signs in, reads the library it reviews and scores; it sees no worker, no statistics.
REVIEWERS = frozenset({"reviewer"})
for _route in (("POST", "/v1/auth/logout"), ("GET", "/v1/auth/me"), ("POST", "/v1/auth/password"),
               ("GET", "/v1/brands"), ("GET", "/v1/brands/{brand_id}"), ("GET", "/v1/brands/{brand_id}/history"),
               ("GET", "/v1/events/{event_id}"), ("GET", "/v1/events"), ("POST", "/v1/events:batch")):
    RULES[_route] = RULES[_route] | REVIEWERS
RULES.update({
    ("POST", "/v1/brands/{brand_id}/applications"): LIBRARY,
    ("POST", "/v1/brands/{brand_id}/reviewers"): LIBRARY,
    ("POST", "/v1/brands/{brand_id}/scores"): REVIEWERS,  # the expert's own word: not an admin's
    ("POST", "/v1/brands/{brand_id}/decisions"): LIBRARY,
    ("POST", "/v1/brands/{brand_id}/rechecks"): LIBRARY,
    ("POST", "/v1/brands/{brand_id}/complaints"): STAFF,
    ("POST", "/v1/brands/{brand_id}/persons"): LIBRARY,
    ("GET", "/v1/brand-rules"): ALL | REVIEWERS,
    ("GET", "/v1/brands/{brand_id}/criteria"): LIBRARY | REVIEWERS,
    ("GET", "/v1/brands/{brand_id}/integrity"): ALL | REVIEWERS,
    ("GET", "/v1/brands/{brand_id}/recheck"): LIBRARY,
    ("GET", "/v1/brands/{brand_id}/management"): ALL | REVIEWERS,
    ("GET", "/v1/brand-applications"): LIBRARY,
    ("GET", "/v1/reviews"): REVIEWERS,
})

BATCH_ROLES: dict[str, frozenset[str]] = {spec.name: spec.senders for spec in CATALOGUE if spec.senders}
"""Who may send each event type through ``/v1/events:batch``: the catalogue's ``senders`` (schemas.events)."""


Headers = list[tuple[bytes, bytes]]


def _problem(status: int, msg: str, headers: Headers | None = None) -> tuple[int, bytes, Headers]:
    body = json.dumps({"detail": msg}).encode()
    return status, body, [(b"content-type", b"application/json"), *(headers or [])]


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float) -> None:
        self.tokens, self.stamp = tokens, time.monotonic()


class VerifiedTokens:
    """Tokens whose signature and claims were checked, by token string, until their ``exp`` (bounded LRU).

    Verifying an HS256 token (PyJWT: header, base64, HMAC, claims) cost about 6 % of the API process per request in
    the benchmarks, and a client sends the same token for its whole lifetime. A hit is only as good as the first
    check: the string is byte-for-byte the same, the keys are fixed for the process, and expiry is checked again
    on every hit. Failures are not cached (they are rare and cheap to repeat).
    """

    def __init__(self, settings: Settings, size: int = 10_000) -> None:
        self.settings, self.size = settings, size
        self.entries: OrderedDict[str, tuple[Actor, int, str]] = OrderedDict()

    def verify(self, token: str) -> Actor:
        """The token's actor, or :class:`InvalidCredential` (401)."""
        return self.verify_claims(token)[0]

    def verify_claims(self, token: str) -> tuple[Actor, int, str]:
        """(actor, exp, jti), or :class:`InvalidCredential` (401)."""
        entry = self.entries.get(token)
        if entry is not None:
            if time.time() < entry[1]:
                self.entries.move_to_end(token)
                return entry
            del self.entries[token]  # expired: the full check below answers 401 with PyJWT's reason
        entry = verify_claims(self.settings, token)
        self.entries[token] = entry
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return entry


# EventSource cannot set an Authorization header, so the feed alone takes ``?access_token=`` (the dashboard page
# is outside /v1 and needs no credential; its script passes the token on to the feed).
QUERY_TOKEN_ROUTES = frozenset({("GET", "/v1/feed")})


PUBLIC_PATHS = frozenset({"/v1/auth/token", "/v1/auth/login"})
"""Where a credential is obtained: no token is looked for, the route's cost class limits each client address."""


class Authenticate:
    """ASGI middleware: a ``/v1`` request without a valid credential is 401 before body or path are looked at."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], settings: Settings,
                 revocations: Revocations | None = None) -> None:
        self.app, self.settings = app, settings
        self.revocations = revocations or Revocations(settings.revocation_refresh_s)
        self.buckets: dict[str, _Bucket] = {}
        self.tokens = VerifiedTokens(settings)
        limits = ratelimit.parse_limits(settings.route_rate_limits)
        if "login" not in limits and "token" in limits:  # a spec written before sign-ins existed still limits them
            limits["login"] = limits["token"]
        self.costly = {name: Buckets(rate, burst) for name, (rate, burst) in limits.items()}

    def _costly_wait(self, scope: Scope, key: str) -> float:
        """0, or seconds to wait, from the bucket of the route's cost class (none for ordinary routes)."""
        name = ratelimit.route_class(scope.get("method", ""), scope.get("path", ""))
        bucket = self.costly.get(name) if name else None
        return bucket.take(key) if bucket is not None else 0.0

    def _token(self, scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                return token.strip() if scheme.lower() == "bearer" else None
        if (scope.get("method"), scope.get("path")) not in QUERY_TOKEN_ROUTES:
            return None  # a token in a URL ends up in histories and proxy logs: only where no header can be sent
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        return query.get("access_token", [None])[0]

    def _rate_ok(self, key: str) -> float:
        """0 when allowed, else seconds to wait (token bucket per credential)."""
        rate, burst = self.settings.rate_limit_per_s, self.settings.rate_limit_burst
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(burst)
        now = time.monotonic()
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.stamp) * rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        if path in PUBLIC_PATHS:  # no credential yet: limited by client address (behind trusted proxies)
            wait = self._costly_wait(scope, "ip:" + (scope.get("client") or ("-", 0))[0])
            if wait:
                await _send(send, _problem(429, "rate limit exceeded", _retry_after(wait)))
            else:
                await self.app(scope, receive, send)
            return
        token = self._token(scope)
        answer = None
        if not token:
            answer = _problem(401, "missing credential", [(b"www-authenticate", b"Bearer")])
        else:
            try:
                actor, expires, jti = self.tokens.verify_claims(token)
                await self.revocations.refresh(pool_of(scope))
                if self.revocations.is_revoked(jti):
                    raise InvalidCredential("token has been signed out")
            except InvalidCredential as exc:
                answer = _problem(401, f"invalid credential: {exc}", [(b"www-authenticate", b"Bearer")])
            else:
                # the feed closes its stream at expiry or sign-out (api.routers.feed)
                scope.setdefault("state", {}).update(token_jti=jti, token_exp=expires)
                key = actor.subject or actor.org
                # a request its parameters already refuse (422 next, api.middleware.CleanParameters) spends no costly
                # budget: a malformed export must not lock the caller out of the good one that follows
                costly = CleanParameters.problem(scope) is None
                wait = self._rate_ok(key) or (self._costly_wait(scope, key) if costly else 0.0)
                if wait:
                    answer = _problem(429, "rate limit exceeded", _retry_after(wait))
                else:
                    scope.setdefault("state", {})["actor"] = actor
        if answer is None:
            await self.app(scope, receive, send)
            return
        await _send(send, answer)


def _retry_after(wait: float) -> list[tuple[bytes, bytes]]:
    return [(b"retry-after", str(max(1, math.ceil(wait))).encode())]


async def _send(send: Send, answer: tuple[int, bytes, list[tuple[bytes, bytes]]]) -> None:
    status, body, headers = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def authorize(request: Request) -> Actor | None:
    """Router-level dependency: the matched route's rule decides; no rule means no access."""
    route = request.scope.get("route")
    template = getattr(route, "path_format", None)
    if not str(template).startswith("/v1/"):
        return None  # operations endpoints and the dashboard page
    allowed = RULES.get((request.method, str(template)))
    if allowed is not None and not allowed:
        return None  # public route
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        raise HTTPException(status_code=401, detail="missing credential")
    if allowed is None or actor.role not in allowed:
        raise HTTPException(status_code=403, detail=f"role {actor.role} may not {request.method} {template}")
    return actor


async def current_actor(request: Request) -> Actor:
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        raise HTTPException(status_code=401, detail="missing credential")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
Guard = [Depends(authorize)]
