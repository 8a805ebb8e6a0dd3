"""Clean text (issue 16): every text field a client or producer fills refuses what PostgreSQL cannot store or a clerk
cannot see — one definition in ``schemas.common``, so a new field that forgets it fails here."""

from __future__ import annotations

import csv
import importlib
import inspect
import io
import pkgutil
import typing
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from laowu.application import catalogue
from laowu.imports.dispatch import parse_block
from laowu.imports.pipeline import Outcome, Totals, row_event_id, run_import
from laowu.imports.sheet import Header
from laowu.imports.workers import Brand, WorkerRows
from laowu.intake import Intake, InvalidRequest
from laowu.privacy import Privacy
from laowu.settings import Settings
from schemas import api, common, envelope, events
from schemas.common import Actor, unclean_character

from helpers import person

UNCLEAN = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\ufdd0", "\uffff", "\U0010fffe"]
CLEAN = ["王小梅", "Zhang San", "文昌鸡师傅 ·（海南）", "emoji 🙂 ok"]


def _router_modules() -> list[Any]:
    """Routers that declare body models of their own (token exchange, credentials)."""
    import api.routers

    return [importlib.import_module(f"api.routers.{m.name}") for m in pkgutil.iter_modules(api.routers.__path__)]


def _input_models() -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for module in (api, common, events, envelope, *_router_modules()):
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
            ("Envelope", "source"), ("Certificate", "issuer"), ("BrandCreate", "industry"),
            ("TokenRequest", "api_key")} <= names
    assert len(FIELDS) > 60


@pytest.mark.parametrize(("model", "field", "info"), FIELDS, ids=[f"{m.__name__}.{n}" for m, n, _ in FIELDS])
@pytest.mark.parametrize("bad", UNCLEAN, ids=[f"U+{ord(c):04X}" for c in UNCLEAN])
def test_every_text_field_refuses_unclean_characters(model: type[BaseModel], field: str, info: Any, bad: str) -> None:
    annotation = typing.Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    value = f"abcd{bad}efgh"  # long enough for every min_length: refused for its character, not its length
    if typing.get_origin(info.annotation) is list or any(typing.get_origin(a) is list
                                                        for a in typing.get_args(info.annotation)):
        value = [value]  # type: ignore[assignment]
    with pytest.raises(ValidationError) as err:
        adapter.validate_python(value)
    # Fields with a pattern (ids, codes) never took free text; every other one names the clean-text rule.
    assert {e["type"] for e in err.value.errors()} <= {"string_unclean", "string_pattern_mismatch", "string_unicode",
                                                       "uuid_parsing", "literal_error"}, err.value.errors()


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


