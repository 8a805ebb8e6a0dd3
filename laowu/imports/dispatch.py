"""The dispatch list (派遣名单): one sheet, one dispatch, its workers by ID number.

Layout: above the table, a block of label/value rows (派遣信息) with the dispatch's fields — 组织单位, 品牌,
输出方式, 输出地, 输入地, 用人单位编号, 用人单位名称, 统一社会信用代码, 出发日期, 集中出行, 岗位, 派遣编号 —
then a table with a 身份证号 column (姓名 optional, kept only for the error report). A label's value is the
next non-empty cell to its right (two pairs may share a row), or follows a colon in the same cell
(``出发日期：2026-03-01``).

The block is validated as a whole before any row: if it is wrong the import fails with every reason and
nothing is published. Each row's ID number is checked and mapped to its ``worker_id`` with the keyed hash;
a row is refused when the ID number is invalid, the person is not in the ledger (or not visible to the
sender: the same answer, so nothing leaks), already on an active placement, or listed twice. The accepted
workers go out as ONE ``dispatch.created`` after the last row. Its event id and the default dispatch id
derive from the file's SHA-256, so the same file uploaded again dispatches nobody twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900
from pydantic import ValidationError

from laowu.application import commands as cmd
from laowu.application.catalogue import decide, name
from laowu.application.facts import Facts
from laowu.application.scoping import scope_problem
from laowu.domain import regions
from laowu.domain.errors import DomainError
from laowu.domain.identity import parse_id_number, validate_uscc
from laowu.domain.lifecycle import eligibility, placement_id_for
from laowu.imports import cells
from laowu.imports.pipeline import Issue, Outcome, SheetRefused
from laowu.imports.sheet import Column, Header, Row, SheetKind, header_key
from laowu.imports.workers import CLOSED_BRANDS, EXAMPLE, BrandDirectory, BrandMatch, brand_key, match_brands
from laowu.intake import Context, Intake, InvalidRequest
from schemas.api import DispatchCreate
from schemas.common import Actor
from schemas.envelope import Envelope

MODES: dict[str, str] = {
    "directed_interregional": "区域间定向输出",
    "direct_intake": "企业直接吸纳",
    "cooperation": "劳务协作",
}
_MODE_ALIASES = {"定向输出": "directed_interregional", "区域间定向": "directed_interregional",
                 "跨区域定向输出": "directed_interregional", "直接吸纳": "direct_intake", "企业吸纳": "direct_intake",
                 "劳务协作输出": "cooperation", "东西部劳务协作": "cooperation", "协作": "cooperation"}
WORKER_STATES = {"registered": "已登记", "dispatched": "已派出待确认", "placed": "在岗",
                 "separated": "已离职", "returned": "已返乡"}
MAX_WORKERS = 1000  # as DispatchCreate.worker_ids
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_COLON = re.compile(r"[:：]")
PLACEHOLDER_WORKER = "w" + "0" * 24


@dataclass(frozen=True)
class BlockField:
    key: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    note: str = ""
    example: str = ""


BLOCK: tuple[BlockField, ...] = (
    BlockField("organizer_id", "组织单位", ("组织单位编号", "输出组织单位", "组织单位代码", "工作站", "工作站编号"),
               note="组织输出的工作站编号；可不填，默认为上传者所在工作站。工作站只能以本站名义派遣。",
               example="ws-460105-01"),
    BlockField("brand_id", "品牌", ("劳务品牌", "品牌编号", "品牌名称", "所属品牌"), required=True,
               note="下拉选择劳务品牌；也可填品牌编号或品牌名称。品牌须已登记且未被暂停或撤销。",
               example="文昌鸡师傅（wenchang-chicken-chef）"),
    BlockField("mode", "输出方式", ("输出类型", "组织方式", "派遣方式"), required=True,
               note="下拉选择：" + "、".join(MODES.values()) + "。", example=MODES["directed_interregional"]),
    BlockField("origin_region", "输出地", ("输出地代码", "输出地区划代码", "派出地", "输出地区"), required=True,
               note="输出地县（市、区）的6位行政区划代码，如 469005；须在本工作站辖区内；代码后可附地名。",
               example="469005"),
    BlockField("destination_region", "输入地", ("输入地代码", "输入地区划代码", "务工地", "目的地", "输入地区"),
               required=True, note="务工所在地的6位行政区划代码，如 440300（深圳市）。", example="440300"),
    BlockField("employer_id", "用人单位编号", ("企业编号", "用人单位ID"), required=True,
               note="用人单位在平台的编号（用人单位据此确认入职），由字母、数字和 . _ : - 组成。",
               example="emp-sz-build"),
    BlockField("employer_name", "用人单位名称", ("用人单位", "企业名称", "单位名称"), required=True,
               note="用人单位全称，最多64个字。", example="深圳某建筑有限公司"),
    BlockField("employer_uscc", "统一社会信用代码", ("社会信用代码", "信用代码", "用人单位统一社会信用代码"),
               note="用人单位的18位统一社会信用代码，可不填；填写时校验位须正确。", example="91440300708461136T"),
    BlockField("departure_date", "出发日期", ("出行日期", "派出日期", "出发时间"), required=True,
               note="如 2026-03-01，也可写 2026/3/1、20260301、2026年3月1日。", example="2026-03-01"),
    BlockField("group_transport", "集中出行", ("是否集中出行", "集中组织出行", "包车出行"),
               note="下拉选择“是”或“否”；不填视为“否”。", example="是"),
    BlockField("positions", "岗位", ("工种", "招聘岗位", "岗位名称", "输出岗位"),
               note="可不填；多个岗位用顿号“、”分隔，如“钢筋工、木工”。", example="钢筋工、木工"),
    BlockField("dispatch_id", "派遣编号", ("派遣批次号", "批次编号", "派遣单号", "批次号"),
               note="可不填，由平台按文件生成（imp-开头）；自行编号时须唯一，由字母、数字和 . _ : - 组成。"),
)
_BLOCK_BY_KEY = {f.key: f for f in BLOCK}
_BLOCK_LABELS = {header_key(alias): f.key for f in BLOCK for alias in (f.label, f.key, *f.aliases)}

DISPATCH = SheetKind(
    name="dispatch",
    title="有组织劳务输出派遣名单",
    columns=(
        Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "身份证", "身份证件号码", "证件号码", "证件号"),
               required=True, text_format=True, width=24,
               note="派遣人员的18位居民身份证号码，须已在实名台账中登记；每人一行。",
               example=EXAMPLE["id_number"]),
        Column("name", "姓名", ("名字",), width=14, note="可不填，仅用于核对和错误报告。", example=EXAMPLE["name"]),
    ),
    scan_rows=40,
    merged_headers=False,
)


# ---- the 派遣信息 block -------------------------------------------------------------------------------
@dataclass
class BlockIssue:
    row: int | None
    issue: Issue

    @property
    def text(self) -> str:
        return (f"第{self.row}行 " if self.row else "") + self.issue.message_zh


@dataclass
class Block:
    """What the 派遣信息 rows say: raw values by field key and where each was found."""

    values: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    issues: list[BlockIssue] = field(default_factory=list)

    def put(self, key: str, value: Any, row: int) -> None:
        value = None if cells.is_blank(value) else value
        if key in self.rows:
            earlier = self.values.get(key)
            if value is not None and earlier is not None and cells.text(value) != cells.text(earlier):
                label = _BLOCK_BY_KEY[key].label
                self.issues.append(BlockIssue(row, Issue(
                    key, "duplicate", f"“{label}”填写了两次（第{self.rows[key]}行和第{row}行），请只保留一处",
                    f"{key} is given twice (rows {self.rows[key]} and {row})")))
            if earlier is not None or value is None:
                return
        self.values[key] = value
        self.rows[key] = row


def _label(cell: Any) -> tuple[str | None, Any]:
    """``(field key, value in the same cell)`` when the cell is a block label; ``(None, None)`` otherwise."""
    if not isinstance(cell, str):
        return None, None
    key = _BLOCK_LABELS.get(header_key(cell))
    if key is not None:
        return key, None
    text = cells.clean(cell)
    m = _COLON.search(text or "")
    if text and m:
        key = _BLOCK_LABELS.get(header_key(text[: m.start()]))
        if key is not None:
            rest = text[m.end():].strip()
            return key, rest or None
    return None, None


def read_block(preamble: Iterable[tuple[int, Sequence[Any]]]) -> Block:
    """Label/value pairs from the rows above the table; cells that are neither are ignored (a title, notes)."""
    block = Block()
    for number, row in preamble:
        pending: str | None = None
        for cell in row:
            if cells.is_blank(cell):
                continue
            key, inline = _label(cell)
            if key is not None:
                if pending is not None:
                    block.put(pending, None, number)
                if inline is not None:
                    block.put(key, inline, number)
                    pending = None
                else:
                    pending = key
            elif pending is not None:
                block.put(pending, cell, number)
                pending = None
        if pending is not None:
            block.put(pending, None, number)
    return block


def mode_of(value: Any) -> str | None:
    raw = cells.text(value)
    if raw is None:
        return None
    token = "".join(raw.split())
    if token in MODES:
        return token
    for code, label in MODES.items():
        if token == label:
            return code
    return _MODE_ALIASES.get(token)


@dataclass
class DispatchDraft:
    """The block read into the dispatch's fields (``DispatchCreate`` names), plus what is wrong with it."""

    fields: dict[str, Any] = field(default_factory=dict)
    brand_token: str | None = None
    rows: dict[str, int] = field(default_factory=dict)
    issues: list[BlockIssue] = field(default_factory=list)

    def fail(self, key: str, rule: str, zh: str, en: str) -> None:
        self.issues.append(BlockIssue(self.rows.get(key), Issue(key, rule, zh, en)))

    def cell_error(self, key: str, e: cells.CellError) -> None:
        self.fail(key, e.rule, e.message_zh, e.message)

    def ordered(self) -> list[BlockIssue]:
        order = {f.key: i for i, f in enumerate(BLOCK)}
        return sorted(self.issues, key=lambda i: (order.get(i.issue.field, len(order)), i.row or 0))


