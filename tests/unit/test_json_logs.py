"""LAOWU_LOG_FORMAT=json: one JSON object per line with the request id the response names, the access log as masked
as in text, and the ids a line is about."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest

from api.middleware import Observe
from laowu import logs

ID_NUMBER = "46000419900101002X"


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _serve(headers: list[tuple[bytes, bytes]]) -> tuple[list[dict[str, Any]], dict[bytes, bytes]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    access = logging.getLogger("laowu.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/v1/workers", "query_string": f"id_number={ID_NUMBER}".encode(),
             "headers": headers, "client": ("10.0.0.9", 5000)}
    try:
        await Observe(_ok)(scope, receive, send)
    finally:
        access.removeHandler(handler)
    return [json.loads(line) for line in out.getvalue().splitlines()], dict(sent[0]["headers"])


async def test_an_access_line_is_json_with_the_request_id_and_no_id_number() -> None:
    lines, headers = await _serve([])
    assert len(lines) == 1
    line = lines[0]
    assert {"ts", "level", "logger", "msg", "request_id"} <= set(line)
    assert line["request_id"] == headers[b"x-request-id"].decode()
    assert ID_NUMBER not in json.dumps(line) and "id_number=%2A%2A%2A" in line["msg"]


@pytest.mark.parametrize(("given", "kept"), [(b"abc-123-def-456", True), (b"has space in it", False),
                                             (b"x" * 200, False)])
async def test_a_callers_request_id_is_kept_only_when_it_is_a_plain_token(given: bytes, kept: bool) -> None:
    lines, headers = await _serve([(b"x-request-id", given)])
    assert (headers[b"x-request-id"] == given) is kept
    assert lines[0]["request_id"] == headers[b"x-request-id"].decode()


def test_extra_ids_reach_the_line_and_text_stays_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    record = logging.LogRecord("laowu.ledger", logging.INFO, __file__, 1, "waits for %s", ("worker:w1",), None)
    record.event_id = "e-1"
    line = json.loads(logs.JsonFormatter().format(record))
    assert (line["msg"], line["event_id"]) == ("waits for worker:w1", "e-1")
    monkeypatch.delenv("LAOWU_LOG_FORMAT", raising=False)
    assert not isinstance(logs.formatter(), logs.JsonFormatter)
    monkeypatch.setenv("LAOWU_LOG_FORMAT", "json")
    assert isinstance(logs.formatter(), logs.JsonFormatter)
