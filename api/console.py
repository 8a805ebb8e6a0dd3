"""``/console/``: the web console (issue 18), a single-page app built by Vite into ``console/dist``.

The API serves the build as static files under the base the build was made for (``/console/``, see
``console/vite.config.ts``). Any other path under it is a page of the app (``/console/workstation/register``)
and gets ``index.html``, whose router shows it; a missing file under ``assets/`` stays a 404, or a stale tab
would run ``index.html`` as a script. Assets carry a content hash in their name, so they are cached for a
year (``immutable``); ``index.html`` must be revalidated, so a new build is seen on the next load. Without a
build (``make console``) the console answers 503 saying so; the API itself works without it.

Assets are sent gzipped when the browser accepts it (the build writes a ``.gz`` beside each, once).

The console talks only to the public API (``/v1``), same origin: no CORS, and the CSP's ``'self'`` covers it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

DIST = Path(__file__).resolve().parents[1] / "console" / "dist"
BASE = "/console"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# What a build holds besides assets/ that a browser may ask for (the manifest and size report stay private).
PUBLIC_FILES = frozenset({"index.html", "favicon.ico"})


def router(dist: Path = DIST) -> APIRouter:
    """The console's routes over the build in ``dist`` (a parameter so tests can serve a build of their own)."""
    routes = APIRouter(tags=["console"])
    root = dist.resolve()

    @routes.get(BASE, include_in_schema=False)
    async def console_root() -> Response:
        return RedirectResponse(BASE + "/", status_code=308)

    @routes.get(BASE + "/{path:path}", include_in_schema=False)
    async def console_page(path: str, request: Request) -> Response:
        index = root / "index.html"
        if not index.is_file():
            return PlainTextResponse("控制台尚未构建：请运行 make console（console not built: run `make console`）",
                                     status_code=503, headers={"Cache-Control": "no-store", "Retry-After": "10"})
        if path.startswith("assets/"):
            asset = (root / path).resolve()
            if asset.is_relative_to(root / "assets") and asset.is_file():
                return _asset(asset, request)
            return PlainTextResponse("not found", status_code=404, headers={"Cache-Control": "no-store"})
        if path in PUBLIC_FILES and (root / path).is_file():
            return FileResponse(root / path, headers={"Cache-Control": REVALIDATE})
        return FileResponse(index, media_type="text/html; charset=utf-8", headers={"Cache-Control": REVALIDATE})

    return routes


def _asset(asset: Path, request: Request) -> FileResponse:
    """The asset, gzipped when the browser accepts it and the build made a ``.gz`` beside it
    (``console/scripts/precompress.mjs``): the console's first load is about a quarter of its size over the wire."""
    headers = {"Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    packed = asset.with_name(asset.name + ".gz")
    if "gzip" in request.headers.get("accept-encoding", "") and packed.is_file():
        media_type = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
        return FileResponse(packed, media_type=media_type, headers=headers | {"Content-Encoding": "gzip"})
    return FileResponse(asset, headers=headers)
