"""Schemathesis over the whole OpenAPI document with every check, as the credential each operation is for.

Left out, and why (issue 16 asks for every check minus what can be justified):
- ``positive_data_acceptance`` and multipart type mutations: see tests/schemathesis.toml.
- ``GET /v1/feed``: an endless stream (its own tests: test_feed.py, test_feed_limits.py).
- ``POST /v1/auth/logout``: it signs out the very token the run uses, after which every operation answers 401 and
  the run tests nothing (test_edge.py tests sign-out).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from laowu.settings import Settings
from laowu.stack.ports import free_port
from laowu.stack.processes import child_env, stop_process

from conftest import REPO, spawn_ours
from helpers import bearer

pytestmark = pytest.mark.services

ROLE_ONLY = r"/v1/followups|/v1/placements/[^/]+/(confirm|reject|end)$|/v1/brands/[^/]+/scores$|/v1/reviews$"
PASSES = [  # (credential, operations): every operation as a role it is for, once
    (("admin", "laowu-ops", None), ("--exclude-path-regex", rf"/v1/feed|/v1/auth/logout|^/metrics|{ROLE_ONLY}")),
    (("employer", "emp-1", "440305"), ("--include-path-regex", r"/v1/placements/[^/]+/(confirm|reject|end)$")),
    (("workstation", "ws-460105-01", "460105"), ("--include-path-regex", r"/v1/followups")),
    (("reviewer", "expert-1", "460000"), ("--include-path-regex", r"/v1/brands/[^/]+/scores$|/v1/reviews$")),
]


def _serve(settings: Settings, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = spawn_ours(["api"], settings, log, LAOWU_API_PORT=str(port),
                      LAOWU_METRICS_TOKEN=settings.metrics_token.get_secret_value() if settings.metrics_token else "")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_process(proc)
    raise AssertionError("the API did not become ready:\n" + log.read_text()[-3000:])


@pytest.mark.timeout(600)
def test_schemathesis_all_checks_pass_over_the_whole_document(settings: Settings, tmp_path: Path) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st, "schemathesis is a dev dependency"
    log = tmp_path / "api.log"
    proc, url = _serve(settings, log)
    scrape = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    passes = [(bearer(role, org, region, settings=settings)["Authorization"], selection)
              for (role, org, region), selection in PASSES]
    passes.append((f"Bearer {scrape}", ("--include-path-regex", r"^/metrics$")))
    failures = []
    try:
        for authorization, selection in passes:
            run = subprocess.run(
                [st, "--config-file", str(REPO / "tests" / "schemathesis.toml"), "run", f"{url}/openapi.json",
                 "--max-examples", "10",
                 "--seed", "7", "--workers", "1", "--request-timeout", "10", "-H", f"Authorization: {authorization}",
                 *selection],
                cwd=REPO, env=child_env(settings), capture_output=True, text=True, timeout=300,
            )
            if run.returncode != 0:
                failures.append(f"{' '.join(selection)}:\n{run.stdout[-6000:]}{run.stderr[-2000:]}")
    finally:
        stop_process(proc)
    assert not failures, "\n\n".join(failures) + "\nAPI log:\n" + log.read_text()[-3000:]
