"""The statistics stream's reading of ``ledger.changed`` (streams.changes) against the catalogue's declaration."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import orjson

from schemas import events as ev
from schemas.envelope import Envelope
from streams.changes import Change, ChangeBody, decode_change


def _envelope(**payload: object) -> Envelope:
    body = ev.LedgerChanged(**{"entity": "placement", "entity_id": "p1", "cause_event_id": "e1",
                               "cause_type": "placement.confirmed", **payload})  # type: ignore[arg-type]
    return Envelope.wrap(body, type="ledger.changed", key="p1", source="laowu.ledger",
                         occurred_at=datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=8))))


def test_the_body_has_exactly_the_catalogue_s_fields_and_defaults() -> None:
    declared = ev.LedgerChanged.model_fields
    read = {f.name: f for f in msgspec.structs.fields(ChangeBody)}
    assert read.keys() == declared.keys()
    for name, field in declared.items():
        assert field.is_required() == (read[name].default is msgspec.NODEFAULT
                                       and read[name].default_factory is msgspec.NODEFAULT), name
    envelope_fields = {f.name for f in msgspec.structs.fields(Change)}
    assert envelope_fields <= Envelope.model_fields.keys()


def test_it_reads_what_the_envelope_reads_from_the_same_bytes() -> None:
    env = _envelope(regions=["460105", "440305"], before={"status": "dispatched", "version": 1},
                    after={"status": "confirmed", "version": 2, "monthly_wage": "5200.00"},
                    facts={"followup_id": "f1", "date": "2026-03-02"})
    raw = env.to_bytes()
    change = decode_change(raw, "t:0@0")
    assert change is not None
    again = Envelope.from_bytes(raw)
    assert (change.event_id, change.type, change.occurred_at, change.recorded_at) == \
           (again.event_id, again.type, again.occurred_at, again.recorded_at)
    assert change.occurred_at.isoformat() == again.occurred_at.isoformat() == "2026-03-02T09:30:00+08:00"
    assert msgspec.to_builtins(change.body) == again.body.model_dump(mode="json")
    minimal = decode_change(_envelope().to_bytes(), "t:0@1")
    assert minimal is not None and msgspec.to_builtins(minimal.body) == _envelope().body.model_dump(mode="json")


def test_what_it_cannot_read_is_skipped_not_raised() -> None:
    good = orjson.loads(_envelope().to_bytes())
    assert decode_change(None, "t:0@0") is None
    assert decode_change(b"not json", "t:0@1") is None
    assert decode_change(orjson.dumps(good | {"type": "alert.raised"}), "t:0@2") is None
    assert decode_change(orjson.dumps(good | {"occurred_at": "2026-03-02T09:30:00"}), "t:0@3") is None  # no zone
    assert decode_change(orjson.dumps(good | {"event_id": "42"}), "t:0@4") is None
    assert decode_change(orjson.dumps(good | {"payload": {"entity": "worker"}}), "t:0@5") is None
    assert decode_change(orjson.dumps(good | {"event_id": str(uuid.uuid4()), "extra": 1}), "t:0@6") is not None
    assert decode_change(orjson.dumps(good), "t:0@7") == Change(
        event_id=uuid.UUID(good["event_id"]), type="ledger.changed",
        occurred_at=datetime(2026, 3, 2, 1, 30, tzinfo=UTC),
        recorded_at=datetime.fromisoformat(good["recorded_at"]),
        payload=ChangeBody(entity="placement", entity_id="p1", cause_event_id="e1", cause_type="placement.confirmed"))
