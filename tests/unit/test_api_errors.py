"""The errors of the layers below the API, as HTTP (api.errors): the store's and the reports' own errors map to the
statuses and bodies API.md gives, and no router or the error module deals with the database driver or SQL."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from laowu import reports
from laowu.store.errors import TRANSIENT_DB, NotFound, Unavailable

API = Path(__file__).resolve().parents[2] / "api"
SQL = re.compile(r"\bSELECT\s|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bUPDATE\s+\w+\s+SET\b")  # as the store writes SQL


def _client(exc: Exception) -> TestClient:
    app = FastAPI()
    errors.install(app)

    @app.get("/x")
    async def fail() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("exc, status, body", [
    (Unavailable("ConnectionRefusedError"), 503,
     {"detail": "ledger database unavailable, retry: ConnectionRefusedError"}),
    (NotFound("w-1"), 404, {"detail": "not found"}),
    (reports.OutOfSight("region 500000"), 404,
     {"detail": [{"loc": ["path"], "msg": "region 500000 not found", "type": "not_found"}]}),
    (reports.BadWindow("from must not be after to, and at most 120 months apart"), 422,
     {"detail": [{"loc": ["query", "from"], "msg": "from must not be after to, and at most 120 months apart",
                  "type": "value_error"}]}),
])
def test_store_and_report_errors_as_http(exc: Exception, status: int, body: object) -> None:
    r = _client(exc).get("/x")
    assert (r.status_code, r.json()) == (status, body)
    if status == 503:
        assert r.headers["Retry-After"] == "2"


def test_an_error_of_the_os_is_no_longer_called_a_database_outage() -> None:
    assert _client(PermissionError("spool")).get("/x").status_code == 500


def test_the_consumers_still_retry_an_unavailable_store() -> None:
    assert Unavailable in TRANSIENT_DB


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | {
        n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


def test_the_error_module_does_not_know_the_driver() -> None:
    assert not any(m.startswith("asyncpg") for m in _imports(API / "errors.py"))


@pytest.mark.parametrize("path", sorted((API / "routers").glob("*.py")), ids=lambda p: p.name)
def test_no_sql_in_routers(path: Path) -> None:
    """Routers parse, call and render; SQL lives in laowu.store."""
    strings = [n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    sql = [s for s in strings if SQL.search(s)]
    assert not sql, sql


def test_no_router_is_another_routers_service() -> None:
    for path in sorted((API / "routers").glob("*.py")):
        assert not {m for m in _imports(path) if m.startswith("api.routers")}, path.name