def parse_block(preamble: Iterable[tuple[int, Sequence[Any]]],
                epoch: dt.datetime = CALENDAR_WINDOWS_1900) -> DispatchDraft:
    """The 派遣信息 block → a draft, with every problem the block alone shows (no ledger look-ups)."""
    block = read_block(preamble)
    d = DispatchDraft(rows=dict(block.rows), issues=list(block.issues))
    # A value that is not clean text is refused here, before a look-up or a stored reason could carry it to
    # PostgreSQL (the rows below the block: laowu.imports.pipeline.refuse_unclean).
    unclean = {k: char for k, value in block.values.items() if (char := cells.unclean(value)) is not None}
    for key, char in unclean.items():
        d.fail(key, "string_unclean", cells.unclean_message(_BLOCK_BY_KEY[key].label, char),
               f"{key} holds {char}, a character that is not clean text")
    v = {k: value for k, value in block.values.items() if k not in unclean}
    for f in BLOCK:
        if f.required and f.key not in unclean and cells.is_blank(v.get(f.key)):
            if f.key in block.rows:
                d.fail(f.key, "missing", f"{f.label}不能为空", f"{f.key} is required")
            else:
                d.fail(f.key, "missing", f"派遣信息缺少“{f.label}”", f"{f.key} is missing from the header block")

    for key in ("organizer_id", "employer_id", "dispatch_id"):
        raw = cells.text(v.get(key))
        if raw is None:
            continue
        if _IDENTIFIER.match(raw):
            d.fields[key] = raw
        else:
            label = _BLOCK_BY_KEY[key].label
            d.fail(key, "format", f"{label}只能由字母、数字和 . _ : - 组成（最多64个字符）：{raw}",
                   f"{key} must be ASCII letters, digits and . _ : - (at most 64), got {raw!r}")

    d.brand_token = cells.text(v.get("brand_id"))

    raw_mode = v.get("mode")
    if not cells.is_blank(raw_mode):
        mode = mode_of(raw_mode)
        if mode is None:
            d.fail("mode", "unknown", f"输出方式无效：{cells.text(raw_mode)}（可填：{'、'.join(MODES.values())}）",
                   f"unknown mode {cells.text(raw_mode)!r}")
        else:
            d.fields["mode"] = mode

    for key in ("origin_region", "destination_region"):
        raw = v.get(key)
        if cells.is_blank(raw):
            continue
        label = _BLOCK_BY_KEY[key].label
        try:
            code = cells.region(raw, key, label)
        except cells.CellError as e:
            d.cell_error(key, e)
            continue
        if regions.region_exists(code):
            d.fields[key] = code
        else:
            d.fail(key, "region", f"{label}代码不存在：{code}", f"{code} is not a GB/T 2260 region code")

    name = cells.text(v.get("employer_name"))
    if name is not None:
        if len(name) > 64:
            d.fail("employer_name", "too_long", "用人单位名称过长（最多64个字）", "employer name longer than 64")
        else:
            d.fields["employer_name"] = name

    uscc = cells.text(v.get("employer_uscc"))
    if uscc is not None:
        try:
            d.fields["employer_uscc"] = validate_uscc(uscc)
        except DomainError as e:
            d.fail("employer_uscc", e.rule, e.message_zh or f"统一社会信用代码错误：{uscc}", e.message)

    if not cells.is_blank(v.get("departure_date")):
        try:
            d.fields["departure_date"] = cells.date(v["departure_date"], epoch, "departure_date", "出发日期")
        except cells.CellError as e:
            d.cell_error("departure_date", e)

    try:
        d.fields["group_transport"] = bool(cells.yes_no(v.get("group_transport"), "group_transport", "集中出行"))
    except cells.CellError as e:
        d.cell_error("group_transport", e)

    positions = list(dict.fromkeys(cells.split_list(v.get("positions"))))
    too_long = [p for p in positions if len(p) > 64]
    if too_long:
        d.fail("positions", "too_long", f"岗位名称过长（最多64个字）：{too_long[0][:20]}…", "position longer than 64")
    elif len(positions) > 50:
        d.fail("positions", "too_many", "岗位最多填写50个", "at most 50 positions")
    else:
        d.fields["positions"] = positions
    return d


