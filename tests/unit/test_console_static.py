"""``/console/``: the build's files, ``index.html`` for the app's own paths, caching by kind (api/console.py)."""

from __future__ import annotations

import gzip
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import console
from api.app import create_app
from api.routing import api_routes
from laowu.settings import Settings


def served(dist: Path) -> TestClient:
    app = FastAPI()
    app.include_router(console.router(dist))
    return TestClient(app)


def build(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<!doctype html><div id="app"></div><script src="/console/assets/index-abc.js"></script>')
    (dist / "assets" / "index-abc.js").write_text("console.log(1)")
    (dist / "assets" / "index-abc.js.gz").write_bytes(gzip.compress(b"console.log(1)"))
    (dist / "first-load.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("outside the build")
    return dist


def test_pages_of_the_app_get_index_html_revalidated(tmp_path: Path) -> None:
    client = served(build(tmp_path))
    for path in ("/console/", "/console/login", "/console/workstation/workers/w0123", "/console/first-load.json"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html") and 'id="app"' in r.text, path
        assert r.headers["cache-control"] == "no-cache", path


def test_assets_are_immutable_and_missing_ones_are_404_not_the_page(tmp_path: Path) -> None:
    client = served(build(tmp_path))
    r = client.get("/console/assets/index-abc.js", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.text == "console.log(1)" and "content-encoding" not in r.headers
    assert "javascript" in r.headers["content-type"]
    r = client.get("/console/assets/index-abc.js", headers={"Accept-Encoding": "gzip, br"})  # the build's .gz
    assert r.headers["content-encoding"] == "gzip" and r.text == "console.log(1)"  # (the client inflates it)
    assert "javascript" in r.headers["content-type"] and r.headers["vary"] == "Accept-Encoding"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/console/assets/index-old.js").status_code == 404
    assert client.get("/console/assets/../../secret.txt").status_code in (200, 404)  # normalised by the client…
    assert "outside the build" not in client.get("/console/assets/%2e%2e/%2e%2e/secret.txt").text  # …or refused


def test_bare_console_redirects_and_no_build_says_how_to_make_one(tmp_path: Path) -> None:
    client = served(tmp_path / "missing")
    r = client.get("/console", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/console/"
    r = client.get("/console/workstation/register")
    assert r.status_code == 503 and "make console" in r.text


def test_the_api_serves_the_console_without_a_credential_and_outside_the_contract() -> None:
    app = create_app(Settings(env="test"))
    paths = {route.path for route in api_routes(app.routes)}
    assert {"/console", "/console/{path:path}"} <= paths
    assert not any(p.startswith("/console") for p in app.openapi()["paths"])


def test_the_api_serves_the_build_laowu_console_dir_names(tmp_path: Path) -> None:
    """An installed package has no checkout beside it: the image points LAOWU_CONSOLE_DIR at its build."""
    dist = build(tmp_path)
    client = TestClient(create_app(Settings(env="test", console_dir=str(dist))))
    r = client.get("/console/assets/index-abc.js", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200 and r.text == "console.log(1)"
    assert 'id="app"' in client.get("/console/workstation/register").text
