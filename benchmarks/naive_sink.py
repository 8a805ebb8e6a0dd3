"""The obvious peer: one faust agent, one ``INSERT … ON CONFLICT`` per event (no batching, no ledger rules).

Run as a subprocess by ``benchmarks.run``::

    python -m benchmarks.naive_sink BOOTSTRAP DSN TOPIC [TOPIC…]

It decodes each message as JSON and upserts one row into ``naive_events`` keyed by ``event_id`` —
idempotent, so it is a fair "exactly-once-ish" sink, but it does none of the ledger's work (no decryption
check, no merge, no history, no outbox). Messages that are not JSON objects with an event_id are skipped.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

TABLE = """
CREATE TABLE IF NOT EXISTS naive_events (
    event_id    uuid PRIMARY KEY,
    type        text NOT NULL,
    entity      text,
    payload     jsonb NOT NULL,
    inserted_at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


def build_app(bootstrap: str, dsn: str, topics: list[str]) -> Any:
    import asyncpg
    import faust

    from laowu import kafka_security

    app = faust.App(
        "laowu-naive-sink",
        broker=f"kafka://{bootstrap}",
        broker_credentials=kafka_security.PLAINTEXT.faust_credentials(),  # the bench's own PLAINTEXT broker
        value_serializer="raw",
        key_serializer="raw",
        web_enabled=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=1,
    )
    source = app.topic(*topics, value_type=bytes, key_type=bytes, value_serializer="raw", key_serializer="raw")
    state: dict[str, Any] = {}

    @app.agent(source)
    async def sink(stream: Any) -> None:
        if "conn" not in state:
            state["conn"] = await asyncpg.connect(dsn)
        conn = state["conn"]
        async for value in stream:
            try:
                event = json.loads(value)
                event_id = event["event_id"]
            except Exception:
                continue
            await conn.execute(
                "INSERT INTO naive_events (event_id, type, entity, payload) VALUES ($1, $2, $3, $4::jsonb) "
                "ON CONFLICT (event_id) DO NOTHING",
                event_id, str(event.get("type")), event.get("key"), json.dumps(event.get("payload"), ensure_ascii=False),
            )

    return app


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING)
    bootstrap, dsn, *topics = argv
    app = build_app(bootstrap, dsn, topics)
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn", "--without-web"]
    app.main()


if __name__ == "__main__":
    main(sys.argv[1:])
