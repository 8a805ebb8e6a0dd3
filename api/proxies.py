"""The client's address and scheme as a trusted reverse proxy reports them (``LAOWU_TRUSTED_PROXIES``).

Behind a proxy the TCP peer is the proxy: the audit of a reveal, the rate limit of an unauthenticated caller and
HSTS all need the real client. ``X-Forwarded-For`` is a list anyone can prepend to, so it is read from the right
and believed only while each hop is itself a trusted proxy; the first untrusted address is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 192.168.1.7"`` → networks; a bare address is a /32 (/128)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_of(peer: str, forwarded_for: str | None, networks: Sequence[Network]) -> str:
    """The client address: ``peer`` unless it is a trusted proxy, then the rightmost untrusted X-Forwarded-For hop."""
    if not forwarded_for or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return hops[0] if hops else peer  # every hop is ours: the leftmost is the nearest thing to a client


class ClientAddress:
    """ASGI middleware: rewrites ``scope["client"]`` and ``scope["scheme"]`` from a trusted proxy's headers, so every
    reader (audit, rate limit, access log, HSTS) sees the client, not the proxy."""

    def __init__(self, app: ASGIApp, trusted: str) -> None:
        self.app, self.networks = app, parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and self.networks:
            peer = (scope.get("client") or ("", 0))[0]
            if _trusted(peer, self.networks):
                headers: dict[bytes, str] = {}
                for k, v in scope.get("headers", []):  # repeated headers are one list (RFC 9110 §5.3)
                    key = k.lower()
                    headers[key] = f"{headers[key]}, {v.decode('latin-1')}" if key in headers else v.decode("latin-1")
                client = client_of(peer, headers.get(b"x-forwarded-for"), self.networks)
                scope["client"] = (client, 0)
                proto = headers.get(b"x-forwarded-proto", "").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)
