"""Liveness, readiness (Kafka and PostgreSQL both answer) and Prometheus metrics."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import PoolDep, PublisherDep
from api.routing import JSONRoute
from laowu.store import pool as store_pool

router = APIRouter(route_class=JSONRoute, tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(pool: PoolDep, publisher: PublisherDep) -> JSONResponse:
    postgres = await store_pool.answers(pool)
    kafka = await publisher.kafka_ready()
    ok = postgres and kafka
    return JSONResponse(status_code=200 if ok else 503,
                        content={"status": "ready" if ok else "not ready", "postgres": postgres, "kafka": kafka})


def _scraper_may_read(request: Request) -> bool:
    """The scrape token, compared in constant time; no token configured means nobody may read."""
    expected = request.app.state.settings.metrics_token
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if expected is None or scheme.lower() != "bearer" or not presented:
        return False
    return hmac.compare_digest(presented.strip().encode(), expected.get_secret_value().encode())


@router.get("/metrics", response_class=Response, responses={
    200: {"description": "Prometheus text exposition format", "content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}},
    401: {"description": "no or wrong scrape token (`LAOWU_METRICS_TOKEN`)"}})
async def metrics(request: Request) -> Response:
    """Prometheus metrics, for a scraper presenting ``Authorization: Bearer $LAOWU_METRICS_TOKEN``: they show
    per-route activity (how often reveals happen, from which routes), which is not for the public."""
    if not _scraper_may_read(request):
        return JSONResponse(status_code=401, content={"detail": "metrics need the scrape token (LAOWU_METRICS_TOKEN)"},
                            headers={"www-authenticate": "Bearer"})
    probe = getattr(request.app.state, "lag", None)
    if probe is not None:
        try:
            await probe.refresh()
        except Exception:  # lag is best effort; the rest of the metrics must still be served
            pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
