"""Liveness, readiness (Kafka and PostgreSQL both answer) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import PoolDep, PublisherDep
from api.routing import JSONRoute

router = APIRouter(route_class=JSONRoute, tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(pool: PoolDep, publisher: PublisherDep) -> JSONResponse:
    try:
        postgres = await pool.fetchval("SELECT 1") == 1
    except Exception:
        postgres = False
    kafka = await publisher.kafka_ready()
    ok = postgres and kafka
    return JSONResponse(status_code=200 if ok else 503,
                        content={"status": "ready" if ok else "not ready", "postgres": postgres, "kafka": kafka})


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    probe = getattr(request.app.state, "lag", None)
    if probe is not None:
        try:
            await probe.refresh()
        except Exception:  # lag is best effort; the rest of the metrics must still be served
            pass
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
