"""API.md: "a client generated from it (openapi-generator ``typescript-fetch``) compiles under ``tsc --strict``", and its
methods carry the document's stable camelCase operationIds."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from contract.client import generate

from conftest import REPO

CONTRACT = REPO / "contract"


def typescript() -> Path:
    tsc = CONTRACT / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install the pinned TypeScript (contract/package-lock.json)"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONTRACT, check=True, timeout=600,
                       capture_output=True)
    return tsc


def test_the_typescript_fetch_client_compiles_under_strict_and_names_operations(tmp_path: Path) -> None:
    client = tmp_path / "client"
    generate(client)  # the document as create_app() serves it, through openapi-generator-cli (contract/client.py)
    compiled = subprocess.run([str(typescript()), "--strict", "--noEmit", "--target", "es2020", "--lib", "es2020,dom",
                               "--module", "es2020", "--moduleResolution", "node", "index.ts"],
                              cwd=client, capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, compiled.stdout[-4000:] + compiled.stderr[-2000:]
    apis = "\n".join(p.read_text() for p in (client / "apis").glob("*.ts"))
    for method in ("registerWorker", "confirmPlacement", "submitEventBatch", "revealWorker", "exchangeApiKey"):
        assert f"async {method}(" in apis, f"no {method}() in the generated client"
    assert "async registerWorkerV1WorkersPost(" not in apis
