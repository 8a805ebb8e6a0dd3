"""The OpenAPI document's ``typescript-fetch`` client, generated the one way both its users need it.

API.md: "a client generated from it (openapi-generator ``typescript-fetch``) compiles under ``tsc --strict`` …
The console's API layer is such a generated client." ``tests/integration/test_generated_client.py`` compiles one
in a temporary folder; the console commits one under ``console/src/api/generated/`` (so a clean clone builds the
console with Node alone) and ``tests/integration/test_console_client.py`` fails when that copy is stale.

    .venv/bin/python -m contract.client      # regenerate the console's copy (and its region table, below)

The console also checks region codes as the clerk types, against the same GB/T 2260 table the API uses
(``laowu.domain.regions``): ``console/src/data/regions.json`` (code → name, ~55 KB gzipped, loaded only by the
pages that take a region code), generated here and held to the table by the same test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

GENERATOR_VERSION = "7.17.0"
REPO = Path(__file__).resolve().parents[1]
CONSOLE_CLIENT = REPO / "console" / "src" / "api" / "generated"
CONSOLE_REGIONS = REPO / "console" / "src" / "data" / "regions.json"
# supportsES6: Promise/Map types under --target es2020. The console's properties keep the document's snake_case
# names, so an error's `loc` names the form field as it is (no camelCase mapping to get wrong).
OPTIONS = {"supportsES6": "true"}
CONSOLE_OPTIONS = {**OPTIONS, "modelPropertyNaming": "original"}


def document() -> dict[str, object]:
    """The OpenAPI document as the API serves it, built without services (no database, no broker)."""
    from api.app import create_app
    from laowu.settings import Settings

    return create_app(Settings(env="test")).openapi()


def generator_jar() -> Path:
    """openapi-generator-cli from Maven Central, fetched once into the user's cache (renamed into place whole)."""
    cache = Path.home() / ".cache" / "laowu"
    jar = cache / f"openapi-generator-cli-{GENERATOR_VERSION}.jar"
    if jar.is_file():
        return jar
    mvn = shutil.which("mvn")
    if not mvn:
        raise RuntimeError("Maven is needed once to fetch openapi-generator-cli (make system-tools installs it on Debian)")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run([mvn, "-q", "dependency:copy",
                        f"-Dartifact=org.openapitools:openapi-generator-cli:{GENERATOR_VERSION}",
                        f"-DoutputDirectory={tmp}"], check=True, timeout=600, cwd=tmp)
        Path(tmp, jar.name).rename(jar)
    return jar


def generate(out: Path, options: dict[str, str] = OPTIONS, spec: dict[str, object] | None = None) -> None:
    """Generate the client into ``out`` (replaced whole); raises with the generator's output on failure."""
    java = shutil.which("java")
    if not java:
        raise RuntimeError("Java is needed to run openapi-generator (it runs the local Kafka broker too)")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "openapi.json")
        source.write_text(json.dumps(spec if spec is not None else document(), indent=1, sort_keys=True))
        target = Path(tmp, "client")
        props = ",".join(f"{k}={v}" for k, v in options.items())
        done = subprocess.run([java, "-jar", str(generator_jar()), "generate", "-i", str(source), "-g", "typescript-fetch",
                               "-o", str(target), f"--additional-properties={props}"],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(done.stdout[-3000:] + done.stderr[-3000:])
        for noise in (".openapi-generator-ignore", ".openapi-generator", "docs", "README.md"):  # bookkeeping, prose
            path = target / noise
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(target, out)


def regions_table() -> str:
    """Every code the API accepts as a region (including abolished ones, as ID numbers carry them) with its name."""
    from laowu.domain import regions

    table = {code: regions.region_name(code) or "" for code in regions.codes()}
    return json.dumps(table, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"


def files(root: Path) -> dict[str, str]:
    """Every file of a generated client by relative path, for comparing two generations."""
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else CONSOLE_CLIENT
    generate(out, CONSOLE_OPTIONS)
    print(f"generated {len(files(out))} files into {out}")
    CONSOLE_REGIONS.parent.mkdir(parents=True, exist_ok=True)
    CONSOLE_REGIONS.write_text(regions_table())
    print(f"wrote {CONSOLE_REGIONS.relative_to(REPO)}")
