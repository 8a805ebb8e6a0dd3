"""Identity rules of the real-name ledger (实名制台账): ID numbers, phones, credit codes, masking.

The resident ID number (公民身份号码, GB 11643) is 18 characters: a six-digit address code (地址码,
GB/T 2260), the birth date as YYYYMMDD (出生日期码), a three-digit sequence code (顺序码) whose last
digit is odd for men and even for women, and an ISO 7064 MOD 11-2 check character (校验码, 0-9 or X).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any, Literal

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

from laowu.domain import regions
from laowu.domain.errors import DomainError

Sex = Literal["M", "F"]

# Residence permits for Hong Kong, Macao and Taiwan residents (港澳台居民居住证, since 2018) carry
# 18-character numbers in the same layout with these fixed address codes. 830000 is not a GB/T 2260
# code at all (Taiwan's is 710000), yet such permit holders are lawful workers the ledger must accept.
RESIDENCE_PERMIT_CODES = frozenset({"810000", "820000", "830000"})

_EARLIEST_BIRTH = datetime.date(1900, 1, 1)
_ID_FIELD = "id_number"
_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_PREFIXES = ("+86", "0086")
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
# Full-width ASCII block (FF01-FF5E) and the ideographic space: what Chinese IMEs and scanned
# spreadsheets put into numbers. Explicit rather than NFKC, which would also turn ① into 1.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SEX_ALIASES: dict[str, Sex] = {"M": "M", "F": "F", "男": "M", "女": "F"}


@dataclass(frozen=True)
class IdInfo:
    """What a valid resident ID number (居民身份证号码) says about its holder."""

    number: str
    birth_date: datetime.date
    sex: Sex
    region_code: str


def _to_ascii(raw: str) -> str:
    """Full-width to ASCII, all whitespace removed."""
    return "".join(raw.translate(_FULL_WIDTH).split())


def normalize_id_number(raw: str) -> str:
    """Canonical form of a resident ID number: ASCII, no whitespace, upper-case ``X``."""
    if raw.isascii() and raw.isalnum():  # the usual case, already ASCII letters and digits: nothing to translate
        return raw.upper()
    return _to_ascii(raw).upper()


def id_number_for(region: str, birth: datetime.date, seq: int) -> str:
    """The valid 18-character ID number of ``region`` (6 digits), ``birth`` and order code ``seq`` (0-999, odd for a
    man): the one generator of valid numbers for the demo, the simulator, the benches and the tests."""
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def _id_error(rule: str, message: str, message_zh: str) -> DomainError:
    return DomainError(_ID_FIELD, rule, message, message_zh)


def _check_shape(number: str) -> None:
    if len(number) != 18:
        raise _id_error("length", "must be 18 characters", "身份证号应为18位")
    if not number[:17].isascii() or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise _id_error(
            "format",
            "must be 17 digits followed by a digit or X",
            "身份证号应为17位数字加1位数字或X",
        )


def _check_digit(number: str) -> None:
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise _id_error("check_digit", f"check digit should be {expected}", f"身份证号校验位错误，应为{expected}")


def _birth_date(number: str, today: datetime.date) -> datetime.date:
    # The number is already in canonical form (``_check_shape``): read YYYYMMDD directly. ``ric.get_birth_date``
    # would clean it again, character by character, which was most of the cost of parsing an ID number.
    try:
        born = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _id_error(
            "birth_date",
            f"birth date {number[6:14]} is not a real date",
            f"身份证号中的出生日期{number[6:14]}不存在",
        ) from None
    if born > today:
        raise _id_error("birth_date", "birth date is in the future", "身份证号中的出生日期晚于今天")
    if born < _EARLIEST_BIRTH:
        raise _id_error("birth_date", "birth date is before 1900", "身份证号中的出生日期早于1900年")
    return born


def _check_region(number: str) -> str:
    """Accept any address code that exists or ever existed.

    ``stdnum.cn.ric.validate`` also demands the code be valid in the birth year, which rejects real
    people: the code is that of the place where the number was issued, often years after birth
    (a Chongqing resident born in 1985 carries a 50xxxx code, valid only from 1997).
    """
    code = number[:6]
    if code in RESIDENCE_PERMIT_CODES or regions.region_exists(code):
        return code
    raise _id_error(
        "region",
        f"address code {code} is not a GB/T 2260 region",
        f"身份证号地址码{code}不是有效的行政区划代码",
    )


def parse_id_number(raw: str, *, today: datetime.date | None = None) -> IdInfo:
    """Validate a resident ID number (居民身份证号码) and read its birth date, sex and address code.

    Checks, in order, with the rule name each failure reports: ``length``, ``format``,
    ``check_digit``, ``birth_date`` (real date, not in the future, not before 1900) and ``region``.
    """
    number = normalize_id_number(raw)
    _check_shape(number)
    _check_digit(number)
    born = _birth_date(number, today or datetime.date.today())
    region_code = _check_region(number)
    sex: Sex = "M" if int(number[16]) % 2 else "F"
    return IdInfo(number=number, birth_date=born, sex=sex, region_code=region_code)


def _declared_sex(sex: str) -> Sex:
    declared = _SEX_ALIASES.get(sex.strip().upper())
    if declared is None:
        raise DomainError("sex", "format", f"sex must be M or F, got {sex!r}", "性别应为男或女")
    return declared


def check_declared(info: IdInfo, *, sex: str, birth_date: datetime.date) -> None:
    """Reject a registration whose declared sex or birth date contradicts the ID number.

    The ID number is authoritative (it is checked against the public security registry); a mismatch
    is a typing error or a borrowed identity, both of which the real-name ledger must stop.
    """
    declared = _declared_sex(sex)
    if declared != info.sex:
        raise DomainError(
            "sex",
            "id_mismatch",
            f"declared sex {declared} does not match the ID number, which says {info.sex}",
            f"性别与身份证号不符（身份证号显示为{'男' if info.sex == 'M' else '女'}）",
        )
    if birth_date != info.birth_date:
        raise DomainError(
            "birth_date",
            "id_mismatch",
            f"declared birth date {birth_date.isoformat()} does not match the ID number, "
            f"which says {info.birth_date.isoformat()}",
            f"出生日期与身份证号不符（身份证号显示为{info.birth_date.isoformat()}）",
        )


def age_on(birth_date: datetime.date, on: datetime.date) -> int:
    """Full years of age on a date; a 29 February birthday falls on 1 March in common years."""
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - before_birthday


def check_working_age(birth_date: datetime.date, on: datetime.date, minimum: int = 16) -> None:
    """Reject employment under the minimum working age (禁止使用童工: 16 under the Labour Law)."""
    age = age_on(birth_date, on)
    if age < minimum:
        raise DomainError(
            "birth_date",
            "min_age",
            f"must be at least {minimum} years old on {on.isoformat()}, is {age}",
            f"用工日期{on.isoformat()}时未满{minimum}周岁（实际{age}岁）",
        )


def _mask(value: str, keep_head: int, keep_tail: int) -> str:
    hidden = len(value) - keep_head - keep_tail
    return value[:keep_head] + "*" * hidden + value[len(value) - keep_tail :]


ADDRESS_CODE_DIGITS = 6


def mask_id_number(number: str) -> str:
    """Display form of an ID number (个人信息去标识化): the address code (地址码) only, e.g. ``460105************``.

    Masked means unrecoverable (API.md): a masked view also shows the household region, the sex and the birth
    month, so nothing after the address code may show. The last four (three sequence digits and the check
    character) with the birth month left about 31 candidates; without them at least 28 × 500 remain.
    Also accepts an already masked value (the ``4601**********1220`` form of older releases, still in stored rows
    and in events kept for replay): only its leading digits, at most the address code, survive. Anything shorter
    than an 18-character number (a first-generation 15-digit card, a typo) is hidden entirely.
    """
    value = normalize_id_number(number)
    if len(value) < 16:
        return "*" * len(value)
    head = value[:ADDRESS_CODE_DIGITS]
    kept = len(head) - len(head.lstrip("0123456789"))  # leading digits only
    return value[:kept] + "*" * (len(value) - kept)


def birth_month(birth: datetime.date | str) -> str:
    """``YYYY-MM``: all of a birth date a masked view may give (API.md "Masked means unrecoverable")."""
    return (birth.isoformat() if isinstance(birth, datetime.date) else str(birth))[:7]


def masked_worker(row: dict[str, Any]) -> dict[str, Any]:
    """The masked view of a worker row: what every read but the audited reveal gives (API views and exports alike).

    ``birth_date`` becomes ``birth_month`` and the number keeps its address code only, whatever the row holds.
    """
    out = dict(row)
    out["id_number_masked"] = mask_id_number(out["id_number_masked"])
    if "birth_date" in out:
        out["birth_month"] = birth_month(out.pop("birth_date"))
    return out


def masked_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """A history entry's ``{field: [old, new]}`` under the same rule as :func:`masked_worker`."""
    out = dict(changes)
    if "birth_date" in out:
        out["birth_month"] = [None if v is None else birth_month(v) for v in out.pop("birth_date")]
    if "id_number_masked" in out:
        out["id_number_masked"] = [None if v is None else mask_id_number(v) for v in out["id_number_masked"]]
    return out


