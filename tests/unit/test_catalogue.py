"""The event catalogue (schemas.events.CATALOGUE) is the one declaration of each event type; everything else that
needs to know about a type reads it from there."""

from __future__ import annotations

from typing import get_args

from api.access import BATCH_ROLES
from api.scoping import ORG_FIELDS, REGION_FIELDS
from schemas.events import CATALOGUE, PAYLOADS, SPECS, EventType
from schemas.topics import CATALOGUE as TOPICS
from schemas.topics import topic_for


def test_the_literal_type_names_exactly_the_catalogue() -> None:
    assert list(get_args(EventType)) == [spec.name for spec in CATALOGUE]
    assert len(SPECS) == len(CATALOGUE) == len(PAYLOADS)


def test_every_entry_is_consistent_with_its_payload_and_topic() -> None:
    topics = {t.name for t in TOPICS}
    for spec in CATALOGUE:
        fields = spec.payload.model_fields
        assert spec.topic in topics, spec.name
        assert topic_for(spec.name).name == spec.topic
        if spec.senders:  # a source event is keyed by a field of its own (derived ones by what they describe)
            assert spec.key in fields, f"{spec.name}: partition key {spec.key} is not a payload field"
        for named in (spec.org_field, spec.region_field):
            assert named is None or named in fields, f"{spec.name}: {named} is not a payload field"
        assert spec.versions and all(v >= 1 for v in spec.versions)


def test_the_doors_read_the_catalogue() -> None:
    assert BATCH_ROLES == {s.name: s.senders for s in CATALOGUE if s.senders}
    assert ORG_FIELDS == {s.name: s.org_field for s in CATALOGUE if s.org_field}
    assert REGION_FIELDS == {s.name: s.region_field for s in CATALOGUE if s.region_field}
    # derived events are never a client's to send
    for derived in ("ledger.changed", "stats.updated", "alert.raised", "alert.closed", "subsidy.accrued"):
        assert derived not in BATCH_ROLES


def test_the_event_names_sql_spells_are_the_catalogues() -> None:
    """Where SQL names an event type (receipts of registrations, deferred dispatches), a renamed or mistyped entry
    would match nothing and fail silently: every quoted ``<entity>.<verb>`` in the store's SQL is a catalogue name,
    and the registrations it looks for are the ledger's registering rules."""
    import re
    from pathlib import Path

    from laowu.ledger.rules import RULES

    root = Path(__file__).resolve().parents[2]
    entities = "|".join(sorted({name.split(".")[0] for name in SPECS}))
    quoted = re.compile(rf"'((?:{entities})\.[a-z_]+)'")
    found = {m for f in [*root.glob("laowu/store/**/*.py"), *root.glob("laowu/store/migrations/*.sql"),
                         *root.glob("streams/**/*.py")] for m in quoted.findall(f.read_text(encoding="utf-8"))}
    assert found and found <= set(SPECS), found - set(SPECS)
    # A demand's posting registers too (dispatches wait for it), but no SQL looks its receipt up (issue 19).
    registrations = {name for name, rule in RULES.items() if rule.registers and rule.kind in ("worker", "brand")}
    assert {n for n in found if n.endswith(".registered")} == registrations
