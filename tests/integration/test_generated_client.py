"""API.md: "a client generated from it (openapi-generator ``typescript-fetch``) compiles under ``tsc --strict``", and its
methods carry the document's stable camelCase operationIds."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from api.app import create_app
from laowu.settings import Settings

from conftest import REPO

GENERATOR_VERSION = "7.17.0"
CONTRACT = REPO / "contract"


def generator_jar() -> Path:
    """openapi-generator-cli from Maven Central, fetched once into the user's cache (renamed into place whole)."""
    cache = Path.home() / ".cache" / "laowu"
    jar = cache / f"openapi-generator-cli-{GENERATOR_VERSION}.jar"
    if jar.is_file():
        return jar
    mvn = shutil.which("mvn")
    assert mvn, "Maven is needed once to fetch openapi-generator-cli (make test installs it on Debian)"
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run([mvn, "-q", "dependency:copy",
                        f"-Dartifact=org.openapitools:openapi-generator-cli:{GENERATOR_VERSION}",
                        f"-DoutputDirectory={tmp}"], check=True, timeout=600, cwd=tmp)
        Path(tmp, jar.name).rename(jar)
    return jar


def typescript() -> Path:
    tsc = CONTRACT / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install the pinned TypeScript (contract/package-lock.json)"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=CONTRACT, check=True, timeout=600,
                       capture_output=True)
    return tsc


def test_the_typescript_fetch_client_compiles_under_strict_and_names_operations(tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(create_app(Settings(env="test")).openapi()))
    client = tmp_path / "client"
    java = shutil.which("java")
    assert java, "Java is needed to run openapi-generator (it runs the local Kafka broker too)"
    generated = subprocess.run([java, "-jar", str(generator_jar()), "generate", "-i", str(document),
                                "-g", "typescript-fetch", "-o", str(client), "--additional-properties=supportsES6=true"],
                               capture_output=True, text=True, timeout=300)
    assert generated.returncode == 0, generated.stdout[-3000:] + generated.stderr[-3000:]
    compiled = subprocess.run([str(typescript()), "--strict", "--noEmit", "--target", "es2020", "--lib", "es2020,dom",
                               "--module", "es2020", "--moduleResolution", "node", "index.ts"],
                              cwd=client, capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, compiled.stdout[-4000:] + compiled.stderr[-2000:]
    apis = "\n".join(p.read_text() for p in (client / "apis").glob("*.ts"))
    for method in ("registerWorker", "confirmPlacement", "submitEventBatch", "revealWorker", "exchangeApiKey"):
        assert f"async {method}(" in apis, f"no {method}() in the generated client"
    assert "async registerWorkerV1WorkersPost(" not in apis
