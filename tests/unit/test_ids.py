import random
import uuid

from laowu.domain.ids import uuid5_str


def test_uuid5_str_is_uuid5() -> None:
    rnd = random.Random(5)
    for i in range(2000):
        namespace = uuid.UUID(int=rnd.getrandbits(128))
        name = f"{rnd.choice(['worker', 'placement', 'followup'])}:{rnd.getrandbits(96):x}{'工' * (i % 3)}"
        assert uuid5_str(namespace, name) == str(uuid.uuid5(namespace, name))


def test_every_namespace_lives_in_one_module_and_keeps_its_value() -> None:
    """A namespace pasted into a second module can drift from the first, and deduplication with it."""
    import re
    from pathlib import Path

    from laowu.domain import ids

    root = Path(__file__).parents[2]
    literal = re.compile(r"uuid\.UUID\(\s*['\"][0-9a-fA-F-]{36}['\"]")
    offenders = [str(p.relative_to(root)) for package in ("laowu", "api", "consumers", "streams", "schemas", "benchmarks")
                 for p in (root / package).rglob("*.py")
                 if p != root / "laowu" / "domain" / "ids.py" and literal.search(p.read_text())]
    assert not offenders, f"namespaces belong in laowu/domain/ids.py: {offenders}"
    # stored event and placement ids were made with these: they never change
    assert str(ids.DERIVED) == "0b1c4a5e-9d3f-4e21-8a57-2f6c0d9e1b33"
    assert str(ids.IMPORT_ROWS) == "0b7c8a52-61f4-4f0e-a3c5-2d9e7f1b4c66"
    assert str(ids.IDEMPOTENCY) == "5a1f7f2e-4b0c-4c8e-9f39-6c1d0e0a1a57"
    assert str(ids.alert_raised_id("followup_overdue:pl-1")) == str(uuid.uuid5(ids.DERIVED, "raised:followup_overdue:pl-1"))
