"""The console's API layer is the generated client committed under ``console/src/api/generated`` (so a clean
clone builds the console with Node alone): it must be what the current OpenAPI document generates."""

from __future__ import annotations

from pathlib import Path

from contract.client import CONSOLE_CLIENT, CONSOLE_OPTIONS, CONSOLE_REGIONS, files, generate, regions_table


def test_the_committed_console_client_is_the_current_documents(tmp_path: Path) -> None:
    fresh = tmp_path / "client"
    generate(fresh, CONSOLE_OPTIONS)
    want, have = files(fresh), files(CONSOLE_CLIENT)
    stale = sorted(name for name in want.keys() | have.keys() if want.get(name) != have.get(name))
    assert not stale, ("console/src/api/generated is stale against the OpenAPI document; run `make console-client` "
                       f"and commit the result. Differing files: {stale[:20]}")


def test_the_console_client_keeps_the_contract_s_names() -> None:
    """snake_case properties as in the document (an error's ``loc`` names the form field as it is) and the
    camelCase operationIds as methods."""
    models = files(CONSOLE_CLIENT / "models")
    assert "id_number: string;" in models["WorkerCreate.ts"]
    apis = "\n".join(files(CONSOLE_CLIENT / "apis").values())
    for method in ("registerWorker", "lookupWorker", "revealWorker", "listReceipts", "listPlacements", "importWorkers"):
        assert f"async {method}(" in apis, method


def test_the_console_s_region_table_is_the_api_s() -> None:
    assert CONSOLE_REGIONS.read_text() == regions_table(), "run `make console-client` and commit the result"
