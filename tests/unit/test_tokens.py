"""Tokens: a jti in each, an audience checked, a hard maximum lifetime."""

from __future__ import annotations

import time

import jwt
import pytest

from laowu.auth import ISSUER, InvalidCredential, TokenKeys, issue, verify_claims
from laowu.settings import Settings

SETTINGS = Settings(env="test", token_max_ttl_s=3600)


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def test_every_token_has_its_own_jti_and_the_audience() -> None:
    a, b = (issue(SETTINGS, role="admin", org="ops", region=None) for _ in range(2))
    assert _claims(a)["jti"] != _claims(b)["jti"]
    assert _claims(a)["aud"] == SETTINGS.token_audience
    assert verify_claims(SETTINGS, a)[2] == _claims(a)["jti"]


def test_asked_lifetime_is_capped() -> None:
    claims = _claims(issue(SETTINGS, role="admin", org="ops", region=None, ttl_s=10 * 365 * 86400))
    assert int(claims["exp"]) - int(claims["iat"]) == 3600  # type: ignore[call-overload]


def _signed(**claims: object) -> str:
    keys = TokenKeys.from_settings(SETTINGS)
    now = int(time.time())
    base = {"iss": ISSUER, "aud": SETTINGS.token_audience, "jti": "j1", "sub": "admin:ops", "role": "admin",
            "org": "ops", "region": None, "iat": now, "exp": now + 60}
    body = {k: v for k, v in (base | claims).items() if v is not ...}
    return jwt.encode(body, keys.keys[keys.signing_kid], algorithm="HS256", headers={"kid": keys.signing_kid})


@pytest.mark.parametrize("claims", [
    {"aud": "someone-else"},
    {"aud": ...},
    {"jti": ...},
    {"exp": int(time.time()) + 30 * 86400},  # signed by hand for a month: past the maximum
])
def test_refused(claims: dict[str, object]) -> None:
    with pytest.raises(InvalidCredential):
        verify_claims(SETTINGS, _signed(**claims))


def test_well_formed_token_passes() -> None:
    assert verify_claims(SETTINGS, _signed())[0].org == "ops"
