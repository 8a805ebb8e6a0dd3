"""API.md: the OpenAPI document is part of the contract — stable camelCase operationIds, the bearer scheme declared
and required wherever a credential is."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.access import RULES
from api.app import create_app
from api.openapi import OPERATION_IDS
from laowu.settings import Settings


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return create_app(Settings(env="test")).openapi()


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): op for path, item in doc["paths"].items() for method, op in item.items()}


def test_every_operation_has_its_stable_camel_case_id(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    ids = [op["operationId"] for op in ops.values()]
    assert all(re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert {key: op["operationId"] for key, op in ops.items()} == OPERATION_IDS  # no stale or missing entry
    # the names API.md gives as examples
    assert OPERATION_IDS[("POST", "/v1/workers")] == "registerWorker"
    assert OPERATION_IDS[("POST", "/v1/placements/{placement_id}/confirm")] == "confirmPlacement"


def test_the_bearer_scheme_is_declared_and_required_where_a_credential_is(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    for (method, path), op in operations(doc).items():
        public = not path.startswith("/v1/") or RULES.get((method, path)) == frozenset()
        if path == "/metrics":
            assert op["security"] == [{"metricsToken": []}]
        elif public:
            assert op["security"] == [], (method, path)
        else:
            assert {"bearerAuth": []} in op["security"], (method, path)
            assert "401" in op["responses"], (method, path)
    assert operations(doc)[("GET", "/v1/feed")]["security"] == [{"bearerAuth": []}, {"accessTokenQuery": []}]