# ---- looking things up -----------------------------------------------------------------------------
class WorkerDirectory(Protocol):
    async def states(self, worker_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        """``worker_id → (state, current_placement_id)`` of the workers the sender may see; others absent."""
        ...

    async def dispatch_taken(self, dispatch_id: str, event_id: uuid.UUID) -> bool:
        """A dispatch with this id exists and was not created by ``event_id`` (an earlier run of this file)."""
        ...


_BLOCK_KEY_OF = {"employer.employer_id": "employer_id", "employer.name": "employer_name",
                 "employer.uscc": "employer_uscc", "employer": "employer_name"}


def _block_key(where: str) -> str:
    """A ``DispatchCreate`` error location (``employer.uscc``, ``positions.0``) → the block field it came from."""
    return _BLOCK_KEY_OF.get(where) or where.split(".")[0]


def _domain_issue(e: DomainError) -> Issue:
    key = _block_key(e.field)
    label = _BLOCK_BY_KEY[key].label if key in _BLOCK_BY_KEY else e.field
    if e.rule == "region":
        zh = f"{label}代码不存在"
    else:
        zh = e.message_zh or f"{label}：{e.message}"
    return Issue(e.field, e.rule, zh, e.message)


# ---- the processor -----------------------------------------------------------------------------------
class DispatchRows:
    """``RowProcessor`` for the dispatch list: the block at ``start``, rows by chunk, one event at ``end``."""

    kind = DISPATCH

    def __init__(
        self,
        intake: Intake,
        brands: BrandDirectory,
        workers: WorkerDirectory,
        *,
        workstation_id: str,
        event_id: uuid.UUID,
        actor: Actor,
    ) -> None:
        self.intake = intake
        self.brands = brands
        self.workers = workers
        self.workstation_id = workstation_id
        self.event_id = event_id
        self.actor = actor
        self.dispatch_id = default_dispatch_id(event_id)
        self.accepted: list[str] = []
        self.draft: DispatchDraft | None = None
        self.envelope: Envelope | None = None
        self._seen: dict[str, int] = {}
        # What the dispatch handler decides against: the brand's status and the state of each worker taken.
        self.facts = Facts()

    # -- the block
    async def _brand(self, d: DispatchDraft) -> None:
        token = d.brand_token
        if token is None:
            return
        key = brand_key(token)
        found_brands = await self.brands.find({key})
        found: BrandMatch = match_brands([key], found_brands).get(key, ("unknown", key))
        status, value = found
        self.facts.brands.update((b.brand_id, b.status) for b in found_brands)
        if status == "ok":
            d.fields["brand_id"] = value
        elif status == "closed":
            brand_status = value.partition(":")[2]
            d.fail("brand_id", "closed", f"品牌{CLOSED_BRANDS.get(brand_status, brand_status)}，不能用于派遣：{token}",
                   f"brand {value.partition(':')[0]} is {brand_status}")
        elif status == "ambiguous":
            d.fail("brand_id", "ambiguous", f"品牌名称对应多个品牌，请改填品牌编号：{token}",
                   f"brand name {token!r} is ambiguous")
        else:
            d.fail("brand_id", "unknown", f"品牌不存在：{token}", f"unknown brand {token}")

    def _sender(self, d: DispatchDraft) -> None:
        actor = self.actor
        organizer = d.fields.get("organizer_id")
        if organizer is None and "organizer_id" not in {i.issue.field for i in d.issues}:
            d.fields["organizer_id"] = organizer = self.workstation_id
        # The scoping rule of POST /v1/dispatches (``laowu.application.scoping``), in the words of the sheet; asked
        # again as if the organizer were right, so a sheet wrong in both hears both.
        fields = d.fields
        while (problem := scope_problem(actor, name(cmd.CreateDispatch), fields)) is not None:
            if problem.kind == "organization":
                if organizer is not None:
                    d.fail("organizer_id", "forbidden", f"组织单位须为本工作站：{actor.org}（表中填写为{organizer}）",
                           problem.reason)
                fields = {**fields, "organizer_id": actor.org}
                continue
            d.fail("origin_region", "jurisdiction", f"输出地不在本工作站辖区内：{problem.value}（辖区{actor.region}）",
                   problem.reason)
            break

    def _body(self, d: DispatchDraft, worker_ids: list[str]) -> DispatchCreate:
        f = d.fields
        employer = {"employer_id": f.get("employer_id"), "name": f.get("employer_name")}
        if f.get("employer_uscc"):
            employer["uscc"] = f["employer_uscc"]
        return DispatchCreate.model_validate({
            "dispatch_id": f.get("dispatch_id") or self.dispatch_id, "organizer_id": f.get("organizer_id"),
            "brand_id": f.get("brand_id"), "mode": f.get("mode"), "origin_region": f.get("origin_region"),
            "destination_region": f.get("destination_region"), "employer": employer,
            "positions": f.get("positions", []), "departure_date": f.get("departure_date"),
            "group_transport": f.get("group_transport", False), "worker_ids": worker_ids,
        })

    async def start(self, header: Header, epoch: dt.datetime) -> None:
        d = await asyncio.to_thread(parse_block, header.preamble, epoch)
        await self._brand(d)
        self._sender(d)
        given = d.fields.get("dispatch_id")
        if given is not None and await self.workers.dispatch_taken(given, self.event_id):
            d.fail("dispatch_id", "conflict", f"派遣编号已存在：{given}（请换一个编号或不填）", f"dispatch {given} exists")
        if not d.issues:
            # Whatever else the intake checks (it is the same as POST /v1/dispatches) is found now, not at the end.
            try:
                self.intake.create_dispatch(self._body(d, [PLACEHOLDER_WORKER]), [PLACEHOLDER_WORKER],
                                            Context(actor=self.actor, event_id=self.event_id))
            except ValidationError as exc:
                for err in exc.errors():
                    key = _block_key(".".join(str(p) for p in err["loc"]) or "body")
                    label = _BLOCK_BY_KEY[key].label if key in _BLOCK_BY_KEY else key
                    zh = (cells.unclean_message(label, str((err.get("ctx") or {}).get("char", "")))
                          if err["type"] == "string_unclean" else f"{label}格式错误")
                    d.fail(key, err["type"], zh, err["msg"])
            except InvalidRequest as exc:
                d.issues.extend(BlockIssue(d.rows.get(_block_key(e.field)), _domain_issue(e)) for e in exc.errors)
        if d.issues:
            issues = d.ordered()
            raise SheetRefused("派遣信息有误，未派遣任何人：" + "；".join(i.text for i in issues),
                               "the dispatch header block is invalid: " + "; ".join(
                                   f"{i.issue.field}: {i.issue.message}" for i in issues))
        self.draft = d
        self.dispatch_id = d.fields.get("dispatch_id") or self.dispatch_id

    # -- the rows
    def skip(self, row: Row) -> bool:
        """The template's example row (its exact ID number and name) is never imported."""
        return (cells.text(row.cells.get("id_number")) == EXAMPLE["id_number"]
                and cells.text(row.cells.get("name")) == EXAMPLE["name"])

    def _parse(self, row: Row) -> tuple[str | None, list[Issue], list[Issue]]:
        errors: list[Issue] = []
        warnings: list[Issue] = []
        try:
            raw, warning = cells.id_number(row.cells.get("id_number"))
            if warning:
                warnings.append(Issue("id_number", "stored_as_number", warning, "id_number was stored as a number"))
            info = parse_id_number(raw)
        except cells.CellError as e:
            errors.append(Issue(e.field, e.rule, e.message_zh, e.message))
            return None, errors, warnings
        except DomainError as e:
            errors.append(Issue(e.field, e.rule, e.message_zh or f"身份证号：{e.message}", e.message))
            return None, errors, warnings
        return self.intake.privacy.worker_id(info.number), errors, warnings

    async def process(self, rows: list[Row]) -> list[Outcome]:
        parsed = await asyncio.to_thread(lambda: [self._parse(r) for r in rows])
        ids = sorted({wid for wid, _, _ in parsed if wid is not None})
        states = await self.workers.states(ids) if ids else {}
        return [self._decide(row, wid, errors, warnings, states)
                for row, (wid, errors, warnings) in zip(rows, parsed, strict=True)]

    def _decide(self, row: Row, wid: str | None, errors: list[Issue], warnings: list[Issue],
                states: dict[str, tuple[str, str | None]]) -> Outcome:
        if wid is None or errors:
            return Outcome(row=row, errors=errors, warnings=warnings)
        first = self._seen.setdefault(wid, row.number)
        state = states.get(wid)
        if first != row.number:
            errors.append(Issue("id_number", "duplicate", f"同一人员在本表中重复（与第{first}行相同）",
                                f"same person as row {first}"))
        elif state is None:
            errors.append(Issue("id_number", "unknown", "台账中无此人（须先在实名台账中登记）",
                                "unknown worker: not in the real-name ledger"))
        elif (refusal := eligibility(*state)) and state[1] != placement_id_for(self.dispatch_id, wid):
            # (On the placement this very dispatch creates: an earlier run of the same file got that far.)
            errors.append(Issue("id_number", "conflict",
                                f"该人员已在岗或已派出，不能重复派遣（当前状态：{WORKER_STATES.get(state[0], state[0])}）",
                                refusal))
        elif len(self.accepted) >= MAX_WORKERS:
            errors.append(Issue("id_number", "too_many", f"一张派遣名单最多{MAX_WORKERS}人，本行超出，请分表上传",
                                f"a dispatch takes at most {MAX_WORKERS} workers"))
        else:
            self.accepted.append(wid)
            self.facts.workers[wid] = state
        return Outcome(row=row, errors=errors, warnings=warnings)

    # -- the one event
    async def end(self) -> list[Envelope]:
        if not self.accepted or self.draft is None:
            return []
        body = self._body(self.draft, self.accepted)
        # The handler of POST /v1/dispatches; each worker was judged row by row with the same ``eligibility`` (and
        # one on the placement this dispatch creates is a rerun's), so the handler keeps every worker taken.
        decision = decide(self.intake, cmd.CreateDispatch(body), self.facts,
                          Context(actor=self.actor, event_id=self.event_id), leave_out=False)
        assert isinstance(decision.envelope, Envelope)
        self.envelope = decision.envelope
        return [self.envelope]


def default_dispatch_id(event_id: uuid.UUID) -> str:
    """``imp-`` + 16 hex characters of the import's (file-derived) event id."""
    return f"imp-{event_id.hex[:16]}"

