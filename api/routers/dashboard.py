"""``GET /dashboard``: the bureau's wall-screen page, a second page of the console's Vite build (issue 18).

``console/dashboard.html`` is built with the console into ``console/dist`` (ECharts from npm, only the charts it
draws); its assets are the console's, under ``/console/assets/`` (see ``api.console``). The page itself needs no
credential; it takes ``?access_token=`` (kept in sessionStorage, removed from the address bar), the console's
sign-in of the same tab, or shows a sign-in form, and then reads ``/v1/stats/overview``, ``/v1/targets``,
``/v1/alerts`` and the live ``/v1/feed``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse, Response

from api.console import DIST
from api.routing import JSONRoute


def router(dist: Path = DIST) -> APIRouter:
    """The page over the build in ``dist`` (a parameter so tests can serve a build of their own)."""
    routes = APIRouter(route_class=JSONRoute, tags=["dashboard"])
    page = dist.resolve() / "dashboard.html"

    @routes.get("/dashboard", include_in_schema=False)
    async def dashboard() -> Response:
        if not page.is_file():
            return PlainTextResponse("监测大屏尚未构建：请运行 make console（dashboard not built: run `make console`）",
                                     status_code=503, headers={"Cache-Control": "no-store", "Retry-After": "10"})
        return FileResponse(page, media_type="text/html; charset=utf-8",
                            headers={"Cache-Control": "no-cache", "X-Frame-Options": "SAMEORIGIN"})

    return routes
