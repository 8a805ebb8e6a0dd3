"""The Kafka Connect peer of ``make bench`` (``benchmarks.connect_sink``): rows as JSON with schemas the way
``JsonConverter`` reads them, and a sink configured as issue 22 asks (upsert by the record key, batches, 2 tasks)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import orjson

from benchmarks import connect_sink
from benchmarks.run import WORKER_COPY_COLUMNS


def test_a_row_is_a_struct_with_its_schema_dates_as_connect_logical_types() -> None:
    row = ("w1", "enc", "4600**********1234", "测试", "F", date(1990, 1, 2), "469005",
           datetime(2026, 12, 1, 8, 0, tzinfo=UTC), None, None, "6-01", ["tropical-farmer"], [], ["ws-469005-01"],
           "registered", 3)
    key, value = connect_sink.record(row)
    assert orjson.loads(key) == {"schema": connect_sink.KEY_SCHEMA, "payload": {"worker_id": "w1"}}
    doc = orjson.loads(value)
    fields = {f["field"]: f for f in doc["schema"]["fields"]}
    assert list(fields) == WORKER_COPY_COLUMNS  # the ledger-shaped rows' columns, in their order
    assert fields["birth_date"]["name"] == "org.apache.kafka.connect.data.Date"
    assert fields["brand_ids"]["type"] == "array" and fields["phone_enc"]["optional"] is True
    payload = doc["payload"]
    assert payload["birth_date"] == (date(1990, 1, 2) - date(1970, 1, 1)).days
    assert payload["registered_at"] == int(datetime(2026, 12, 1, 8, 0, tzinfo=UTC).timestamp() * 1000)
    assert payload["brand_ids"] == ["tropical-farmer"] and payload["phone_enc"] is None and payload["version"] == 3


def test_the_sink_upserts_by_the_record_key_in_batches() -> None:
    worker, sink = connect_sink.properties("127.0.0.1:9092", "postgresql://postgres@127.0.0.1:5432/laowu",
                                           Path("/tmp/w"), Path("/tmp/p"))
    assert sink["insert.mode"] == "upsert" and sink["primary.key.mode"] == "record_key"
    assert sink["batch.size"] == worker["consumer.max.poll.records"] == "2000" and sink["tasks.max"] == "2"
    assert sink["connection.url"] == "jdbc:postgresql://127.0.0.1:5432/laowu"
    assert worker["value.converter.schemas.enable"] == "true" and worker["plugin.path"] == "/tmp/p"


def test_a_task_can_fetch_a_whole_batch_from_one_partition() -> None:
    # The sink writes a transaction per put(); a fetch smaller than a batch would make batch.size a fiction.
    from benchmarks.run import worker_rows

    key, value = connect_sink.record(worker_rows(1, seed=3)[0])
    worker, _ = connect_sink.properties("b:1", "postgresql://postgres@h:1/d", Path("/w"), Path("/p"))
    assert int(worker["consumer.max.partition.fetch.bytes"]) >= connect_sink.BATCH * (len(key) + len(value) + 100)


def test_a_failed_task_is_told_by_its_causes() -> None:
    trace = ("org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask\n\tat a.b(C.java:1)\n"
             "Caused by: org.apache.kafka.connect.errors.ConnectException: JDBC sink connector failure\n\tat d.e(F.java:2)\n"
             "Caused by: org.postgresql.util.PSQLException: ERROR: violates check constraint \"workers_sex_check\"\n")
    told = connect_sink.causes(trace).splitlines()
    assert told[0].endswith("Exiting WorkerSinkTask") and "at a.b" not in "".join(told)
    assert told[-1].endswith('"workers_sex_check"') and len(told) == 3
