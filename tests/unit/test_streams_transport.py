"""The statistics worker's Kafka consumer waits at most 100 ms at the broker (faust fixes 1.5 s)."""

from __future__ import annotations

import pytest

from laowu.settings import Settings
from streams import transport
from streams.app import create_app


@pytest.mark.asyncio
async def test_the_faust_worker_consumer_is_built_with_the_short_fetch_wait(tmp_path) -> None:
    settings = Settings(kafka_bootstrap="127.0.0.1:9", database_url="postgresql://u@127.0.0.1:9/x", home=tmp_path)
    app = create_app(settings)
    assert isinstance(app.transport, transport.Transport)
    consumer = app.consumer  # as the worker builds it
    built = consumer._thread._create_worker_consumer(app.transport)  # what faust starts, before start()
    assert built._fetch_max_wait_ms == transport.FETCH_MAX_WAIT_MS == 100
