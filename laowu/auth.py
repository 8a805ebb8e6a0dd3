"""Credentials: short-lived signed tokens (JWT, HS256) naming a role, an organization and a jurisdiction.

Keys come from settings as ``kid:secret[,kid:secret…]``: the first signs, every one verifies, and the
``kid`` header says which — so a new key is rolled out by putting it first, and the old one is removed
only after the longest token lifetime has passed (rotation without downtime).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

from laowu import keyspec
from laowu.domain import regions
from laowu.settings import Settings
from schemas.common import Actor

ROLES = ("workstation", "employer", "bureau", "admin", "reviewer")  # reviewer: 评审专家 (issue 21)
ISSUER = "laowu"


class InvalidCredential(Exception):
    """Missing, malformed, expired or unknown-key token: 401."""


@dataclass(frozen=True)
class TokenKeys:
    signing_kid: str
    keys: dict[str, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenKeys:
        keys = keyspec.token_keys(settings.token_keys.get_secret_value())
        return cls(next(iter(keys)), keys)


def issue(settings: Settings, *, role: str, org: str, region: str | None, ttl_s: int | None = None,
          subject: str | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role != "admin" and (region is None or not regions.region_exists(region)):
        raise ValueError("a region that exists in GB/T 2260 is required for every role but admin")
    keys = TokenKeys.from_settings(settings)
    now = int(time.time())
    # Whatever a caller asks (``laowu token --ttl``), no token outlives token_max_ttl_s: a leaked token has an end.
    lifetime = min(ttl_s or settings.token_ttl_s, settings.token_max_ttl_s)
    claims = {"iss": ISSUER, "aud": settings.token_audience, "jti": uuid.uuid4().hex,
              "sub": subject or f"{role}:{org}", "role": role, "org": org, "region": region,
              "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, keys.keys[keys.signing_kid], algorithm="HS256", headers={"kid": keys.signing_kid})


def verify(settings: Settings, token: str) -> Actor:
    return verify_until(settings, token)[0]


def verify_until(settings: Settings, token: str) -> tuple[Actor, int]:
    """The actor and the ``exp`` claim (epoch seconds): the token is valid while ``time.time() < exp``."""
    actor, expires, _ = verify_claims(settings, token)
    return actor, expires


def verify_claims(settings: Settings, token: str) -> tuple[Actor, int, str]:
    """The actor, ``exp`` and ``jti`` (the id a sign-out revokes). A token for another audience, without a jti, or
    whose lifetime exceeds token_max_ttl_s (signed by an older release, or with a leaked key by hand) is refused."""
    keys = TokenKeys.from_settings(settings)
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        secret = keys.keys.get(str(kid))
        if secret is None:
            raise InvalidCredential("token signed with an unknown key")
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER, audience=settings.token_audience,
                            options={"require": ["exp", "iat", "sub", "role", "org", "aud", "jti"]})
    except jwt.PyJWTError as exc:
        raise InvalidCredential(str(exc)) from None
    if claims["role"] not in ROLES:
        raise InvalidCredential("unknown role")
    if int(claims["exp"]) - int(claims["iat"]) > settings.token_max_ttl_s:
        raise InvalidCredential("token lifetime exceeds the maximum")
    actor = Actor(role=claims["role"], org=claims["org"], region=claims.get("region"), subject=claims["sub"])
    return actor, int(claims["exp"]), str(claims["jti"])


def new_api_key() -> tuple[str, str]:
    """(the key shown once, its hash stored): machine clients exchange the key for short-lived tokens."""
    key = "lwk_" + secrets.token_urlsafe(32)
    return key, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