# ---- the import door: one refused row per unclean cell, in Chinese, before anything reads the cell -------------
class _Brands:
    """Brands by id or name; remembers what it was asked (a NUL in a look-up failed the whole import in PostgreSQL)."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    async def find(self, keys: set[str]) -> list[Brand]:
        self.asked |= keys
        return [b for b in (Brand("wenchang-chicken-chef", "文昌鸡师傅", "listed"),) if {b.brand_id, b.name} & keys]


_HEADER = ["身份证号", "姓名", "性别", "出生日期", "手机号", "户籍地", "品牌"]


def _row(n: int, **over: str) -> list[str]:
    p = person(n)
    row = {"身份证号": p["id_number"], "姓名": p["name"], "性别": "男" if p["sex"] == "M" else "女",
           "出生日期": p["birth_date"], "手机号": p["phone"], "户籍地": p["household_region"], "品牌": "文昌鸡师傅"}
    return [{**row, **over}[h] for h in _HEADER]


async def _import(tmp_path: Path, rows: list[list[str]], suffix: str) -> tuple[dict[int, str], int, _Brands]:
    path = tmp_path / f"w{suffix}"
    if suffix == ".csv":
        out = io.StringIO()
        csv.writer(out).writerows([_HEADER, *rows])
        path.write_bytes(out.getvalue().encode("utf-8"))
    else:
        wb = openpyxl.Workbook()
        for r in [_HEADER, *rows]:
            wb.active.append(r)
        wb.save(path)
    brands = _Brands()
    rows_proc = WorkerRows(Intake(Privacy(Settings())), brands, workstation_id="ws-460105-01",
                           actor=Actor(role="admin", org="laowu-ops"),
                           event_id=lambda row, part: row_event_id("workers", "ws-460105-01", "cd" * 32, row, part))
    reasons: dict[int, str] = {}
    published: list[Any] = []

    class Sink:
        async def begin(self, header: Header) -> None: ...

        async def publish(self, envelopes: list[Any]) -> None:
            published.extend(envelopes)

        async def record(self, outcomes: list[Outcome], totals: Totals) -> None:
            reasons.update({o.row.number: o.reason_zh for o in outcomes if o.errors})

    await run_import(path, path.name, rows_proc, Sink())
    return reasons, len(published), brands


async def test_an_unclean_csv_cell_is_a_refused_row_with_a_chinese_reason(tmp_path: Path) -> None:
    reasons, published, brands = await _import(tmp_path, [
        _row(940), _row(941, 姓名="王\x00梅"), _row(942, 品牌="文昌鸡\x00师傅"), _row(943, 姓名="王\n梅"), _row(944),
    ], ".csv")
    assert reasons == {3: "姓名含有不可见或无法保存的字符（U+0000），请删除后重新导入",
                       4: "品牌含有不可见或无法保存的字符（U+0000），请删除后重新导入",
                       5: "姓名含有不可见或无法保存的字符（U+000A），请删除后重新导入"}
    assert published == 2
    assert not any(unclean_character(k) for k in brands.asked), brands.asked


async def test_an_unclean_workbook_cell_is_a_refused_row_too(tmp_path: Path) -> None:
    # openpyxl cannot write C0 controls into a workbook, but C1 controls and non-characters pass.
    reasons, published, _ = await _import(tmp_path, [_row(945, 姓名="王\x85梅"), _row(946, 手机号="1380013\ufdd08000")],
                                          ".xlsx")
    assert reasons == {2: "姓名含有不可见或无法保存的字符（U+0085），请删除后重新导入",
                       3: "手机号含有不可见或无法保存的字符（U+FDD0），请删除后重新导入"}
    assert published == 0


def test_an_unclean_dispatch_block_value_is_named_and_never_looked_up() -> None:
    block = [(1, ("组织单位", "ws-460105-01")), (2, ("品牌", "文昌鸡\x00师傅")), (3, ("输出方式", "区域间定向输出")),
             (4, ("输出地", "460105", "输入地", "440300")), (5, ("用人单位编号", "emp-1")),
             (6, ("用人单位名称", "深圳\x1b公司")), (7, ("出发日期", "2026-03-01"))]
    d = parse_block(block)
    texts = [i.text for i in d.ordered()]
    assert "第2行 品牌含有不可见或无法保存的字符（U+0000），请删除后重新导入" in texts
    assert "第6行 用人单位名称含有不可见或无法保存的字符（U+001B），请删除后重新导入" in texts
    assert d.brand_token is None and "employer_name" not in d.fields


# ---- the batch door's fast path (RawEnvelope, no payload model) gives the single door's verdict ------------------
@pytest.mark.parametrize(("field", "value"), [("name", "王\x00梅"), ("name", "王\n梅"), ("id_number", "4601\x00"),
                                              ("phone", "138\u00850013800"), ("workstation_id", "ws\x00"),
                                              ("brand_ids", ["b\x00"])])
def test_the_batch_doors_registration_refuses_unclean_text(field: str, value: Any) -> None:
    item = api.BatchItem.model_validate({"type": "worker.registered", "payload": {**person(7), field: value}})
    with pytest.raises(InvalidRequest) as err:
        catalogue.parse(item)
    assert [e.field.split(".")[:2] for e in err.value.errors] == [["payload", field]]
    with pytest.raises(ValidationError) as single:
        api.WorkerCreate.model_validate({**person(7), field: value})
    assert single.value.errors()[0]["loc"][0] == field
