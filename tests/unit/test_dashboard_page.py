"""``/dashboard``: the wall screen is a page of the console's build (console/dashboard.html → console/dist), served
at its old address; ECharts comes with the build from npm, no vendored copy is left in the API."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.routers import dashboard
from api.routing import api_routes
from laowu.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def served(dist: Path) -> TestClient:
    app = FastAPI()
    app.include_router(dashboard.router(dist))
    return TestClient(app)


def test_the_page_of_the_build_is_served_and_revalidated(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "dashboard.html").write_text('<!doctype html><script type="module" src="/console/assets/dashboard-x.js"></script>')
    r = served(dist).get("/dashboard")
    assert r.status_code == 200 and "/console/assets/dashboard-x.js" in r.text
    assert r.headers["content-type"].startswith("text/html") and r.headers["cache-control"] == "no-cache"


def test_without_a_build_the_page_says_how_to_make_one(tmp_path: Path) -> None:
    r = served(tmp_path / "missing").get("/dashboard")
    assert r.status_code == 503 and "make console" in r.text


def test_no_vendored_echarts_and_no_static_mount() -> None:
    assert not (REPO / "api" / "static").exists()
    app = create_app(Settings(env="test"))
    paths = {route.path for route in api_routes(app.routes)}
    assert "/dashboard" in paths and not any(p.startswith("/static") for p in paths)
    assert "/dashboard" not in app.openapi()["paths"]
    entry = (REPO / "console" / "dashboard.html").read_text()
    assert 'src="/src/dashboard/main.ts"' in entry and "vendor" not in entry
    charts = (REPO / "console" / "src" / "dashboard" / "echarts.ts").read_text()
    assert "from 'echarts/core'" in charts and "from 'echarts'" not in charts  # on demand, never the whole library
