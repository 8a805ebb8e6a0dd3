"""ASGI middleware: body-size limits (413), Prometheus metrics, and an access log that never holds PII.

Uvicorn's own access log is switched off because it prints query strings verbatim, and
``GET /v1/workers?id_number=…`` or ``?access_token=…`` must never reach a log file.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from prometheus_client import Counter, Histogram

from laowu import logs
from schemas.common import unclean_character

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("laowu.access")

REQUESTS = Counter("laowu_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "laowu_http_request_seconds", "HTTP request latency", ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

SENSITIVE_PARAMS = {"id_number", "phone", "access_token", "token", "name"}


def masked_query(raw: bytes) -> str:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k in SENSITIVE_PARAMS else v) for k, v in pairs])


class CleanParameters:
    """Query and path parameters obey the same clean-text rule as bodies (``schemas.common.unclean_character``).

    ``/v1/alerts?worker_id=%00`` once reached PostgreSQL, which cannot hold U+0000, and answered 500; an
    undecodable escape (``%ff``) is refused too. Field-level 422 in FastAPI's shape, before any route runs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = self.problem(scope)
            if problem is not None:
                body = json.dumps({"detail": [problem]}, ensure_ascii=False).encode()
                await send({"type": "http.response.start", "status": 422,
                            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    def problem(scope: Scope) -> dict[str, Any] | None:
        raw_path = scope.get("raw_path")
        path = scope.get("path", "")
        try:
            if raw_path is not None:
                path = unquote(raw_path.decode("ascii"), errors="strict")
        except UnicodeDecodeError:
            return {"loc": ["path"], "msg": "路径不是有效的 UTF-8 (path is not valid UTF-8)", "type": "string_unicode"}
        bad = unclean_character(path)
        if bad is not None:
            return {"loc": ["path"], "msg": f"路径含有不可见或无法保存的字符 {bad}", "type": "string_unclean"}
        try:
            pairs = parse_qsl(scope.get("query_string", b"").decode("ascii"), keep_blank_values=True,
                              encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            return {"loc": ["query"], "msg": "查询参数不是有效的 UTF-8 (query string is not valid UTF-8)",
                    "type": "string_unicode"}
        for name, value in pairs:
            in_name = unclean_character(name)
            bad = in_name or unclean_character(value)
            if bad is not None:
                return {"loc": ["query", "?" if in_name else name],
                        "msg": f"含有不可见或无法保存的字符 {bad}", "type": "string_unclean"}
        return None


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse bodies over the limit before they are parsed: 1 MiB per write, 8 MiB per batch (API.md)."""

    def __init__(self, app: ASGIApp, default: int, larger: dict[str, int]) -> None:
        self.app, self.default, self.larger = app, default, larger

    def limit_for(self, path: str) -> int:
        return next((n for prefix, n in self.larger.items() if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except _TooLarge:
            if not started:
                await _too_large(send, limit)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"detail": [{"loc": ["body"], "msg": f"body exceeds {limit} bytes", "type": "too_large"}]})
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})


class Observe:
    """Metrics by route template (not raw path: ids would explode the label set) and a masked access log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        rid = _request_id(scope)
        token = logs.request_id.set(rid)

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path_format", "unmatched")
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            query = scope.get("query_string", b"")
            client = scope.get("client") or ("-", 0)
            access_log.info(
                '%s "%s %s%s" %d %.1fms', client[0], scope["method"], template if route else "-",
                f"?{masked_query(query)}" if query else "", status, elapsed * 1000,
            )
            logs.request_id.reset(token)


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def _request_id(scope: Scope) -> str:
    """A caller's ``X-Request-ID`` when it is a plain token (it goes into logs), else a fresh one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


# The dashboard and the console have no inline script and load everything from this origin; their markup and
# ECharts' tooltips set ``style="…"`` attributes, hence ``style-src-attr 'unsafe-inline'`` (attributes only: no
# inline <style>/<script>).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """CSP, ``nosniff``, no framing and no referrer on every answer; HSTS only when the request came over https
    (directly or per a trusted proxy's X-Forwarded-Proto, see api.proxies): over plain http it would be ignored,
    and on a development machine it would pin localhost to https."""

    def __init__(self, app: ASGIApp, hsts_max_age_s: int = 31536000) -> None:
        self.app = app
        self.fixed = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
        ]
        self.hsts = (b"strict-transport-security", f"max-age={hsts_max_age_s}; includeSubDomains".encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.fixed + ([self.hsts] if scope.get("scheme") == "https" else [])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, with_headers)
