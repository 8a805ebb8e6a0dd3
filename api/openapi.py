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
from schemas.common import CLEAN_PATTERN

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
    ("GET", "/v1/events"): "listReceipts",
    ("POST", "/v1/events:batch"): "submitEventBatch",
    ("GET", "/healthz"): "checkLiveness",
    ("GET", "/readyz"): "checkReadiness",
    ("GET", "/metrics"): "getMetrics",
    ("POST", "/v1/auth/token"): "exchangeApiKey",
    ("POST", "/v1/auth/logout"): "signOut",
    ("POST", "/v1/auth/login"): "signIn",
    ("GET", "/v1/auth/me"): "whoAmI",
    ("POST", "/v1/auth/password"): "changePassword",
    ("GET", "/v1/accounts"): "listAccounts",
    ("POST", "/v1/accounts"): "createAccount",
    ("PATCH", "/v1/accounts/{username}"): "updateAccount",
    ("POST", "/v1/accounts/{username}/password"): "resetAccountPassword",
    ("POST", "/v1/credentials"): "createCredential",
    ("GET", "/v1/audit"): "listAuditEntries",
    ("POST", "/v1/brands"): "registerBrand",
    ("GET", "/v1/brands"): "listBrands",
    ("PATCH", "/v1/brands/{brand_id}"): "updateBrand",
    ("GET", "/v1/brands/{brand_id}"): "getBrand",
    ("GET", "/v1/brands/{brand_id}/history"): "listBrandHistory",
    ("POST", "/v1/brands/{brand_id}/status"): "changeBrandStatus",
    ("POST", "/v1/dispatches"): "createDispatch",
    ("GET", "/v1/dispatches/{dispatch_id}"): "getDispatch",
    ("POST", "/v1/placements/{placement_id}/confirm"): "confirmPlacement",
    ("POST", "/v1/placements/{placement_id}/reject"): "rejectPlacement",
    ("POST", "/v1/placements/{placement_id}/end"): "endPlacement",
    ("GET", "/v1/placements/{placement_id}"): "getPlacement",
    ("GET", "/v1/placements"): "listPlacements",
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
    # priority-group monitoring and alert casework (issue 20)
    ("GET", "/v1/monitoring/table"): "getMonitoringTable",
    ("GET", "/v1/monitoring/workers/{worker_id}/months"): "listMonitoringMonths",
    ("GET", "/v1/monitoring/returned-home"): "listReturnedHome",
    ("GET", "/v1/monitoring/not-in-work"): "listNotInWork",
    ("GET", "/v1/export/monitoring.xlsx"): "exportMonitoring",
    ("POST", "/v1/export/monitoring-revealed.xlsx"): "exportMonitoringRevealed",
    ("POST", "/v1/alerts/{alert_id}/assign"): "assignAlert",
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): "acknowledgeAlert",
    ("POST", "/v1/alerts/{alert_id}/work"): "workAlert",
    ("POST", "/v1/alerts/{alert_id}/resolve"): "resolveAlert",
    ("POST", "/v1/alerts/{alert_id}/reopen"): "reopenAlert",
    ("GET", "/v1/alerts/{alert_id}/case"): "getCase",
    ("GET", "/v1/cases"): "listCases",
    ("GET", "/v1/cases/figures"): "getCaseFigures",
    # brand dynamic management (动态管理, issue 21)
    ("POST", "/v1/brands/{brand_id}/applications"): "submitBrandApplication",
    ("POST", "/v1/brands/{brand_id}/reviewers"): "assignBrandReviewers",
    ("POST", "/v1/brands/{brand_id}/scores"): "scoreBrandApplication",
    ("POST", "/v1/brands/{brand_id}/decisions"): "decideBrandApplication",
    ("POST", "/v1/brands/{brand_id}/rechecks"): "decideBrandRecheck",
    ("POST", "/v1/brands/{brand_id}/complaints"): "recordBrandComplaint",
    ("POST", "/v1/brands/{brand_id}/persons"): "nameBrandPerson",
    ("GET", "/v1/brand-rules"): "getBrandRules",
    ("GET", "/v1/brands/{brand_id}/criteria"): "evaluateBrandCriteria",
    ("GET", "/v1/brands/{brand_id}/integrity"): "rateBrandIntegrity",
    ("GET", "/v1/brands/{brand_id}/recheck"): "proposeBrandRecheck",
    ("GET", "/v1/brands/{brand_id}/management"): "getBrandManagement",
    ("GET", "/v1/brand-applications"): "listBrandApplications",
    ("GET", "/v1/reviews"): "listMyReviews",
    # job demands and matching (issue 19)
    ("GET", "/v1/demands"): "listDemands",
    ("GET", "/v1/demands/{demand_id}"): "getDemand",
    ("GET", "/v1/demands/{demand_id}/shortlist"): "shortlistDemand",
    ("GET", "/v1/workers/{worker_id}/demands"): "listWorkerDemands",
    ("POST", "/v1/demands"): "postDemand",
    ("POST", "/v1/demands/{demand_id}/close"): "closeDemand",
    ("POST", "/v1/workers/{worker_id}/intention"): "recordIntention",
    # organizations and the subsidy workflow (issue 21)
    ("POST", "/v1/organizations"): "registerOrganization",
    ("GET", "/v1/organizations"): "listOrganizations",
    ("GET", "/v1/organizations/{org_id}"): "getOrganization",
    ("GET", "/v1/organizations/{org_id}/history"): "listOrganizationHistory",
    ("POST", "/v1/organizations/{org_id}/verification"): "verifyOrganization",
    ("POST", "/v1/organizations/{org_id}/reveal"): "revealOrganization",
    ("POST", "/v1/subsidies/{subsidy_id}/application"): "applySubsidy",
    ("POST", "/v1/subsidies/{subsidy_id}/review"): "reviewSubsidy",
    ("POST", "/v1/subsidies/{subsidy_id}/notice"): "noticeSubsidy",
    ("POST", "/v1/subsidies/{subsidy_id}/objections"): "raiseSubsidyObjection",
    ("POST", "/v1/subsidies/{subsidy_id}/objection-decisions"): "decideSubsidyObjection",
    ("POST", "/v1/subsidies/{subsidy_id}/payment"): "recordSubsidyPayment",
    ("GET", "/v1/subsidies/{subsidy_id}"): "getSubsidy",
    ("GET", "/v1/subsidy-notice"): "listSubsidyNotice",
    ("GET", "/v1/subsidy-notice.xlsx"): "exportSubsidyNotice",
    ("GET", "/v1/subsidy-budgets"): "listSubsidyBudgets",
    # cooperation between regions (issue 19)
    ("POST", "/v1/agreements"): "signAgreement",
    ("GET", "/v1/agreements"): "listAgreements",
    ("GET", "/v1/agreements/{agreement_id}"): "getAgreement",
    ("PATCH", "/v1/agreements/{agreement_id}"): "updateAgreement",
    ("POST", "/v1/agreements/{agreement_id}/end"): "endAgreement",
    ("GET", "/v1/flows"): "listFlows",
    ("GET", "/v1/received"): "listReceivedWorkers",
    ("PUT", "/v1/postings/{workstation_id}"): "postWorkstation",
    ("DELETE", "/v1/postings/{workstation_id}"): "endPosting",
    ("GET", "/v1/postings"): "listPostings",
}

