"""The batch door's fast path publishes what the model path would: same bytes, same payload, same refusals."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from laowu.application import catalogue
from laowu.application.commands import RegisterWorker
from laowu.intake import Context, Intake, InvalidRequest
from laowu.privacy import Privacy
from laowu.settings import Settings
from schemas.api import BatchItem, WorkerCreate
from schemas.common import Actor
from schemas.envelope import Envelope, RawEnvelope
from schemas.events import WorkerRegistered

from helpers import person

WS = Actor(role="workstation", org="ws-460105-01", region="460105")
FULL = Actor(role="bureau", org="hn-bureau", region="460000", subject="clerk \"7\"")
ADMIN = Actor(role="admin", org="ops")
PAYLOADS: list[dict[str, Any]] = [
    {"worker_id": "w" + "a" * 24, "name": "王小梅", "birth_date": "1990-03-07", "brand_ids": []},
    {"worker_id": "w" + "b" * 24, "name": "line\u2028sep \"quoted\" back\\slash\x00\x1f\x7f é😀", "n": 3, "ok": True},
    {"nested": {"a": [1, "二", {"b": False}]}, "empty": {}},
]
TIMES = [
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, 1, tzinfo=timezone(timedelta(hours=8))),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
    *(BatchItem.model_validate({"type": "worker.registered", "occurred_at": at, "payload": {}}).occurred_at
      for at in ("2026-01-02T03:04:05.5Z", "2026-01-02T03:04:05+05:45")),
]


@pytest.mark.parametrize("actor", [None, WS, FULL, ADMIN])
@pytest.mark.parametrize("at", TIMES)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_raw_envelope_writes_the_bytes_the_model_writes(actor: Actor | None, at: datetime, payload: dict[str, Any]) -> None:
    fields: dict[str, Any] = {"event_id": uuid.uuid4(), "type": "worker.brand_joined", "occurred_at": at,
                              "recorded_at": datetime.now(UTC), "source": "ws-1 \"x\" 二", "actor": actor, "key": "k-1",
                              "payload": payload}
    raw = RawEnvelope(**fields).to_bytes()
    # ``model_construct``: the bytes of these fields as the model writes them, whatever the payload holds
    assert raw == Envelope.model_construct(**fields).to_bytes()


def _intake() -> Intake:
    return Intake(Privacy(Settings()))


def _batch(intake: Intake, body: dict[str, Any], ctx: Context, occurred_at: str | None = None) -> Any:
    """What the batch door builds: the item parsed by the catalogue, the lean registration (the handler adds only
    the checks that need the ledger or the credential, tests/unit/test_handlers.py)."""
    item = BatchItem.model_validate({"type": "worker.registered", "payload": body, "occurred_at": occurred_at})
    command = catalogue.parse(item)
    assert isinstance(command, RegisterWorker)
    return intake.registration(command.body, replace(ctx, lean=True))


def _opened(intake: Intake, payload: dict[str, Any]) -> list[tuple[str, Any]]:
    """The payload's items in order, ciphertexts (random nonces) replaced by what they seal."""
    cipher = intake.privacy.cipher
    return [(k, cipher.decrypt(v, k.removesuffix("_enc")) if k.endswith("_enc") else v) for k, v in payload.items()]


def _bodies() -> list[dict[str, Any]]:
    out = [person(n) for n in range(0, 400, 7)]
    out[0] |= {"brand_ids": ["yesao", "hn-1", "yesao"], "priority_groups": ["veteran", "veteran", "disabled"],
               "occupation_code": "4-10-01-01"}
    out[1].pop("phone")
    out[2] |= {"name": "  王 小梅\t", "phone": "+86 138-0013-8000", "workstation_id": " ws-460105-01 "}
    out[3] |= {"id_number": out[3]["id_number"].replace("0", "０")}
    out[4] |= {"phone": "１３８００１３８０００"}
    out[5] |= {"id_number": out[5]["id_number"][:17] + out[5]["id_number"][17].lower(), "brand_ids": [], "priority_groups": []}
    return out


@pytest.mark.parametrize("actor", [None, WS, ADMIN])
def test_batch_registration_is_the_single_doors_event(actor: Actor | None) -> None:
    intake = _intake()
    for n, body in enumerate(_bodies()):
        at = None if n % 3 else "2026-03-01T08:00:00+08:00"
        ctx = Context(actor=actor, event_id=uuid.uuid4() if n % 2 else None)
        raw = _batch(intake, body, ctx, at)
        assert isinstance(raw, RawEnvelope)
        ref = intake.register_worker(WorkerCreate.model_validate(body | ({"occurred_at": at} if at else {})), ctx)
        back = Envelope.from_bytes(raw.to_bytes())  # the ledger's decoder, payload model included, accepts it
        assert isinstance(back.body, WorkerRegistered)
        assert (back.type, back.key, back.source, back.actor) == (ref.type, ref.key, ref.source, ref.actor)
        assert (raw.event_id == ctx.event_id) if ctx.event_id else raw.event_id != ref.event_id
        if at:
            assert back.occurred_at == ref.occurred_at
        assert raw.payload == back.payload
        assert _opened(intake, raw.payload) == _opened(intake, ref.payload)
        assert raw.payload.keys() == ref.payload.keys() and list(raw.payload) == list(ref.payload)
        same_moment = {"event_id": raw.event_id, "occurred_at": raw.occurred_at, "recorded_at": raw.recorded_at}
        assert raw.to_bytes() == ref.model_copy(update={"payload": raw.payload, **same_moment}).to_bytes()


BAD: list[dict[str, Any]] = [
    person(1) | {"id_number": person(1)["id_number"][:17] + ("0" if person(1)["id_number"][17] != "0" else "1")},
    person(2) | {"sex": "M" if person(2)["sex"] == "F" else "F", "birth_date": "1999-01-01"},
    person(3) | {"birth_date": "2020-01-01", "id_number": "460105202001010011"},
    person(4) | {"household_region": "469999"},
    person(5) | {"phone": "12345"},
    person(6) | {"occurred_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()},
    person(7) | {"name": ""},
    person(8) | {"household_region": "46010"},
    person(9) | {"brand_ids": ["bad id"]},
    person(10) | {"priority_groups": ["nobody"]},
    person(11) | {"unknown": 1},
]


@pytest.mark.parametrize("body", BAD)
def test_batch_registration_refuses_what_the_single_door_refuses(body: dict[str, Any]) -> None:
    intake = _intake()
    with pytest.raises(InvalidRequest) as batch:
        _batch(intake, body, Context(actor=WS))
    try:
        intake.register_worker(WorkerCreate.model_validate(body), Context(actor=WS))
    except ValidationError as exc:  # the batch door reports the body model's errors per field
        assert [e.field for e in batch.value.errors] == ["payload." + ".".join(map(str, e["loc"])) for e in exc.errors()]
    except InvalidRequest as exc:
        assert [str(e) for e in batch.value.errors] == [str(e) for e in exc.errors]
    else:
        pytest.fail("the single door accepted it")


@pytest.mark.parametrize("org", ["", "o" * 65])
def test_a_source_the_envelope_refuses_is_refused_as_before(org: str) -> None:
    intake = _intake()
    ctx = Context(actor=Actor(role="workstation", org=org, region="460105"))
    with pytest.raises(ValidationError, match="source"):
        intake.register_worker(WorkerCreate.model_validate(person(1)), ctx)
    with pytest.raises(ValidationError, match="source"):
        _batch(intake, person(1), ctx)
