"""The spreadsheet row parser and pipeline, without services: cells, headers, rows → reasons, files → totals.

Both sheet kinds: the registration sheet and the dispatch list (its 派遣信息 block, its rows, its one event)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.datetime import to_excel

from laowu.domain.lifecycle import placement_id_for
from laowu.imports import cells
from laowu.imports.dispatch import BLOCK, DispatchRows, default_dispatch_id, parse_block
from laowu.imports.pipeline import Outcome, SheetRefused, Totals, row_event_id, run_import
from laowu.imports.sheet import Header, HeaderNotFound, find_header, make_row
from laowu.imports.source import UnsupportedFile, csv_encoding, detect_format
from laowu.imports.workbook import DISPATCH_TABLE_ROW, ReportWriter, dispatch_template, workers_template
from laowu.imports.workers import EXAMPLE, WORKERS, Brand, WorkerRows
from laowu.intake import Intake
from laowu.privacy import Privacy
from laowu.settings import Settings
from schemas.common import Actor
from schemas.envelope import Envelope

from helpers import id_number, person

OPERATOR = Actor(role="admin", org="laowu-ops")  # an operator unbounded on purpose; no actor means nothing
HEADER = ["身份证号", "姓名", "性别", "出生日期", "手机号", "户籍地", "品牌", "优先群体"]
BRANDS = [Brand("wenchang-chicken-chef", "文昌鸡师傅", "listed"), Brand("old-brand", "旧品牌", "revoked")]


def zh_sex(p: dict[str, Any]) -> str:
    return "男" if p["sex"] == "M" else "女"


def line(n: int, **over: Any) -> list[Any]:
    p = person(n)
    row = {"身份证号": p["id_number"], "姓名": p["name"], "性别": zh_sex(p), "出生日期": p["birth_date"],
           "手机号": p["phone"], "户籍地": p["household_region"], "品牌": "", "优先群体": ""}
    row.update(over)
    return [row[h] for h in HEADER]


def wrong_check_digit(number: str) -> tuple[str, str]:
    wrong = "0" if number[17] != "0" else "1"
    return number[:17] + wrong, number[17]


class FakeBrands:
    def __init__(self, brands: list[Brand]) -> None:
        self.brands = brands
        self.calls = 0

    async def find(self, keys: set[str]) -> list[Brand]:
        self.calls += 1
        return [b for b in self.brands if b.brand_id in keys or b.name in keys]


class MemorySink:
    def __init__(self) -> None:
        self.header: Header | None = None
        self.published: list[Envelope] = []
        self.outcomes: list[Outcome] = []
        self.progress: list[Totals] = []

    async def begin(self, header: Header) -> None:
        self.header = header

    async def publish(self, envelopes: list[Envelope]) -> None:
        self.published.extend(envelopes)

    async def record(self, outcomes: list[Outcome], totals: Totals) -> None:
        self.outcomes.extend(outcomes)
        self.progress.append(Totals(**vars(totals)))

    def reasons(self) -> dict[int, str]:
        return {o.row.number: o.reason_zh for o in self.outcomes if o.errors}


def processor(brands: list[Brand] = BRANDS) -> WorkerRows:
    return WorkerRows(Intake(Privacy(Settings())), FakeBrands(brands), workstation_id="ws-460105-01", actor=OPERATOR,
                      event_id=lambda row, part: row_event_id("workers", "ws-460105-01", "ab" * 32, row, part))


async def run_rows(rows: list[list[Any]], header: list[str] = HEADER, tmp: Path | None = None,
                   chunk_rows: int = 500) -> MemorySink:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    path = (tmp or Path("/tmp")) / f"rows-{uuid.uuid4().hex}.xlsx"
    wb.save(path)
    sink = MemorySink()
    try:
        await run_import(path, path.name, processor(), sink, chunk_rows=chunk_rows)
    finally:
        path.unlink()
    return sink


# ---- cells -------------------------------------------------------------------------------------------
def test_id_number_cells() -> None:
    number = person(1)["id_number"]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert cells.id_number(f" {full_width}\u3000 ") == (number, None)
    assert cells.id_number(number + "  ") == (number, None)
    digits = next(q["id_number"] for q in map(person, range(2, 60)) if q["id_number"][-3:].isdigit()
                  and q["id_number"][-3:] != "000")
    text, warning = cells.id_number(int(digits))
    assert text == digits and warning and "文本" in warning
    for lost in (4.60105199003071e17, int("460105199003071000"), "4.60105E+17", "4.60105199003071E+17"):
        with pytest.raises(cells.CellError) as err:
            cells.id_number(lost)
        assert err.value.rule == "stored_as_number" and "丢失" in err.value.message_zh
    with pytest.raises(cells.CellError, match="required"):
        cells.id_number("   ")


@pytest.mark.parametrize("value", [
    dt.datetime(1990, 3, 7), dt.date(1990, 3, 7), to_excel(dt.datetime(1990, 3, 7)), 19900307, "19900307",
    "1990-03-07", "1990/3/7", "1990.3.7", "1990年3月7日", "１９９０－０３－０７", " 1990-03-07 00:00:00 ",
    str(to_excel(dt.datetime(1990, 3, 7))), float(to_excel(dt.datetime(1990, 3, 7))),
])
def test_dates(value: Any) -> None:
    assert cells.date(value) == dt.date(1990, 3, 7)


def test_bad_dates() -> None:
    with pytest.raises(cells.CellError) as err:
        cells.date("1990-02-30")
    assert err.value.message_zh == "出生日期不存在：1990-02-30"
    for bad in ("7/3/1990", "March 7", "1990", -5):
        with pytest.raises(cells.CellError) as err:
            cells.date(bad)
        assert err.value.message_zh.startswith("出生日期格式错误")
    with pytest.raises(cells.CellError, match="required"):
        cells.date(None)


def test_sex_region_phone_lists() -> None:
    assert [cells.sex(v) for v in ("男", " 女 ", "M", "f", "男性", 1, 2)] == ["M", "F", "M", "F", "M", "M", "F"]
    with pytest.raises(cells.CellError) as err:
        cells.sex("未知")
    assert err.value.message_zh == "性别应为男或女：未知"
    assert cells.region(460105) == "460105" == cells.region("460105 海南省海口市秀英区") == cells.region("４６０１０５")
    with pytest.raises(cells.CellError):
        cells.region("海口")
    assert cells.phone(13800138000) == "13800138000" == cells.phone(13800138000.0)
    assert cells.split_list("脱贫人口、残疾人；退役军人,\n农村留守妇女") == ["脱贫人口", "残疾人", "退役军人", "农村留守妇女"]


# ---- header ------------------------------------------------------------------------------------------
def test_header_below_title_with_decorated_names() -> None:
    rows = iter([
        ("XX镇劳务人员登记表", None, None, None, None, None),
        (None, None, None, None, None, None),
        (" * 身份证号 ", "姓 名", "性别（男/女）", "出生日期\n(1990-03-07)", "手机号码", "户籍地（区划代码）"),
        ("a", "b", "c", "d", "e", "f"),
    ])
    header, data = find_header(WORKERS, rows)
    assert header.row_number == 3
    assert set(header.keys.values()) == {"id_number", "name", "sex", "birth_date", "phone", "household_region"}
    assert list(data) == [(4, ("a", "b", "c", "d", "e", "f"))]


def test_two_row_header_with_merged_cells() -> None:
    # 身份证号 and 姓名 merged over rows 1-2, 基本信息 merged over C1:F1 with the real names below it.
    rows = iter([
        ("身份证号", "姓名", "基本信息", None, None, None, "备注", "品牌"),
        (None, None, "性别", "出生日期", "手机号", "户籍地"),  # shorter: trailing merged cells are not written
        ("x", "y", "z", "w", "v", "u", "t"),
    ])
    header, data = find_header(WORKERS, rows)
    assert header.row_number == 2 and header.keys == {0: "id_number", 1: "name", 2: "sex", 3: "birth_date",
                                                       4: "phone", 5: "household_region", 7: "brand_ids"}
    assert header.report_labels == ["身份证号", "姓名", "性别", "出生日期", "手机号", "户籍地", "备注", "品牌"]
    assert next(data)[0] == 3

    # Every required name in the first row, a group's sub-header ("证书" over 证书类型/证书名称) in the second.
    rows = iter([
        ("身份证号", "姓名", "性别", "出生日期", "户籍地", "证书", None),
        (None, None, None, None, None, "证书类型", "证书名称"),
        ("x", "y", "z", "w", "v", "u", "t"),
    ])
    header, data = find_header(WORKERS, rows)
    assert header.row_number == 2 and header.keys[5] == "certificate_kind" and header.keys[6] == "certificate_name"
    assert next(data) == (3, ("x", "y", "z", "w", "v", "u", "t"))


def test_header_not_found_names_what_is_missing() -> None:
    with pytest.raises(HeaderNotFound) as err:
        find_header(WORKERS, iter([("身份证号", "姓名", "性别"), ("1", "2", "3")]))
    assert "出生日期、户籍地" in err.value.message_zh


def test_blank_rows_are_skipped() -> None:
    header, _ = find_header(WORKERS, iter([tuple(HEADER)]))
    assert make_row(header, 5, (None, "  ", "\u3000", None), dt.datetime(1899, 12, 30)) is None
    row = make_row(header, 6, ("1", None), dt.datetime(1899, 12, 30))
    assert row is not None and row.values == ["1", "", "", "", "", "", "", ""]


# ---- rows → outcomes ------------------------------------------------------------------------------------
async def test_valid_rows_become_registrations_with_deterministic_event_ids(tmp_path: Path) -> None:
    p = person(7)
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in p["id_number"])
    rows = [
        line(7, 身份证号=full_width + "  ", 姓名=p["name"] + " ", 出生日期=dt.datetime.fromisoformat(p["birth_date"]),
             品牌="文昌鸡师傅（wenchang-chicken-chef）", 优先群体="脱贫人口、残疾人"),
        line(8, 出生日期=person(8)["birth_date"].replace("-", ""), 品牌="wenchang-chicken-chef",
             户籍地=int(person(8)["household_region"])),
        line(9, 出生日期=to_excel(dt.datetime.fromisoformat(person(9)["birth_date"])), 品牌="文昌鸡师傅"),
    ]
    sink = await run_rows(rows, tmp=tmp_path)
    assert sink.reasons() == {}
    assert [e.type for e in sink.published] == ["worker.registered"] * 3
    first = sink.published[0].payload
    assert first["name"] == p["name"] and first["brand_ids"] == ["wenchang-chicken-chef"]
    assert first["priority_groups"] == ["poverty_alleviated", "disabled"]
    assert first["workstation_id"] == "ws-460105-01"
    assert sink.published[0].event_id == row_event_id("workers", "ws-460105-01", "ab" * 32, 2)
    again = await run_rows(rows, tmp=tmp_path)
    assert [e.event_id for e in again.published] == [e.event_id for e in sink.published]
    assert sink.progress[-1] == Totals(rows=3, accepted=3, rejected=0, warnings=0)


async def test_every_invalid_row_gets_its_chinese_reason(tmp_path: Path) -> None:
    bad_digit, expected = wrong_check_digit(person(20)["id_number"])
    minor_birth = dt.date.today().replace(year=dt.date.today().year - 15)
    minor = id_number("460105", minor_birth, 2)
    p22 = person(22)
    rows = [
        line(20, 身份证号=bad_digit),
        line(21, 性别="女" if person(21)["sex"] == "M" else "男"),
        line(22, 户籍地="460199"),
        [minor, "少年", "女", minor_birth.isoformat(), "", "460105", "", ""],
        line(24, 手机号="1380013800"),
        line(25, 品牌="no-such-brand"),
        line(26, 品牌="old-brand"),
        line(27, 优先群体="贫困户"),
        line(28, 出生日期="1990-02-30"),
        line(29, 身份证号=4.60105199003071e17),
        line(30, 姓名="", 性别="未知"),
        line(31, 出生日期="2001-01-01"),
        [p22["id_number"], p22["name"], zh_sex(p22), p22["birth_date"], "12", "999999", "", ""],
    ]
    sink = await run_rows(rows, tmp=tmp_path)
    reasons = sink.reasons()
    assert reasons[2] == f"身份证号校验位错误，应为{expected}"
    assert reasons[3].startswith("性别与身份证号不符")
    assert reasons[4] == "户籍地代码不存在：460199"
    assert reasons[5].startswith("未满16周岁")
    assert reasons[6].startswith("手机号格式错误")
    assert reasons[7] == "品牌不存在：no-such-brand"
    assert reasons[8] == "品牌已撤销，不再接收新成员：old-brand"
    assert reasons[9].startswith("优先群体不存在：贫困户")
    assert reasons[10] == "出生日期不存在：1990-02-30"
    assert "身份证号被Excel存成了数字" in reasons[11]
    assert reasons[12] == "姓名不能为空；性别应为男或女：未知"
    assert reasons[13].startswith("出生日期与身份证号不符")
    assert reasons[14].startswith("手机号格式错误") and "户籍地代码不存在：999999" in reasons[14]
    assert sink.published == [] and sink.progress[-1] == Totals(rows=13, accepted=0, rejected=13)
    english = {o.row.number: o.reason for o in sink.outcomes}
    assert english[2].startswith("id_number: check digit should be")


async def test_warnings_example_row_and_chunks(tmp_path: Path) -> None:
    example = [EXAMPLE["id_number"], EXAMPLE["name"], EXAMPLE["sex"], EXAMPLE["birth_date"], "", "460105", "", ""]
    rows = [example, line(40), line(40, 手机号=""), [None] * 8, *[line(n) for n in range(100, 110)]]
    sink = await run_rows(rows, tmp=tmp_path, chunk_rows=4)
    assert sink.reasons() == {}
    warnings = {o.row.number: o.warning_zh for o in sink.outcomes if o.warnings}
    assert warnings == {4: "与第3行是同一人（身份证号相同），将合并登记"}
    assert [t.rows for t in sink.progress] == [4, 8, 12]
    assert sink.progress[-1] == Totals(rows=12, accepted=12, rejected=0, warnings=1)
    assert 2 not in {o.row.number for o in sink.outcomes}  # the template's example row is never imported
    assert 5 not in {o.row.number for o in sink.outcomes}  # nor the blank one


async def test_certificates_ride_along(tmp_path: Path) -> None:
    header = [*HEADER, "证书类型", "证书名称"]
    sink = await run_rows([[*line(50), "职业技能等级证书", "中式烹调师"], [*line(51), "驾照", "C1"],
                           [*line(52), "", "电工"]], header=header, tmp=tmp_path)
    assert [e.type for e in sink.published] == ["worker.registered", "worker.certificate_added"]
    assert sink.published[1].payload["certificate"] == {"kind": "skill_level", "name": "中式烹调师"}
    assert sink.published[1].key == sink.published[0].key
    assert sink.reasons()[3].startswith("证书类型不存在：驾照") and sink.reasons()[4] == "填写了证书名称但未选择证书类型"


# ---- files -------------------------------------------------------------------------------------------
def _csv_bytes(rows: list[list[Any]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "utf-16"])
async def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "w.csv"
    path.write_bytes(_csv_bytes([line(60, 姓名="张三丰"), line(61), [""] * 8, line(62, 户籍地="460199")], encoding))
    assert csv_encoding(path) == {"utf-8": "utf-8-sig", "gbk": "gb18030"}.get(encoding, encoding)
    sink = MemorySink()
    totals = await run_import(path, "w.csv", processor(), sink)
    assert totals == Totals(rows=3, accepted=2, rejected=1)
    assert sink.published[0].payload["name"] == "张三丰"
    assert sink.reasons() == {5: "户籍地代码不存在：460199"}


def test_unsupported_files() -> None:
    with pytest.raises(UnsupportedFile, match="xls"):
        detect_format(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a.xls")
    with pytest.raises(UnsupportedFile):
        detect_format(b"hello", "a.xlsx")
    with pytest.raises(UnsupportedFile):
        detect_format(b"\x00\x01\x02", "a.bin")
    assert detect_format(b"PK\x03\x04", "upload.bin") == "xlsx"
    assert detect_format("身份证号".encode("gbk"), "a.csv") == "csv"


async def test_template_round_trip(tmp_path: Path) -> None:
    brands = [{"brand_id": "wenchang-chicken-chef", "name": "文昌鸡师傅", "region_code": "469005", "status": "listed"}]
    path = tmp_path / "template.xlsx"
    path.write_bytes(workers_template(brands))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["登记表", "说明"] and wb["选项"].sheet_state == "hidden"
    ws = wb["登记表"]
    headers = [c.value for c in ws[2]]
    assert headers[:8] == ["身份证号", "姓名", "性别（男/女）", "出生日期", "手机号", "户籍地（区划代码）", "品牌", "优先群体"]
    assert ws["A3"].value == EXAMPLE["id_number"] and ws["A3"].number_format == "@"
    assert ws.column_dimensions["A"].number_format == "@"
    lists = {str(dv.sqref).split(":")[0][0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert set(lists) == {"C", "G", "H", "I"}
    options = wb["选项"]
    assert [c.value for c in options["B"]][1:7] == [
        "脱贫人口", "农村低收入人口", "易地扶贫搬迁群众", "农村留守妇女", "残疾人", "退役军人"]
    assert options["C2"].value == "文昌鸡师傅（wenchang-chicken-chef）"
    notes = [r[0] for r in wb["说明"].iter_rows(values_only=True)]
    assert "身份证号" in notes and "可选品牌" in notes

    # A clerk fills two rows below the example; the example row itself is never imported.
    ws.append(line(70))
    ws.append(line(71, 品牌="文昌鸡师傅（wenchang-chicken-chef）"))
    wb.save(path)
    sink = MemorySink()
    totals = await run_import(path, path.name, processor(), sink)
    assert totals == Totals(rows=2, accepted=2, rejected=0) and sink.header and sink.header.row_number == 2


async def test_error_report_can_be_uploaded_again(tmp_path: Path) -> None:
    report = ReportWriter(HEADER)
    fixed = line(80)
    report.add("错误行", "错误原因", 7, [str(v) for v in fixed], "身份证号校验位错误，应为1")
    path = tmp_path / "errors.xlsx"
    report.save(path)
    rows = list(openpyxl.load_workbook(path, read_only=True)["错误行"].iter_rows(values_only=True))
    assert rows[0] == ("行号", *HEADER, "错误原因") and rows[1][0] == 7
    sink = MemorySink()
    assert await run_import(path, path.name, processor(), sink) == Totals(rows=1, accepted=1)


# ---- the dispatch list ------------------------------------------------------------------------------------
EMPLOYER_USCC = "91440300708461136T"
BLOCK_ROWS: list[tuple[Any, ...]] = [
    ("有组织劳务输出派遣名单", None, None),
    ("组织单位", "ws-460105-01"),
    ("品牌", "文昌鸡师傅（wenchang-chicken-chef）"),
    ("输出方式", "区域间定向输出"),
    ("输出地", "460105 秀英区", "输入地", "440300"),  # two pairs in one row
    ("* 用人单位编号", "emp-sz-build"),
    ("用人单位名称", "深圳某建筑有限公司 "),
    ("统一社会信用代码", EMPLOYER_USCC),
    ("出发日期：2026-03-01",),  # label and value in one cell
    ("集中出行（是/否）", "是"),
    ("岗位", "钢筋工、木工；钢筋工"),
    (None,),
]


def numbered(rows: list[tuple[Any, ...]]) -> list[tuple[int, tuple[Any, ...]]]:
    return list(enumerate(rows, start=1))


def test_dispatch_block_is_read_in_every_layout() -> None:
    d = parse_block(numbered(BLOCK_ROWS))
    assert d.issues == []
    assert d.fields == {
        "organizer_id": "ws-460105-01", "mode": "directed_interregional", "origin_region": "460105",
        "destination_region": "440300", "employer_id": "emp-sz-build", "employer_name": "深圳某建筑有限公司",
        "employer_uscc": EMPLOYER_USCC, "departure_date": dt.date(2026, 3, 1), "group_transport": True,
        "positions": ["钢筋工", "木工"]}
    assert d.brand_token == "文昌鸡师傅(wenchang-chicken-chef)"  # full-width brackets read as ASCII
    assert d.rows["destination_region"] == 5 and d.rows["departure_date"] == 9

    # Dates as date cells, Excel serials and compact text; 否 / blank transport; mode by its API code; full-width.
    for when in (dt.datetime(2026, 3, 1), to_excel(dt.datetime(2026, 3, 1)), "20260301", "２０２６年３月１日"):
        rows = [r for r in BLOCK_ROWS if not str(r[0]).startswith("出发日期")] + [("出发日期", when)]
        assert parse_block(numbered(rows)).fields["departure_date"] == dt.date(2026, 3, 1)
    rows = [("输出方式", "cooperation"), ("集中出行", "否"), ("输出地", 460105)]
    d = parse_block(numbered(rows))
    assert (d.fields["mode"], d.fields["group_transport"], d.fields["origin_region"]) == ("cooperation", False, "460105")
    assert parse_block(numbered([("集中出行", None)])).fields["group_transport"] is False


def test_dispatch_block_reasons() -> None:
    bad_uscc = EMPLOYER_USCC[:17] + ("0" if EMPLOYER_USCC[17] != "0" else "1")
    rows = [
        ("组织单位", "工作站一"),
        ("品牌", "文昌鸡师傅"),
        ("输出方式", "自己去"),
        ("输出地", "460199"),
        ("输入地", "深圳"),
        ("用人单位编号", "emp-1"),
        ("统一社会信用代码", bad_uscc),
        ("出发日期", "3/1/2026"),
        ("集中出行", "也许"),
    ]
    d = parse_block(numbered(rows))
    texts = [i.text for i in d.ordered()]
    assert texts == [
        "第1行 组织单位只能由字母、数字和 . _ : - 组成（最多64个字符）：工作站一",
        "第3行 输出方式无效：自己去（可填：区域间定向输出、企业直接吸纳、劳务协作）",
        "第4行 输出地代码不存在：460199",
        "第5行 输入地应为6位行政区划代码：深圳",
        "派遣信息缺少“用人单位名称”",
        f"第7行 统一社会信用代码校验位错误，应为{EMPLOYER_USCC[17]}",
        "第8行 出发日期格式错误：3/1/2026（应为1990-03-07这样的日期）",
        "第9行 集中出行应填“是”或“否”：也许",
    ]
    d = parse_block(numbered([("品牌", None), ("出发日期", "2026-02-30"), ("品牌", "a"), ("输出方式", "劳务协作"),
                              ("输出方式", "企业直接吸纳")]))
    texts = [i.text for i in d.ordered()]
    assert "第1行 品牌不能为空" not in texts  # the second 品牌 row fills it
    assert "第5行 “输出方式”填写了两次（第4行和第5行），请只保留一处" in texts
    assert "第2行 出发日期不存在：2026-02-30" in texts
    assert "派遣信息缺少“输出地”" in texts


class FakeWorkers:
    def __init__(self, states: Mapping[str, tuple[str, str | None]], taken: frozenset[str] = frozenset()) -> None:
        self.known = states
        self.taken = taken
        self.calls = 0

    async def states(self, worker_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        self.calls += 1
        return {w: self.known[w] for w in worker_ids if w in self.known}

    async def dispatch_taken(self, dispatch_id: str, event_id: uuid.UUID) -> bool:
        return dispatch_id in self.taken


def _dispatch_processor(workers: FakeWorkers, actor: Actor = OPERATOR) -> DispatchRows:
    return DispatchRows(Intake(Privacy(Settings())), FakeBrands(BRANDS), workers, workstation_id="ws-460105-01",
                        event_id=uuid.UUID(int=7), actor=actor)


def _dispatch_file(tmp: Path, block: list[tuple[Any, ...]], people: list[tuple[Any, ...]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in block:
        ws.append(list(r))
    ws.append(["身份证号", "姓名"])
    for r in people:
        ws.append(list(r))
    path = tmp / f"dispatch-{uuid.uuid4().hex[:6]}.xlsx"
    wb.save(path)
    return path


async def test_dispatch_list_rows_and_one_event(tmp_path: Path) -> None:
    privacy = Privacy(Settings())
    people = [person(300 + i) for i in range(6)]
    ids = [privacy.worker_id(p["id_number"]) for p in people]
    states: dict[str, tuple[str, str | None]] = {w: ("registered", None) for w in ids}
    states[ids[3]] = ("placed", "pl-elsewhere")
    del states[ids[4]]  # never registered (or not visible to the sender)
    bad, expected = wrong_check_digit(person(399)["id_number"])
    rows = [
        (people[0]["id_number"], "甲"),
        (" " + "".join(chr(ord(c) + 0xFEE0) for c in people[1]["id_number"]), "乙"),  # full-width, padded
        (EXAMPLE["id_number"], EXAMPLE["name"]),  # the template's example row: skipped
        (bad, "丙"),
        (people[3]["id_number"], "丁"),
        (people[4]["id_number"], "戊"),
        (people[0]["id_number"], "甲"),
        (None, "只有姓名"),
        (people[5]["id_number"], None),
    ]
    path = _dispatch_file(tmp_path, BLOCK_ROWS, rows)
    proc = _dispatch_processor(FakeWorkers(states))
    sink = MemorySink()
    totals = await run_import(path, path.name, proc, sink, chunk_rows=3)
    first = len(BLOCK_ROWS) + 2
    assert sink.header is not None and sink.header.row_number == first - 1
    assert sink.reasons() == {
        first + 3: f"身份证号校验位错误，应为{expected}",
        first + 4: "该人员已在岗或已派出，不能重复派遣（当前状态：在岗）",
        first + 5: "台账中无此人（须先在实名台账中登记）",
        first + 6: f"同一人员在本表中重复（与第{first}行相同）",
        first + 7: "身份证号不能为空",
    }
    assert totals == Totals(rows=8, accepted=3, rejected=5)
    [env] = sink.published
    assert env.type == "dispatch.created" and env.event_id == uuid.UUID(int=7)
    p = env.payload
    assert p["dispatch_id"] == default_dispatch_id(uuid.UUID(int=7)) == env.key
    assert [x["worker_id"] for x in p["placements"]] == [ids[0], ids[1], ids[5]]
    assert (p["organizer_id"], p["brand_id"], p["mode"], p["origin_region"], p["destination_region"]) == (
        "ws-460105-01", "wenchang-chicken-chef", "directed_interregional", "460105", "440300")
    assert p["employer"] == {"employer_id": "emp-sz-build", "name": "深圳某建筑有限公司", "uscc": EMPLOYER_USCC}
    assert (p["departure_date"], p["group_transport"], p["positions"]) == ("2026-03-01", True, ["钢筋工", "木工"])

    # The same file again, after the first run's dispatch was applied: its own workers are not "already dispatched".
    for w in (ids[0], ids[1], ids[5]):
        states[w] = ("dispatched", placement_id_for(p["dispatch_id"], w))
    again = MemorySink()
    assert await run_import(path, path.name, _dispatch_processor(FakeWorkers(states)), again) == totals
    assert [e.event_id for e in again.published] == [env.event_id]
    assert again.published[0].payload["placements"] == p["placements"]


async def test_dispatch_list_nobody_acceptable_publishes_nothing(tmp_path: Path) -> None:
    path = _dispatch_file(tmp_path, BLOCK_ROWS, [(person(320)["id_number"], "甲")])
    sink = MemorySink()
    assert await run_import(path, path.name, _dispatch_processor(FakeWorkers({})), sink) == Totals(1, 0, 1)
    assert sink.published == [] and sink.reasons() == {len(BLOCK_ROWS) + 2: "台账中无此人（须先在实名台账中登记）"}


async def test_dispatch_block_refused_as_a_whole(tmp_path: Path) -> None:
    p = person(330)
    known = {Privacy(Settings()).worker_id(p["id_number"]): ("registered", None)}
    block = [r for r in BLOCK_ROWS if r[0] not in ("品牌", "组织单位")] + [("品牌", "旧品牌"), ("组织单位", "ws-469005-01"),
                                                                     ("派遣编号", "dsp-taken")]
    path = _dispatch_file(tmp_path, block, [(p["id_number"], "甲")])
    sink = MemorySink()
    actor = Actor(role="workstation", org="ws-460105-01", region="460100")
    with pytest.raises(SheetRefused) as err:
        await run_import(path, path.name, _dispatch_processor(FakeWorkers(known, frozenset({"dsp-taken"})), actor), sink)
    message = err.value.message_zh
    assert message.startswith("派遣信息有误，未派遣任何人：")
    assert "组织单位须为本工作站：ws-460105-01（表中填写为ws-469005-01）" in message
    assert "品牌已撤销，不能用于派遣：旧品牌" in message and "派遣编号已存在：dsp-taken" in message
    assert sink.published == [] and sink.outcomes == []

    # Outside the sender's jurisdiction; an unknown brand.
    block = [r for r in BLOCK_ROWS if r[0] != "品牌" and r[0] != "组织单位"] + [("品牌", "没有这个品牌")]
    path = _dispatch_file(tmp_path, block, [(p["id_number"], "甲")])
    actor = Actor(role="workstation", org="ws-460105-01", region="469005")
    with pytest.raises(SheetRefused) as err:
        await run_import(path, path.name, _dispatch_processor(FakeWorkers(known), actor), MemorySink())
    assert "输出地不在本工作站辖区内：460105（辖区469005）" in err.value.message_zh
    assert "品牌不存在：没有这个品牌" in err.value.message_zh

    # A table but no block at all.
    path = _dispatch_file(tmp_path, [], [(p["id_number"], "甲")])
    with pytest.raises(SheetRefused) as err:
        await run_import(path, path.name, _dispatch_processor(FakeWorkers(known)), MemorySink())
    assert "派遣信息缺少“品牌”" in err.value.message_zh and "派遣信息缺少“出发日期”" in err.value.message_zh


async def test_dispatch_template_round_trip(tmp_path: Path) -> None:
    brands = [{"brand_id": "wenchang-chicken-chef", "name": "文昌鸡师傅", "region_code": "469005", "status": "listed"}]
    path = tmp_path / "dispatch-template.xlsx"
    path.write_bytes(dispatch_template(brands, organizer_id="ws-460105-01", origin_region="460105"))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == ["派遣名单", "说明"] and wb["选项"].sheet_state == "hidden"
    ws = wb["派遣名单"]
    labels = {ws.cell(row=r, column=1).value: r for r in range(2, len(BLOCK) + 2)}
    assert list(labels) == [f.label for f in BLOCK]
    assert ws.cell(row=labels["组织单位"], column=2).value == "ws-460105-01"
    assert ws.cell(row=labels["输出地"], column=2).value == "460105"
    assert [c.value for c in ws[DISPATCH_TABLE_ROW]][:2] == ["身份证号", "姓名"]
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert lists == {f"B{labels['品牌']}": "'选项'!$A$2:$A$2", f"B{labels['输出方式']}": "'选项'!$B$2:$B$4",
                     f"B{labels['集中出行']}": "'选项'!$C$2:$C$3"}
    assert [c.value for c in wb["选项"]["B"]][1:] == ["区域间定向输出", "企业直接吸纳", "劳务协作"]
    notes = [r[0] for r in wb["说明"].iter_rows(values_only=True)]
    assert "输出方式" in notes and "可选品牌" in notes

    # A clerk fills the block and two people below the example row.
    for label, value in (("品牌", "文昌鸡师傅（wenchang-chicken-chef）"), ("输出方式", "企业直接吸纳"),
                         ("输入地", "440300"), ("用人单位编号", "emp-1"), ("用人单位名称", "某公司"),
                         ("出发日期", dt.datetime(2026, 3, 1)), ("集中出行", "否")):
        ws.cell(row=labels[label], column=2, value=value)
    privacy = Privacy(Settings())
    people = [person(340), person(341)]
    for p in people:
        ws.append([p["id_number"], p["name"]])
    wb.save(path)
    known: dict[str, tuple[str, str | None]] = {privacy.worker_id(p["id_number"]): ("returned", None) for p in people}
    sink = MemorySink()
    assert await run_import(path, path.name, _dispatch_processor(FakeWorkers(known)), sink) == Totals(2, 2, 0)
    [env] = sink.published
    assert env.payload["mode"] == "direct_intake" and env.payload["group_transport"] is False
    assert env.payload["employer"] == {"employer_id": "emp-1", "name": "某公司"}