BEARER = "bearerAuth"
QUERY_TOKEN = "accessTokenQuery"
SCRAPE_TOKEN = "metricsToken"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
             "description": "A token from `POST /v1/auth/login` (a person's account), `POST /v1/auth/token` (an "
                            "API key) or `laowu token`; it names a role, an organization and a region."},
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


PROBLEM = {
    "title": "Problem",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"type": "object", "required": ["loc", "msg", "type"], "properties": {
            "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
            "msg": {"type": "string"}, "msg_zh": {"type": "string"}, "type": {"type": "string"}}}},
    ]}},
}
_ERRORS = {
    "401": "Missing, expired, signed-out or invalid credential",
    "403": "The credential's role may not do this, or the body names another organization or region",
    "404": "Not found, or outside the credential's jurisdiction (API.md: as if it did not exist)",
    "405": "The path has other methods (see `Allow`)",
    "409": "A rule that needs the ledger refused it at once (unknown brand or worker, illegal transition)",
    "413": "The body (or upload) is larger than the route allows",
    "415": "The body is not in a media type the route takes",
    "422": "Refused at once; each item of `detail` names the field",
    "429": "Rate limit: wait `Retry-After` seconds",
    "503": "PostgreSQL or Kafka unavailable: nothing was accepted; retry (with the same Idempotency-Key)",
}


def _errors(method: str, path: str, secured: bool) -> list[str]:
    """The error statuses an operation can answer, from the layers every request passes (API.md "Errors")."""
    codes = ["422", "503"]
    if path.startswith("/v1/"):
        codes += ["405", "429"]
    if secured:
        codes += ["401"]
        if path.startswith("/v1/"):
            codes += ["403", "404"]
    if path == "/v1/auth/token":
        codes += ["401"]  # an unknown or revoked API key
    if path == "/v1/auth/login":
        codes += ["401", "403"]  # wrong user name or password; locked or disabled account
    if method in ("post", "patch") and path.startswith("/v1/"):
        codes += ["409", "413", "415"]
    return codes


def _document_clean_parameters(operation: dict[str, Any]) -> None:
    """Every query and path parameter obeys the clean-text rule (``api.middleware.CleanParameters``)."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        for variant in [schema, *schema.get("anyOf", [])]:
            if variant.get("type") == "string" and not {"pattern", "format", "enum", "const"} & variant.keys():
                variant["pattern"] = CLEAN_PATTERN


def _mark_uploads(schemas: dict[str, Any]) -> None:
    """Uploads (``UploadFile``) also as ``format: binary``: OpenAPI 3.1 says ``contentMediaType``, which
    openapi-generator does not read, so the generated client (the console's API layer) sent a file as a
    URL-encoded string. ``format: binary`` is the 3.0 spelling, an annotation 3.1 still allows."""
    for schema in schemas.values():
        for prop in schema.get("properties", {}).values():
            if prop.get("type") == "string" and prop.get("contentMediaType") == "application/octet-stream":
                prop.setdefault("format", "binary")


def install(app: FastAPI) -> None:
    """Declare the security schemes, require them on every operation that needs a credential, and document every
    status the layers in front of a route can answer."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            components = doc.setdefault("components", {})
            components["securitySchemes"] = SECURITY_SCHEMES
            components.setdefault("schemas", {})["Problem"] = PROBLEM
            _mark_uploads(components["schemas"])
            for path, operations in doc["paths"].items():
                for method, operation in operations.items():
                    security = _security(method, path)
                    operation["security"] = security or []
                    _document_clean_parameters(operation)
                    responses = operation.setdefault("responses", {})
                    for code in _errors(method, path, secured=security is not None):
                        responses.setdefault(code, {"description": _ERRORS[code], "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
