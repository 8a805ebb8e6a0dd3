"""What the edge of the API answers: security headers, the client address behind a trusted proxy."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from laowu.settings import Settings

from conftest import serving
from helpers import bearer

pytestmark = pytest.mark.services


async def test_dashboard_and_its_assets_carry_security_headers(api: httpx.AsyncClient) -> None:
    html = (await api.get("/dashboard")).text
    assets = re.findall(r'(?:src|href)="(/console/assets/[^"]+)"', html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), html
    for path in ("/dashboard", *assets, "/v1/brands"):
        r = await api.get(path)
        assert r.status_code == 200, path
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "'unsafe-inline'" not in csp.split("style-src-attr")[0], "no inline scripts or <style> allowed"
        assert r.headers.get("x-content-type-options") == "nosniff", path
        assert "strict-transport-security" not in r.headers, "plain http from an untrusted peer: no HSTS"


async def test_dashboard_has_no_inline_script_the_csp_would_block(api: httpx.AsyncClient) -> None:
    html = (await api.get("/dashboard")).text
    assert "<style" not in html
    for tag in html.split("<script")[1:]:
        assert "src=" in tag.split(">")[0], "an inline <script> would be blocked by script-src 'self'"


async def test_trusted_proxy_gives_client_address_and_https(infra: Any, settings: Settings) -> None:
    behind = Settings(**{**settings.model_dump(), "trusted_proxies": "127.0.0.0/8"})
    admin = bearer("admin", "laowu-ops", settings=behind)
    forwarded = {"X-Forwarded-For": "6.6.6.6, 198.51.100.23", "X-Forwarded-Proto": "https"}
    async with serving(behind) as url, httpx.AsyncClient(base_url=url, timeout=30, headers=admin) as c:
        r = await c.post("/v1/credentials", json={"role": "workstation", "org": "ws-edge", "region": "460106"},
                         headers=forwarded)
        assert r.status_code == 201
        assert r.headers.get("strict-transport-security", "").startswith("max-age=")
        audit = (await c.get("/v1/audit")).json()["items"]
    assert [a["ip"] for a in audit if a["action"] == "credential.create"] == ["198.51.100.23"]


async def test_untrusted_peer_cannot_forge_its_address(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/credentials", json={"role": "workstation", "org": "ws-edge2", "region": "460106"},
                       headers={"X-Forwarded-For": "198.51.100.23", "X-Forwarded-Proto": "https"})
    assert r.status_code == 201 and "strict-transport-security" not in r.headers
    audit = (await api.get("/v1/audit")).json()["items"]
    assert [a["ip"] for a in audit if a["action"] == "credential.create"] == ["127.0.0.1"]


async def test_costly_routes_and_token_exchange_have_limits_of_their_own(infra: Any, settings: Settings) -> None:
    tight = Settings(**{**settings.model_dump(), "trusted_proxies": "127.0.0.0/8",
                        "route_rate_limits": "token=0.01/2,export=0.01/2"})
    admin = bearer("admin", "laowu-ops", settings=tight)
    async with serving(tight) as url, httpx.AsyncClient(base_url=url, timeout=30, headers=admin) as c:
        exports = [(await c.get("/v1/export/workers.xlsx")).status_code for _ in range(3)]
        assert exports[:2] == [200, 200] and exports[2] == 429
        assert (await c.get("/v1/brands")).status_code == 200, "ordinary reads keep the general limit"
        bad = {"api_key": "lw_" + "x" * 40}
        client_a = {"Authorization": "", "X-Forwarded-For": "198.51.100.1"}
        codes = [(await c.post("/v1/auth/token", json=bad, headers=client_a)).status_code for _ in range(3)]
        assert codes == [401, 401, 429]
        last = await c.post("/v1/auth/token", json=bad, headers=client_a)
        assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1
        client_b = {"Authorization": "", "X-Forwarded-For": "198.51.100.2"}
        assert (await c.post("/v1/auth/token", json=bad, headers=client_b)).status_code == 401, "keyed by client"


async def test_sign_out_revokes_the_presented_token_only(api: httpx.AsyncClient, settings: Settings) -> None:
    mine, other = bearer("bureau", "hr-4601", "460100", settings=settings), \
        bearer("bureau", "hr-4601", "460100", settings=settings)
    assert (await api.get("/v1/brands", headers=mine)).status_code == 200
    assert (await api.post("/v1/auth/logout", headers=mine)).status_code == 204
    r = await api.get("/v1/brands", headers=mine)
    assert r.status_code == 401 and "signed out" in r.json()["detail"]
    assert (await api.get("/v1/brands", headers=other)).status_code == 200, "only the presented token"
    assert (await api.post("/v1/auth/logout")).status_code == 204
