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


def test_dates_and_timestamps_are_text_never_numbers() -> None:
    """Lax pydantic read ``"occurred_at": 0`` as 1970-01-01; the schema says a string."""
    from pydantic import ValidationError

    from schemas.api import BrandStatusChange, PlacementEnd

    with pytest.raises(ValidationError, match="date_text"):
        BrandStatusChange.model_validate({"status": "listed", "reason": "入库", "occurred_at": 0})
    with pytest.raises(ValidationError, match="date_text"):
        PlacementEnd.model_validate({"end_date": 20000, "reason": "resigned"})
    assert PlacementEnd.model_validate({"end_date": "2026-11-30", "reason": "resigned"}).end_date.day == 30


def test_every_free_text_field_and_parameter_documents_the_clean_text_rule(doc: dict[str, Any]) -> None:
    from schemas.common import CLEAN_PATTERN, unclean_character

    name = doc["components"]["schemas"]["WorkerCreate"]["properties"]["name"]
    assert name["pattern"] == CLEAN_PATTERN
    cursor = next(p for p in operations(doc)[("GET", "/v1/workers")]["parameters"] if p["name"] == "cursor")
    assert {"type": "string", "pattern": CLEAN_PATTERN} in cursor["schema"]["anyOf"]
    # the documented pattern never admits what the rule refuses (within what it can express)
    documented = re.compile(CLEAN_PATTERN)
    for char in ["\x00", "\x1f", "\x85", "\ufdd0", "\uffff", "\t"]:
        assert unclean_character(char) is not None and not documented.match(char)
