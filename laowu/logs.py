"""Logging for every process: text for people (the default), or one JSON object per line for a log pipeline.

``LAOWU_LOG_FORMAT=json`` turns JSON on. Each line carries ``ts``, ``level``, ``logger`` and ``msg``, plus the
request id (``request_id``: the API's, also sent back as ``X-Request-ID``) or the event id (``event_id``) the line
is about when there is one. The message is the same text the text format prints — the access log is masked before it
is formatted (``api.middleware.masked_query``), so JSON changes the shape of a line, never what it may contain.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

#: The id of the HTTP request being served (set by ``api.middleware.Observe``).
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("laowu_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname).1s %(name)s: %(message)s"
# Attributes a call may pass with ``extra=`` that belong in the JSON line.
_EXTRA = ("event_id", "topic", "partition", "offset", "group")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            line["request_id"] = rid
        for name in _EXTRA:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format() -> str:
    return "json" if os.environ.get("LAOWU_LOG_FORMAT", "").strip().lower() == "json" else "text"


def formatter() -> logging.Formatter:
    return JsonFormatter() if log_format() == "json" else logging.Formatter(TEXT_FORMAT, datefmt="%H:%M:%S")


def configure(level: int = logging.INFO) -> None:
    """The root logger of this process, in the format ``LAOWU_LOG_FORMAT`` asks for."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per readiness poll


def dict_config(level: str = "INFO") -> dict[str, Any]:
    """The same, for frameworks that configure logging themselves from a dictConfig (faust's worker)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"laowu": {"()": "laowu.logs.formatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "laowu"}},
        "root": {"level": level, "handlers": ["console"]},
    }
