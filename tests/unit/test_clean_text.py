"""Clean text (issue 16): every text field a client or producer fills refuses what PostgreSQL cannot store or a clerk
cannot see — one definition in ``schemas.common``, so a new field that forgets it fails here."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from schemas import api, common, envelope, events
from schemas.common import unclean_character

UNCLEAN = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\ufdd0", "\uffff", "\U0010fffe"]
CLEAN = ["王小梅", "Zhang San", "文昌鸡师傅 ·（海南）", "emoji 🙂 ok"]


def _input_models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module in (api, common, events, envelope):
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                # What a client or a producer fills: request bodies, event payloads, the envelope.
                if issubclass(obj, common.Strict) or obj in (envelope.Envelope, api.BatchItem):
                    found[name] = obj
    return list(found.values())


def _takes_str(annotation: Any) -> bool:
    if annotation is str:
        return True
    return any(_takes_str(a) for a in typing.get_args(annotation))


FIELDS = [(model, name, info) for model in _input_models() for name, info in model.model_fields.items()
          if _takes_str(info.annotation) and name != "payload"]


def test_the_walk_sees_the_fields_that_matter() -> None:
    names = {(m.__name__, n) for m, n, _ in FIELDS}
    assert {("WorkerCreate", "name"), ("BrandStatusChange", "reason"), ("WorkerRegistered", "id_number_masked"),
            ("Envelope", "source"), ("Certificate", "issuer"), ("BrandCreate", "industry")} <= names
    assert len(FIELDS) > 60


@pytest.mark.parametrize(("model", "field", "info"), FIELDS, ids=[f"{m.__name__}.{n}" for m, n, _ in FIELDS])
@pytest.mark.parametrize("bad", UNCLEAN, ids=[f"U+{ord(c):04X}" for c in UNCLEAN])
def test_every_text_field_refuses_unclean_characters(model: type[BaseModel], field: str, info: Any, bad: str) -> None:
    annotation = typing.Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    value = f"a{bad}b"
    if typing.get_origin(info.annotation) is list or any(typing.get_origin(a) is list
                                                        for a in typing.get_args(info.annotation)):
        value = [value]  # type: ignore[assignment]
    with pytest.raises(ValidationError):
        adapter.validate_python(value)


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_passes(text: str) -> None:
    assert unclean_character(text) is None
    assert TypeAdapter(common.Name).validate_python(text) == text


def test_line_breaks_only_in_multi_line_text() -> None:
    assert TypeAdapter(common.Text).validate_python("第一行\n第二行\t完") == "第一行\n第二行\t完"
    for one_line in (common.Name, common.Line64):
        with pytest.raises(ValidationError) as err:
            TypeAdapter(one_line).validate_python("张\n三")
        assert err.value.errors()[0]["type"] == "string_unclean"
    assert unclean_character("a\x00b") == "U+0000" and unclean_character("a\x00", multiline=True) == "U+0000"
