"""The worker-registration sheet (实名登记表): columns, row → ``WorkerCreate`` → the ``RegisterWorker`` handler.

Every row goes through the same handler as ``POST /v1/workers`` (check digits, ID ↔ sex/birth date,
regions, working age, phone), plus what only a spreadsheet needs: reading clerks' cells, Chinese labels
for enumerations, brands named by id or by name, and a Chinese reason for every rule a row breaks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from laowu.application import commands as cmd
from laowu.application.catalogue import decide, name
from laowu.application.errors import Conflict, Forbidden, NotFound
from laowu.application.facts import Facts
from laowu.application.scoping import ScopeProblem, scope_problem
from laowu.domain import regions
from laowu.domain.errors import DomainError
from laowu.domain.identity import check_declared, check_working_age, parse_id_number, validate_phone
from laowu.imports import cells
from laowu.imports.pipeline import Issue, Outcome
from laowu.imports.sheet import Column, Header, Row, SheetKind
from laowu.intake import Context, Intake, InvalidRequest
from schemas.api import CertificateCreate, WorkerCreate
from schemas.common import Actor
from schemas.envelope import Envelope, Outgoing

PRIORITY_GROUPS: dict[str, str] = {
    "poverty_alleviated": "脱贫人口",
    "rural_low_income": "农村低收入人口",
    "relocated": "易地扶贫搬迁群众",
    "left_behind_women": "农村留守妇女",
    "disabled": "残疾人",
    "veteran": "退役军人",
}
_PRIORITY_ALIASES = {"脱贫户": "poverty_alleviated", "脱贫劳动力": "poverty_alleviated",
                     "低收入人口": "rural_low_income", "农村低收入": "rural_low_income",
                     "易地搬迁": "relocated", "易地扶贫搬迁": "relocated", "搬迁群众": "relocated",
                     "留守妇女": "left_behind_women", "残疾": "disabled", "退役士兵": "veteran"}
CERTIFICATE_KINDS: dict[str, str] = {
    "qualification": "职业资格证书",
    "skill_level": "职业技能等级证书",
    "special_ability": "专项职业能力证书",
    "special_operation": "特种作业操作证",
}
CLOSED_BRANDS = {"suspended": "已暂停", "revoked": "已撤销"}  # as api.writes.CLOSED_BRANDS
USABLE_BRAND_STATUSES = ("candidate", "listed", "demonstration")

EXAMPLE = {"id_number": "460105199003071220", "name": "王小梅", "sex": "女", "birth_date": "1990-03-07",
           "phone": "13800138000", "household_region": "460105", "priority_groups": "脱贫人口",
           "certificate_kind": "职业技能等级证书", "certificate_name": "中式烹调师", "occupation_code": "4-03-02-01"}

WORKERS = SheetKind(
    name="workers",
    title="劳务人员实名登记表",
    columns=(
        Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "身份证", "身份证件号码", "证件号码", "证件号"),
               required=True, text_format=True, width=22,
               note="18位居民身份证号码，末位可以是X。本列已设为文本格式；若从别处粘贴，请勿让Excel把它变成4.6E+17这样的数字。",
               example=EXAMPLE["id_number"]),
        Column("name", "姓名", ("名字", "姓名(必填)"), required=True, width=10,
               note="与身份证一致的姓名。", example=EXAMPLE["name"]),
        Column("sex", "性别", (), required=True, width=8,
               note="下拉选择“男”或“女”；须与身份证号第17位一致（奇数为男，偶数为女）。", example=EXAMPLE["sex"]),
        Column("birth_date", "出生日期", ("出生年月日", "生日"), required=True, text_format=True, width=12,
               note="如 1990-03-07，也可写 1990/3/7、19900307、1990年3月7日；须与身份证号中的出生日期一致，且年满16周岁。",
               example=EXAMPLE["birth_date"]),
        Column("phone", "手机号", ("手机号码", "手机", "联系电话", "电话", "联系方式"), text_format=True, width=14,
               note="11位手机号（13-19开头），可不填。", example=EXAMPLE["phone"]),
        Column("household_region", "户籍地", ("户籍地代码", "户籍地区划代码", "户籍所在地", "户籍", "户口所在地"),
               required=True, text_format=True, width=12,
               note="户籍所在县（市、区）的6位行政区划代码（GB/T 2260），如 460105；代码后可附地名，如“460105 秀英区”。",
               example=EXAMPLE["household_region"]),
        Column("brand_ids", "品牌", ("劳务品牌", "品牌编号", "所属品牌"), width=30,
               note="下拉选择所属劳务品牌；可填品牌编号或品牌名称，多个品牌用顿号“、”分隔。品牌须已在平台登记且未被暂停或撤销。"),
        Column("priority_groups", "优先群体", ("重点群体", "帮扶对象", "人员类别"), width=16,
               note="下拉选择；属于多个群体时用顿号“、”分隔，如“脱贫人口、残疾人”。可选："
                    + "、".join(PRIORITY_GROUPS.values()) + "。",
               example=EXAMPLE["priority_groups"]),
        Column("certificate_kind", "证书类型", ("证书类别",), width=16,
               note="持有证书时下拉选择：" + "、".join(CERTIFICATE_KINDS.values()) + "；须同时填写证书名称。",
               example=EXAMPLE["certificate_kind"]),
        Column("certificate_name", "证书名称", ("证书",), width=16,
               note="如“中式烹调师”“电工”；填写了证书名称时须选择证书类型。", example=EXAMPLE["certificate_name"]),
        Column("occupation_code", "职业编码", ("职业代码", "职业分类代码"), text_format=True, width=12,
               note="《职业分类大典》编码，如 4-03-02-01，可不填。", example=EXAMPLE["occupation_code"]),
    ),
)

_LABELS = {c.key: c.label for c in WORKERS.columns} | {"body": "整行", "occurred_at": "登记时间"}
_BRAND_WITH_ID = re.compile(r"^(.*?)\(\s*([A-Za-z0-9][A-Za-z0-9._:-]*)\s*\)$")
_OCCUPATION = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")
_AGE = re.compile(r"is (\d+)$")


# ---- brands ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Brand:
    brand_id: str
    name: str
    status: str


class BrandDirectory(Protocol):
    async def find(self, keys: set[str]) -> list[Brand]:
        """Brands whose id or name is one of ``keys``."""
        ...


BrandMatch = tuple[Literal["ok", "unknown", "ambiguous", "closed"], str]


def brand_key(token: str) -> str:
    """``文昌鸡师傅（wenchang-chicken-chef）`` (the template's dropdown) → the id; otherwise the token itself."""
    m = _BRAND_WITH_ID.match(token)
    return m[2] if m else token


def match_brands(keys: Iterable[str], found: list[Brand]) -> dict[str, BrandMatch]:
    by_id = {b.brand_id: b for b in found}
    by_name: dict[str, list[Brand]] = {}
    for b in found:
        by_name.setdefault(b.name, []).append(b)
    out: dict[str, BrandMatch] = {}
    for key in keys:
        brand = by_id.get(key)
        if brand is None:
            named = by_name.get(key, [])
            if len(named) > 1:
                out[key] = ("ambiguous", key)
                continue
            brand = named[0] if named else None
        if brand is None:
            out[key] = ("unknown", key)
        elif brand.status in CLOSED_BRANDS:
            out[key] = ("closed", f"{brand.brand_id}:{brand.status}")
        else:
            out[key] = ("ok", brand.brand_id)
    return out


# ---- one row ------------------------------------------------------------------------------------------
@dataclass
class Draft:
    row: Row
    fields: dict[str, Any] = field(default_factory=dict)
    brand_tokens: list[str] = field(default_factory=list)
    certificate: tuple[str, str] | None = None
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def fail(self, e: cells.CellError) -> None:
        self.errors.append(Issue(e.field, e.rule, e.message_zh, e.message))


def _issue(field: str, rule: str, zh: str, en: str) -> Issue:
    return Issue(field, rule, zh, en)


def _priority(token: str) -> str | None:
    if token in PRIORITY_GROUPS:
        return token
    for key, label in PRIORITY_GROUPS.items():
        if token == label:
            return key
    return _PRIORITY_ALIASES.get(token)


def _certificate_kind(token: str) -> str | None:
    if token in CERTIFICATE_KINDS:
        return token
    return next((k for k, label in CERTIFICATE_KINDS.items() if label == token or label.rstrip("书证") == token), None)


def parse_row(row: Row) -> Draft:
    """Read every cell of a row; what cannot be read becomes an issue, the rest goes to ``fields``."""
    d = Draft(row=row)
    c = row.cells
    try:
        number, warning = cells.id_number(c.get("id_number"))
        d.fields["id_number"] = number
        if warning:
            d.warnings.append(_issue("id_number", "stored_as_number", warning, "id_number was stored as a number"))
    except cells.CellError as e:
        d.fail(e)
    name = cells.text(c.get("name"))
    if name is None:
        d.errors.append(_issue("name", "missing", "姓名不能为空", "name is required"))
    elif len(name) > 64:
        d.errors.append(_issue("name", "too_long", "姓名过长（最多64个字）", "name is longer than 64 characters"))
    else:
        d.fields["name"] = name
    for key, read in (("sex", cells.sex), ("birth_date", lambda v: cells.date(v, row.epoch)),
                      ("household_region", cells.region)):
        try:
            d.fields[key] = read(c.get(key))
        except cells.CellError as e:
            d.fail(e)
    phone = cells.phone(c.get("phone"))
    if phone is not None:
        d.fields["phone"] = phone
    groups: list[str] = []
    for token in cells.split_list(c.get("priority_groups")):
        group = _priority(token)
        if group is None:
            d.errors.append(_issue("priority_groups", "unknown",
                                   f"优先群体不存在：{token}（可填：{'、'.join(PRIORITY_GROUPS.values())}）",
                                   f"unknown priority group {token!r}"))
        else:
            groups.append(group)
    d.fields["priority_groups"] = list(dict.fromkeys(groups))
    d.brand_tokens = list(dict.fromkeys(cells.split_list(c.get("brand_ids"))))
    occupation = cells.text(c.get("occupation_code"))
    if occupation is not None:
        if _OCCUPATION.match(occupation):
            d.fields["occupation_code"] = occupation
        else:
            d.errors.append(_issue("occupation_code", "format", f"职业编码格式错误：{occupation}（应为4-03-02-01这样的格式）",
                                   "occupation_code must look like 4-03-02-01"))
    kind_text, cert_name = cells.text(c.get("certificate_kind")), cells.text(c.get("certificate_name"))
    if kind_text is not None or cert_name is not None:
        kind = _certificate_kind(kind_text) if kind_text else None
        if kind_text is not None and kind is None:
            d.errors.append(_issue("certificate_kind", "unknown",
                                   f"证书类型不存在：{kind_text}（可填：{'、'.join(CERTIFICATE_KINDS.values())}）",
                                   f"unknown certificate kind {kind_text!r}"))
        elif kind is None:
            d.errors.append(_issue("certificate_kind", "missing", "填写了证书名称但未选择证书类型",
                                   "certificate_name given without certificate_kind"))
        elif cert_name is None:
            d.errors.append(_issue("certificate_name", "missing", "选择了证书类型但未填写证书名称",
                                   "certificate_kind given without certificate_name"))
        elif len(cert_name) > 64:
            d.errors.append(_issue("certificate_name", "too_long", "证书名称过长（最多64个字）", "certificate_name too long"))
        else:
            d.certificate = (kind, cert_name)
    return d


def describe(e: DomainError, fields: dict[str, Any]) -> Issue:
    """A domain rule broken, in the words the error report uses."""
    zh = e.message_zh
    key = (e.field, e.rule)
    if key == ("household_region", "region"):
        zh = f"户籍地代码不存在：{fields.get('household_region', '')}"
    elif key == ("birth_date", "min_age"):
        m = _AGE.search(e.message)
        zh = "未满16周岁" + (f"（登记时{m[1]}岁）" if m else "")
    elif key == ("phone", "format"):
        zh = f"手机号格式错误：{fields.get('phone', '')}（应为以13-19开头的11位数字）"
    elif key == ("sex", "format"):
        zh = "性别应为男或女"
    if not zh:
        zh = f"{_LABELS.get(e.field, e.field)}：{e.message}"
    return Issue(e.field, e.rule, zh, e.message)


def _pydantic(exc: ValidationError) -> list[Issue]:
    out: list[Issue] = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "body"
        label = _LABELS.get(field, field)
        kind = err["type"]
        if kind == "string_unclean":  # a line break in a one-line field; the rest was refused by the pipeline
            zh = cells.unclean_message(label, str((err.get("ctx") or {}).get("char", "")))
        else:
            zh = {"missing": f"{label}不能为空", "string_too_long": f"{label}过长",
                  "too_long": f"{label}填写的项目过多"}.get(kind, f"{label}格式错误")
        out.append(Issue(field, kind, zh, err["msg"]))
    return out


# ---- a chunk of rows ----------------------------------------------------------------------------------
REQUIRED = ("id_number", "name", "sex", "birth_date", "household_region")


class WorkerRows:
    """``RowProcessor`` for the registration sheet."""

    kind = WORKERS

    def __init__(
        self,
        intake: Intake,
        brands: BrandDirectory,
        *,
        workstation_id: str,
        event_id: Callable[[int, str], uuid.UUID],
        actor: Actor,
    ) -> None:
        self.intake = intake
        self.brands = brands
        self.workstation_id = workstation_id
        self.event_id = event_id
        self.actor = actor
        self._brand_cache: dict[str, BrandMatch] = {}
        self._seen: dict[str, int] = {}  # worker_id → first row: same person twice in one file (~60 bytes/row)
        # What the registration handler decides against: the statuses of the brands the file names (the rows name
        # brands by id or name; the matching, with its Chinese reasons, is this door's own).
        self.facts = Facts()

    async def start(self, header: Header, epoch: dt.datetime) -> None:
        """Nothing above the header matters to a registration sheet."""

    async def end(self) -> list[Envelope]:
        return []  # every row published with its chunk

    def skip(self, row: Row) -> bool:
        """The template's example row (its exact ID number and name) is never imported."""
        return (cells.text(row.cells.get("id_number")) == EXAMPLE["id_number"]
                and cells.text(row.cells.get("name")) == EXAMPLE["name"])

    async def process(self, rows: list[Row]) -> list[Outcome]:
        drafts = await asyncio.to_thread(lambda: [parse_row(r) for r in rows])
        self.facts.workers.clear()  # what the handler recorded as accepted: no later row needs it, and a file is long
        keys = {brand_key(t) for d in drafts for t in d.brand_tokens} - self._brand_cache.keys()
        if keys:
            if len(self._brand_cache) > 10_000:
                self._brand_cache.clear()
            found = await self.brands.find(keys)
            self._brand_cache.update(match_brands(keys, found))
            self.facts.brands.update((b.brand_id, b.status) for b in found)
        return await asyncio.to_thread(lambda: [self.finish(d) for d in drafts])

    def _brands(self, d: Draft) -> list[str]:
        ids: list[str] = []
        for token in d.brand_tokens:
            status, value = self._brand_cache.get(brand_key(token), ("unknown", token))
            if status == "ok":
                ids.append(value)
            elif status == "closed":
                bid, _, brand_status = value.partition(":")
                d.errors.append(_issue("brand_ids", "closed", f"品牌{CLOSED_BRANDS[brand_status]}，不再接收新成员：{token}",
                                       f"brand {bid} is {brand_status} and takes no new members"))
            elif status == "ambiguous":
                d.errors.append(_issue("brand_ids", "ambiguous", f"品牌名称对应多个品牌，请改填品牌编号：{token}",
                                       f"brand name {token!r} is ambiguous; use the brand id"))
            else:
                d.errors.append(_issue("brand_ids", "unknown", f"品牌不存在：{token}", f"unknown brand {token}"))
        return list(dict.fromkeys(ids))

    def _checks_without_intake(self, d: Draft) -> None:
        """Some required cell is unreadable: still report what else is wrong, with the domain's own checks."""
        f = d.fields
        found: list[DomainError] = []
        today = dt.date.today()
        if "id_number" in f:
            try:
                info = parse_id_number(f["id_number"])
                check_declared(info, sex=f.get("sex", info.sex), birth_date=f.get("birth_date", info.birth_date))
            except DomainError as e:
                found.append(e)
        if "birth_date" in f:
            try:
                check_working_age(f["birth_date"], today)
            except DomainError as e:
                found.append(e)
        if "household_region" in f and not regions.region_exists(f["household_region"]):
            found.append(DomainError("household_region", "region", "not a GB/T 2260 region code"))
        if "phone" in f:
            try:
                validate_phone(f["phone"])
            except DomainError as e:
                found.append(e)
        d.errors.extend(describe(e, f) for e in found)

    def finish(self, d: Draft) -> Outcome:
        brand_ids = self._brands(d)
        if any(k not in d.fields for k in REQUIRED):
            self._checks_without_intake(d)
            return Outcome(row=d.row, errors=_ordered(d.errors), warnings=d.warnings)
        fields = dict(d.fields, brand_ids=brand_ids, workstation_id=self.workstation_id)
        envelopes: list[Envelope] = []
        try:
            body = WorkerCreate.model_validate(fields)
            ctx = Context(actor=self.actor, event_id=self.event_id(d.row.number, ""))
            # The same handlers as POST /v1/workers and /v1/events:batch.
            registered = _envelope(decide(self.intake, cmd.RegisterWorker(body), self.facts, ctx).envelope)
            envelopes.append(registered)
            if d.certificate is not None:
                kind, cert_name = d.certificate
                cert = CertificateCreate.model_validate({"kind": kind, "name": cert_name})
                ctx = Context(actor=self.actor, event_id=self.event_id(d.row.number, "certificate"))
                added = decide(self.intake, cmd.AddCertificate(registered.payload["worker_id"], cert), self.facts, ctx)
                envelopes.append(_envelope(added.envelope))
        except ValidationError as exc:
            d.errors.extend(_pydantic(exc))
        except InvalidRequest as exc:
            d.errors.extend(describe(e, fields) for e in exc.errors)
        except Conflict as exc:  # the brands were matched above, with their Chinese reasons; a brand closed since
            d.errors.extend(_issue(e.field, e.rule, f"品牌不可用：{e.message}", e.message) for e in exc.errors)
        except (Forbidden, NotFound):
            pass  # the scoping rule, rendered below in Chinese whether or not the body was valid
        problem = scope_problem(self.actor, name(cmd.RegisterWorker), fields)
        if problem is not None and (problem.field != "household_region" or regions.region_exists(problem.value or "")):
            d.errors.append(_scope_issue(problem, self.actor))
        if d.errors:
            return Outcome(row=d.row, errors=_ordered(d.errors), warnings=d.warnings)
        worker_id = envelopes[0].payload["worker_id"]
        first = self._seen.setdefault(worker_id, d.row.number)
        if first != d.row.number:
            d.warnings.append(_issue("id_number", "duplicate", f"与第{first}行是同一人（身份证号相同），将合并登记",
                                     f"same person as row {first}; the registrations are merged"))
        return Outcome(row=d.row, envelopes=envelopes, warnings=d.warnings)


def _scope_issue(problem: ScopeProblem, actor: Actor) -> Issue:
    """The scoping rule's verdict (``laowu.application.scoping``, the API's too) in the words of the sheet."""
    if problem.field == "household_region":
        zh = f"户籍地不在本工作站辖区内：{problem.value}（辖区{actor.region}）"
    else:
        zh = f"经办工作站须为本单位：{actor.org}"
    return _issue(problem.field or "workstation_id", problem.kind, zh, problem.reason)


def _envelope(env: Outgoing) -> Envelope:
    """The import publishes model envelopes (its contexts never ask for the lean one)."""
    assert isinstance(env, Envelope)
    return env


_ORDER = {c.key: i for i, c in enumerate(WORKERS.columns)}


def _ordered(issues: list[Issue]) -> list[Issue]:
    """Reasons in column order, so they read left to right like the row."""
    return sorted(issues, key=lambda i: _ORDER.get(i.field, len(_ORDER)))
