"""The composition root: ``create_app()`` builds every dependency once, in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from fastapi import FastAPI

import api.routers.casework as casework_routes  # issue 20
import api.routers.monitoring as monitoring_routes  # issue 20
from api import console, errors, openapi
from api.access import Authenticate, Guard
from api.coalesce import Coalescer
from api.lag import LagProbe
from api.middleware import BodyLimit, CleanParameters, Observe, SecurityHeaders
from api.proxies import ClientAddress
from api.publisher import Publisher
from api.revocations import Revocations
from api.routers import (
    accounts,
    auth,
    brand_management,
    brands,
    cooperation,  # issue 19
    dashboard,
    demands,  # issue 19
    dispatch,
    events,
    exports,
    feed,
    health,
    imports,
    stats,
    subsidy_workflow,  # organizations and subsidies (issue 21)
    workers,
)
from laowu import heap
from laowu.intake import Intake
from laowu.privacy import Privacy
from laowu.settings import Settings, get_settings
from laowu.store import known
from laowu.store.pool import create_pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool ``reset``: nothing beyond what asyncpg always does (roll back an open transaction).

    The default reset sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every release: a
    second round trip for each one-query request (a worker lookup through the pool took 0.26 ms with it, 0.10 ms
    without). The API never leaves session state behind: no SET, LISTEN, session advisory locks, or cursors
    outside a transaction.
    """


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.database_url or not settings.kafka_bootstrap:
            raise RuntimeError("DATABASE_URL and KAFKA_BOOTSTRAP must be set (laowu up sets them)")
        app.state.settings = settings
        app.state.pool = pool = await create_pool(settings.database_url, min_size=2, max_size=10, reset=_keep_session,
                                                      translate=True)  # the layers above see store errors
        # Registrations naming brands check them first (the ledger's, and those accepted but not yet applied:
        # read-your-writes); concurrent requests share one query (see Coalescer).
        app.state.brand_statuses = Coalescer(lambda ids: known.brand_statuses(pool, sorted(set(ids))))
        app.state.publisher = Publisher(settings, pool)
        await app.state.publisher.start()
        app.state.intake = Intake(Privacy(settings))
        app.state.lag = LagProbe(settings, app.state.pool)
        heap.settle()
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
        generate_unique_id_function=openapi.operation_id,
    )
    errors.install(app)
    openapi.install(app)
    # Requests are matched against the routers in this order, route by route (1-2 µs each): the busiest paths
    # (worker reads, batches) come first. No two routers share a path, so the order changes nothing else.
    for router in (workers.router, events.router, health.router, auth.router, brands.router, dispatch.router,
                   imports.router, stats.router, feed.router, exports.router, accounts.router,
                   monitoring_routes.router, casework_routes.router,  # issue 20
                   brand_management.router, cooperation.router):
        app.include_router(router, dependencies=Guard)
    app.include_router(demands.router, dependencies=Guard)  # job demands and matching (issue 19)
    app.include_router(subsidy_workflow.router, dependencies=Guard)  # organizations and subsidies (issue 21)
    # /console/ and /dashboard: pages of the console's build (LAOWU_CONSOLE_DIR, else the checkout's console/dist);
    # no credential for the pages (their API calls need one)
    build = Path(settings.console_dir) if settings.console_dir else console.DIST
    app.include_router(dashboard.router(build))  # /dashboard: the wall screen
    app.include_router(console.router(build))  # /console/: the web console
    app.add_middleware(CleanParameters)  # type: ignore[arg-type]  # inside Authenticate: 401 comes first
    app.add_middleware(BodyLimit, default=settings.max_body_bytes,  # type: ignore[arg-type]
                       larger={"/v1/events:batch": settings.max_batch_bytes,
                               "/v1/imports": settings.import_max_upload_bytes + imports.MULTIPART_SLACK})
    app.state.revocations = Revocations(settings.revocation_refresh_s)
    app.add_middleware(Authenticate, settings=settings, revocations=app.state.revocations)  # type: ignore[arg-type]
    app.add_middleware(Observe)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeaders, hsts_max_age_s=settings.hsts_max_age_s)  # type: ignore[arg-type]
    app.add_middleware(ClientAddress, trusted=settings.trusted_proxies)  # type: ignore[arg-type]  # outermost
    return app