def _clean_phone(raw: str) -> str:
    if raw.isascii() and raw.isdigit() and not raw.startswith("0086"):  # the usual case: nothing to remove
        return raw
    value = _PHONE_SEPARATORS.sub("", raw.translate(_FULL_WIDTH))
    for prefix in _PHONE_PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def mask_phone(phone: str) -> str:
    """Display form of a phone number: ``138****8000`` for an 11-digit mobile.

    Other lengths keep the last 4 only when at least as many stay hidden, and never more than 3 ahead.
    """
    value = _clean_phone(phone)
    if len(value) >= 11:
        return _mask(value, 3, 4)
    if len(value) >= 8:
        return _mask(value, 0, 4)
    return "*" * len(value)


def validate_phone(raw: str) -> str:
    """A mainland mobile number (手机号) as 11 digits, after removing spaces, dashes and ``+86``."""
    value = _clean_phone(raw)
    if not _MOBILE_RE.fullmatch(value):
        raise DomainError(
            "phone",
            "format",
            "must be a mainland mobile number: 11 digits starting with 13-19",
            "手机号应为以13-19开头的11位数字",
        )
    return value


def validate_uscc(raw: str) -> str:
    """Unified social credit code (统一社会信用代码, GB 32100) of an employer, normalized.

    Rules: ``length`` (18 characters), ``format`` (8 digits then the code alphabet without I, O, S,
    V, Z) and ``check_digit``. Follows python-stdnum, which requires digits in the first two
    positions (registering authority and entity type), i.e. no letter-authority codes such as ``N2``.
    """
    value = _to_ascii(raw).replace("-", "").upper()
    try:
        return str(uscc.validate(value))
    except InvalidLength:
        raise DomainError("uscc", "length", "must be 18 characters", "统一社会信用代码应为18位") from None
    except InvalidChecksum:
        expected = uscc.calc_check_digit(value)
        raise DomainError(
            "uscc",
            "check_digit",
            f"check character should be {expected}",
            f"统一社会信用代码校验位错误，应为{expected}",
        ) from None
    except ValidationError:
        raise DomainError(
            "uscc",
            "format",
            "must be 8 digits followed by 10 digits or capital letters other than I, O, S, V, Z",
            "统一社会信用代码格式错误",
        ) from None
