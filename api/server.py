"""Run the API under uvicorn with our access log (masked) instead of uvicorn's (verbatim query strings)."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from laowu.settings import Settings


def serve(settings: Settings) -> None:
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        access_log=False,
        log_level="info",
        timeout_graceful_shutdown=10,
        # uvicorn would believe X-Forwarded-* from 127.0.0.1 on its own; api.proxies does it from
        # LAOWU_TRUSTED_PROXIES only, walking the chain, so there is one rule for who the client is.
        proxy_headers=False,
    )
