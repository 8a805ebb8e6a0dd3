"""``GET /dashboard``: the bureau's wall-screen page (static HTML + vanilla JS + vendored ECharts, no build step).

The page itself needs no credential; it takes ``?access_token=`` (kept in sessionStorage, removed from the
address bar) or shows a sign-in form, and then reads ``/v1/stats/overview``, ``/v1/targets``, ``/v1/alerts``
and the live ``/v1/feed``. Its assets are served from ``/static`` (see :data:`STATIC_DIR`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.routing import JSONRoute

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(route_class=JSONRoute, tags=["dashboard"])


@router.get("/dashboard", response_class=FileResponse, include_in_schema=False)
async def dashboard() -> FileResponse:
    return FileResponse(STATIC_DIR / "dashboard.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache", "X-Frame-Options": "SAMEORIGIN"})
