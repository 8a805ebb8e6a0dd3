"""The API's per-request shortcuts: verified tokens are remembered until they expire, statements are shared."""

from __future__ import annotations

import asyncio

import pytest

import api.access
from api.access import VerifiedTokens
from api.coalesce import Coalescer
from laowu.auth import InvalidCredential, issue
from laowu.settings import Settings

SETTINGS = Settings(env="test")


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = VerifiedTokens(SETTINGS)
    token = issue(SETTINGS, role="workstation", org="ws-460106-01", region="460106", ttl_s=60)
    actor = tokens.verify(token)
    assert (actor.role, actor.org, actor.region) == ("workstation", "ws-460106-01", "460106")
    checks = 0
    real = api.access.verify_claims

    def counted(settings: Settings, raw: str) -> tuple[object, int, str]:
        nonlocal checks
        checks += 1
        return real(settings, raw)

    monkeypatch.setattr(api.access, "verify_claims", counted)
    assert tokens.verify(token) is actor and checks == 0
    with pytest.raises(InvalidCredential, match="expired"):
        tokens.verify(issue(SETTINGS, role="admin", org="x", region=None, ttl_s=-10))
    assert checks == 1
    now = api.access.time.time()
    monkeypatch.setattr(api.access.time, "time", lambda: now + 61)  # past exp: the full check runs again
    tokens.verify(token)  # (which passes here: PyJWT reads its own clock)
    assert checks == 2


def test_bad_tokens_are_not_remembered_and_the_cache_is_bounded() -> None:
    tokens = VerifiedTokens(SETTINGS, size=2)
    for _ in range(2):
        with pytest.raises(InvalidCredential):
            tokens.verify("not-a-jwt")
    assert not tokens.entries
    issued = [issue(SETTINGS, role="admin", org=f"o{i}", region=None) for i in range(3)]
    for token in issued:
        tokens.verify(token)
    assert list(tokens.entries) == issued[1:]


async def test_concurrent_calls_share_one_statement() -> None:
    calls: list[list[int]] = []
    gate = asyncio.Event()

    async def run(items: list[int]) -> int:
        calls.append(items)
        await gate.wait()
        return sum(items)

    coalesce: Coalescer[int, int] = Coalescer(run)
    first = asyncio.create_task(coalesce([1]))
    await asyncio.sleep(0)  # the first call starts at once, alone
    rest = [asyncio.create_task(coalesce([n, n])) for n in (2, 3)]
    await asyncio.sleep(0)
    gate.set()
    assert await first == 1
    assert await asyncio.gather(*rest) == [10, 10]  # the two that waited shared the second call
    assert calls == [[1], [2, 2, 3, 3]]


async def test_a_failed_statement_fails_every_caller_that_shared_it() -> None:
    async def run(items: list[int]) -> None:
        await asyncio.sleep(0)
        raise ConnectionError("database gone")

    coalesce: Coalescer[int, None] = Coalescer(run)
    results = await asyncio.gather(coalesce([1]), coalesce([2]), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
