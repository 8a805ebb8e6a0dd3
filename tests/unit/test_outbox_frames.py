"""Outbox frames: what the ledger packs in its transaction is exactly what the relay publishes, in order."""

from __future__ import annotations

import orjson

from laowu.store.outbox import pack, unpack


def test_frames_round_trip_in_order_with_counts() -> None:
    messages = [
        ("ledger-changes", "w1", {"type": "ledger.changed", "payload": {"name": "王小明"}}),
        ("alerts", "w2", {"type": "alert.raised", "payload": {}}),
        ("ledger-changes", "键", {"type": "ledger.changed", "payload": {"n": 1}}),
    ]
    frames, counts = pack(messages)
    out = list(unpack(frames))
    assert [(t, k.decode()) for t, k, _ in out] == [("ledger-changes", "w1"), ("alerts", "w2"), ("ledger-changes", "键")]
    assert [orjson.loads(v) for _, _, v in out] == [m[2] for m in messages]
    assert counts == {"ledger.changed": 2, "alert.raised": 1}


def test_large_values_and_empty_batches() -> None:
    big = {"type": "stats.updated", "payload": {"blob": "x" * 200_000}}
    frames, counts = pack([("stats", "k", big)])
    ((topic, key, value),) = list(unpack(frames))
    assert (topic, key, orjson.loads(value)) == ("stats", b"k", big) and counts == {"stats.updated": 1}
    assert pack([]) == (b"", {}) and list(unpack(b"")) == []
