"""The composition root: ``create_app()`` builds every dependency once, in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors
from api.access import Authenticate, Guard
from api.lag import LagProbe
from api.middleware import BodyLimit, Observe
from api.publisher import Publisher
from api.routers import auth, brands, dashboard, dispatch, events, exports, feed, health, imports, stats, workers
from laowu.intake import Intake
from laowu.privacy import Privacy
from laowu.settings import Settings, get_settings
from laowu.store.pool import create_pool


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url or not settings.kafka_bootstrap:
            raise RuntimeError("DATABASE_URL and KAFKA_BOOTSTRAP must be set (laowu up sets them)")
        app.state.settings = settings
        app.state.pool = await create_pool(settings.database_url, min_size=2, max_size=10)
        app.state.publisher = Publisher(settings, app.state.pool)
        await app.state.publisher.start()
        app.state.intake = Intake(Privacy(settings))
        app.state.lag = LagProbe(settings, app.state.pool)
        try:
            yield
        finally:
            await imports.stop_imports(app)
            await app.state.lag.stop()
            await app.state.publisher.stop()
            await app.state.pool.close()

    app = FastAPI(
        title="Laowu",
        summary="Labor brand (劳务品牌) platform: real-name ledger, organized labor output, follow-up service.",
        version="1.0.0",
        lifespan=lifespan,
    )
    errors.install(app)
    for router in (health.router, auth.router, brands.router, workers.router, events.router, dispatch.router, imports.router,
                   stats.router, feed.router, exports.router, dashboard.router):
        app.include_router(router, dependencies=Guard)
    app.mount("/static", StaticFiles(directory=dashboard.STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, default=settings.max_body_bytes,  # type: ignore[arg-type]
                       larger={"/v1/events:batch": settings.max_batch_bytes, "/v1/imports": imports.MAX_IMPORT_BYTES})
    app.add_middleware(Authenticate, settings=settings)  # type: ignore[arg-type]
    app.add_middleware(Observe)  # type: ignore[arg-type]
    return app
