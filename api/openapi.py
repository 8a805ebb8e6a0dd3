"""The OpenAPI document as a contract (API.md): stable camelCase ``operationId``s and the bearer scheme.

Generated clients (openapi-generator ``typescript-fetch``, the console's API layer) name their methods after the
``operationId``; FastAPI's default (``register_worker_v1_workers_post``) changes whenever a function is renamed
or a path moves. The ids are therefore a table of their own: a route missing from it makes the document fail to build
(and its test fail), so a new endpoint cannot ship with a framework-made name.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from api.access import QUERY_TOKEN_ROUTES, RULES

OPERATION_IDS: dict[tuple[str, str], str] = {
    ("POST", "/v1/workers"): "registerWorker",
    ("GET", "/v1/workers"): "listWorkers",
    ("PATCH", "/v1/workers/{worker_id}"): "updateWorker",
    ("GET", "/v1/workers/{worker_id}"): "getWorker",
    ("POST", "/v1/workers/{worker_id}/household"): "moveHousehold",
    ("GET", "/v1/workers/{worker_id}/discrepancies"): "listWorkerDiscrepancies",
    ("POST", "/v1/workers/{worker_id}/certificates"): "addCertificate",
    ("POST", "/v1/workers/{worker_id}/trainings"): "completeTraining",
    ("POST", "/v1/workers/{worker_id}/brands"): "joinBrand",
    ("GET", "/v1/workers/{worker_id}/history"): "getWorkerHistory",
    ("POST", "/v1/workers:lookup"): "lookupWorker",
    ("POST", "/v1/workers/{worker_id}:reveal"): "revealWorker",
    ("GET", "/v1/events/{event_id}"): "getEventReceipt",
    ("POST", "/v1/events:batch"): "submitEventBatch",
    ("GET", "/healthz"): "checkLiveness",
    ("GET", "/readyz"): "checkReadiness",
    ("GET", "/metrics"): "getMetrics",
    ("POST", "/v1/auth/token"): "exchangeApiKey",
    ("POST", "/v1/auth/logout"): "signOut",
    ("POST", "/v1/credentials"): "createCredential",
    ("GET", "/v1/audit"): "listAuditEntries",
    ("POST", "/v1/brands"): "registerBrand",
    ("GET", "/v1/brands"): "listBrands",
    ("PATCH", "/v1/brands/{brand_id}"): "updateBrand",
    ("GET", "/v1/brands/{brand_id}"): "getBrand",
    ("POST", "/v1/brands/{brand_id}/status"): "changeBrandStatus",
    ("POST", "/v1/dispatches"): "createDispatch",
    ("GET", "/v1/dispatches/{dispatch_id}"): "getDispatch",
    ("POST", "/v1/placements/{placement_id}/confirm"): "confirmPlacement",
    ("POST", "/v1/placements/{placement_id}/reject"): "rejectPlacement",
    ("POST", "/v1/placements/{placement_id}/end"): "endPlacement",
    ("GET", "/v1/placements/{placement_id}"): "getPlacement",
    ("POST", "/v1/followups"): "recordFollowUp",
    ("GET", "/v1/alerts"): "listAlerts",
    ("GET", "/v1/subsidies"): "listSubsidies",
    ("GET", "/v1/templates/workers.xlsx"): "getWorkersTemplate",
    ("GET", "/v1/templates/dispatch.xlsx"): "getDispatchTemplate",
    ("POST", "/v1/imports/workers"): "importWorkers",
    ("POST", "/v1/imports/dispatch"): "importDispatch",
    ("GET", "/v1/imports/{import_id}"): "getImport",
    ("GET", "/v1/imports/{import_id}/errors.xlsx"): "getImportErrors",
    ("GET", "/v1/stats/overview"): "getStatsOverview",
    ("GET", "/v1/stats/brands/{brand_id}"): "getBrandStats",
    ("GET", "/v1/stats/regions/{code}"): "getRegionStats",
    ("GET", "/v1/targets"): "listTargets",
    ("GET", "/v1/feed"): "streamFeed",
    ("GET", "/v1/export/workers.xlsx"): "exportWorkers",
    ("GET", "/v1/export/stats.xlsx"): "exportStats",
}

BEARER = "bearerAuth"
QUERY_TOKEN = "accessTokenQuery"
SCRAPE_TOKEN = "metricsToken"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
             "description": "A token from `POST /v1/auth/token` (or `laowu token`); it names a role, an "
                            "organization and a region."},
    QUERY_TOKEN: {"type": "apiKey", "in": "query", "name": "access_token",
                  "description": "The same token in the URL, only where a browser cannot send a header (EventSource)."},
    SCRAPE_TOKEN: {"type": "http", "scheme": "bearer",
                   "description": "`LAOWU_METRICS_TOKEN`, the Prometheus scraper's secret."},
}


def operation_id(route: APIRoute) -> str:
    """``generate_unique_id_function`` of the app: the table's id, or a refusal naming the route."""
    (method,) = route.methods or {"GET"}
    if not route.include_in_schema:
        return route.name  # the dashboard page: not an operation of the contract
    try:
        return OPERATION_IDS[(method, route.path_format)]
    except KeyError:
        raise LookupError(f"{method} {route.path_format} has no operationId in api.openapi.OPERATION_IDS") from None


def _security(method: str, path: str) -> list[dict[str, list[str]]] | None:
    if path == "/metrics":
        return [{SCRAPE_TOKEN: []}]
    roles = RULES.get((method.upper(), path))
    if not path.startswith("/v1/") or (roles is not None and not roles):
        return None  # public: operations endpoints, the token exchange
    schemes: list[dict[str, list[str]]] = [{BEARER: []}]
    if (method.upper(), path) in QUERY_TOKEN_ROUTES:
        schemes.append({QUERY_TOKEN: []})
    return schemes


def install(app: FastAPI) -> None:
    """Declare the security schemes and require them on every operation that needs a credential."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            doc.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
            for path, operations in doc["paths"].items():
                for method, operation in operations.items():
                    security = _security(method, path)
                    if security is None:
                        operation["security"] = []
                        continue
                    operation["security"] = security
                    operation.setdefault("responses", {}).setdefault(
                        "401", {"description": "Missing, expired, signed-out or invalid credential"})
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
