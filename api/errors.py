"""Errors in FastAPI's shape: ``{"detail": [{"loc", "msg", "type"}]}``; never a 500 for bad input.

The errors of the layers below, as HTTP: the store's (``laowu.store.errors``: not found, database unavailable),
the reports' (``laowu.reports``: out of sight, a bad month window), the domain's and the intake's. Driver errors
do not reach here: the store translates those it expects (its pool is made with ``translate=True``).
"""

from __future__ import annotations

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.reveals import QuotaExceeded
from api.routing import api_routes
from laowu.domain.errors import DomainError
from laowu.intake import InvalidRequest
from laowu.reports import BadWindow, OutOfSight
from laowu.store.errors import NotFound, Unavailable


class Conflict(Exception):
    """A rule that needs the ledger said no at once (409)."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors


class Forbidden(Exception):
    """Authenticated (or declared) caller may not do this (403)."""


def detail(errors: list[DomainError], prefix: tuple[str, ...] = ("body",)) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for e in errors:
        item: dict[str, object] = {"loc": [*prefix, *e.field.split(".")], "msg": e.message, "type": e.rule}
        if e.message_zh:
            item["msg_zh"] = e.message_zh
        out.append(item)
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(InvalidRequest)
    async def _invalid(request: Request, exc: InvalidRequest) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": detail(exc.errors, (exc.where,))})

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": detail(exc.errors)})

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": str(exc)})

    @app.exception_handler(KafkaError)
    async def _kafka_down(request: Request, exc: KafkaError) -> JSONResponse:
        # Nothing was accepted: the client retries (with its Idempotency-Key) once the broker is back.
        return JSONResponse(status_code=503, headers={"Retry-After": "2"},
                            content={"detail": f"event log unavailable, retry: {type(exc).__name__}"})

    @app.exception_handler(Unavailable)
    async def _db_down(request: Request, exc: Unavailable) -> JSONResponse:
        # As for the broker: nothing was done, the client retries. ``kind`` names the driver's error.
        return JSONResponse(status_code=503, headers={"Retry-After": "2"},
                            content={"detail": f"ledger database unavailable, retry: {exc.kind}"})

    @app.exception_handler(QuotaExceeded)
    async def _quota(request: Request, exc: QuotaExceeded) -> JSONResponse:
        return exc.response()

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": "not found"})

    @app.exception_handler(OutOfSight)
    async def _out_of_sight(request: Request, exc: OutOfSight) -> JSONResponse:
        # The statistics' 404 names what was asked for (a region, a brand), in the shape of a field error.
        return JSONResponse(status_code=404, content={"detail": [
            {"loc": ["path"], "msg": f"{exc.what} not found", "type": "not_found"}]})

    @app.exception_handler(BadWindow)
    async def _bad_window(request: Request, exc: BadWindow) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": [
            {"loc": ["query", "from"], "msg": str(exc), "type": "value_error"}]})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and request.headers.get("content-type", "").startswith("multipart/form-data"):
            # A form Starlette cannot parse is bad input like any other: 422 in FastAPI's shape, not a bare 400.
            return JSONResponse(status_code=422, content={"detail": [
                {"loc": ["body"], "msg": str(exc.detail), "type": "multipart"}]})
        if exc.status_code == 405:
            # Starlette names only the methods of the first route whose path matched; a client (and the OpenAPI
            # document) expects every method the path has.
            headers = {**(exc.headers or {}), "Allow": ", ".join(allowed_methods(request))}
            exc = StarletteHTTPException(exc.status_code, exc.detail, headers)
        return await http_exception_handler(request, exc)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for route in api_routes(request.app.routes):
        if route.methods and route.path_regex.match(path):
            methods |= route.methods
    return sorted(methods)
