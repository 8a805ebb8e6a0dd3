"""From what a clerk's spreadsheet cell holds to a clean value — or a ``CellError`` saying, in Chinese, why not.

Cells arrive as openpyxl gives them (``str``, ``int``, ``float``, ``datetime``, ``None``) or as CSV text.
Everything here is pure and fast: it runs once per cell of files with tens of thousands of rows.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel

from schemas.common import Sex, unclean_character

# Full-width ASCII block (FF01-FF5E) → ASCII, as laowu.domain.identity does; plus the ideographic space.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# What copy-paste from web pages and WPS leaves behind, invisible in a cell.
_INVISIBLE = {0x00A0: 0x20, 0x200B: None, 0x200C: None, 0x200D: None, 0x2060: None, 0xFEFF: None}
_CLEAN = _FULL_WIDTH | _INVISIBLE

_SCIENTIFIC = re.compile(r"^[0-9](?:\.[0-9]+)?E\+?[0-9]+$", re.IGNORECASE)
_DATE_YMD = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL_TEXT = re.compile(r"^\d{5}(?:\.\d+)?$")
_REGION = re.compile(r"^(\d{6})(?:\D.*)?$", re.DOTALL)
_LIST_SEPARATORS = re.compile(r"[,，、;；|｜\n]+")
EXCEL_DIGITS = 15  # Excel keeps 15 significant digits of a number; an 18-digit ID number loses the rest

_SEX: dict[str, Sex] = {"男": "M", "女": "F", "男性": "M", "女性": "F", "M": "M", "F": "F", "1": "M", "2": "F",
                        "MALE": "M", "FEMALE": "F"}


class CellError(ValueError):
    """One cell that cannot be read; ``message_zh`` is what the error report shows."""

    def __init__(self, field: str, rule: str, message_zh: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.rule = rule
        self.message_zh = message_zh
        self.message = message


def unclean(value: Any) -> str | None:
    """The first character of a text cell that is not clean text (``schemas.common``, the rule of every door), as
    ``U+XXXX``; None for clean text and for numbers and dates. Line breaks and tabs pass here: a cell may list several
    values one per line, and a one-line field refuses them when its model validates the row."""
    return unclean_character(value, multiline=True) if isinstance(value, str) else None


def unclean_message(label: str, char: str) -> str:
    """What a clerk reads about such a cell."""
    return f"{label}含有不可见或无法保存的字符（{char}），请删除后重新导入"


def clean(value: Any) -> Any:
    """Strings: full-width to ASCII, invisible characters dropped, trimmed; ``""`` becomes ``None``."""
    if isinstance(value, str):
        value = value.translate(_CLEAN).strip()
        return value or None
    return value


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.translate(_CLEAN).strip())


def display(value: Any) -> str:
    """A cell as the clerk saw it, for the error report."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def text(value: Any) -> str | None:
    """Any cell as trimmed text (numbers without a spurious ``.0``)."""
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    return display(value)


def _lost_digits(field: str, label: str) -> CellError:
    return CellError(
        field, "stored_as_number",
        f"{label}被Excel存成了数字，末尾几位已丢失（Excel只保留15位有效数字），请把该列设为文本格式后重新填写",
        f"{field} was stored as a number and lost its last digits (Excel keeps 15 significant digits); "
        "format the column as text and type it again",
    )


def id_number(value: Any) -> tuple[str, str | None]:
    """The ID number cell as text, and a warning when Excel kept it as a number.

    An 18-digit number survives only when the file was written by a program (openpyxl, an export) and not
    typed into Excel: Excel rounds to 15 significant digits, so a number ending in zeros where the last
    three digits should be, a float, or ``4.60105E+17`` text means the real number is gone — refuse, never
    guess (a rounded number passes the check digit one time in eleven and would register someone else).
    """
    value = clean(value)
    if value is None:
        raise CellError("id_number", "missing", "身份证号不能为空", "id_number is required")
    if isinstance(value, bool) or isinstance(value, dt.date):
        raise CellError("id_number", "format", "身份证号格式错误", "id_number must be text")
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 10**EXCEL_DIGITS:
            raise _lost_digits("id_number", "身份证号")
        value = int(value)
    if isinstance(value, int):
        digits = str(value)
        if len(digits) > EXCEL_DIGITS and digits[EXCEL_DIGITS:] == "0" * (len(digits) - EXCEL_DIGITS):
            raise _lost_digits("id_number", "身份证号")
        return digits, "身份证号以数字格式保存，建议把该列设为文本格式（否则Excel会丢掉末尾几位）"
    raw = str(value)
    if _SCIENTIFIC.match("".join(raw.split())):
        raise _lost_digits("id_number", "身份证号")
    return raw, None


def _real_date(year: int, month: int, day: int, raw: str, field: str, label: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError(field, "not_a_date", f"{label}不存在：{raw}", f"{raw} is not a real date") from None


def _bad_date(raw: str, field: str, label: str) -> CellError:
    return CellError(field, "format", f"{label}格式错误：{raw}（应为1990-03-07这样的日期）",
                     f"cannot read {raw!r} as a date; write it like 1990-03-07")


def _serial(value: float, epoch: dt.datetime, field: str, label: str) -> dt.date:
    try:
        converted = from_excel(value, epoch)
    except (ValueError, OverflowError):
        raise _bad_date(display(value), field, label) from None
    if not isinstance(converted, dt.datetime):
        raise _bad_date(display(value), field, label)
    return converted.date()


def date(value: Any, epoch: dt.datetime = CALENDAR_WINDOWS_1900, field: str = "birth_date",
         label: str = "出生日期") -> dt.date:
    """Dates as typed: date cells, Excel serial numbers, 19900307, 1990-03-07, 1990/3/7, 1990.3.7,
    1990年3月7日 (full-width digits too). Ambiguous day-first forms such as 7/3/1990 are refused.

    ``field`` / ``label`` name the cell in errors (the birth date by default)."""
    value = clean(value)
    if value is None:
        raise CellError(field, "missing", f"{label}不能为空", f"{field} is required")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise _bad_date(display(value), field, label)
    if isinstance(value, int | float):
        if float(value).is_integer() and 19000101 <= value <= 21001231:
            compact = str(int(value))
            return _real_date(int(compact[:4]), int(compact[4:6]), int(compact[6:]), compact, field, label)
        if 1 <= value < 100_000:  # Excel day numbers up to the year 2173
            return _serial(float(value), epoch, field, label)
        raise _bad_date(display(value), field, label)
    raw = str(value)
    m = _DATE_YMD.match(raw) or _DATE_COMPACT.match(raw)
    if m:
        return _real_date(int(m[1]), int(m[2]), int(m[3]), raw, field, label)
    if _SERIAL_TEXT.match(raw):
        return _serial(float(raw), epoch, field, label)
    raise _bad_date(raw, field, label)


def sex(value: Any) -> Sex:
    raw = text(value)
    if raw is None:
        raise CellError("sex", "missing", "性别不能为空", "sex is required")
    found = _SEX.get("".join(raw.split()).upper())
    if found is None:
        raise CellError("sex", "format", f"性别应为男或女：{raw}", f"sex must be 男 or 女, got {raw!r}")
    return found


def region(value: Any, field: str = "household_region", label: str = "户籍地") -> str:
    """A six-digit GB/T 2260 code, alone or followed by its name (``460105 秀英区``)."""
    raw = text(value)
    if raw is None:
        raise CellError(field, "missing", f"{label}不能为空", f"{field} is required")
    m = _REGION.match(raw)
    if not m:
        raise CellError(field, "format", f"{label}应为6位行政区划代码：{raw}",
                        f"{field} must be a six-digit GB/T 2260 code, got {raw!r}")
    return m[1]


def phone(value: Any) -> str | None:
    """Phone numbers typed as numbers come back as digits; the domain validates the rest."""
    value = clean(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return None if value is None else str(value)


_YES = frozenset({"是", "Y", "YES", "TRUE", "1", "对", "√", "有"})
_NO = frozenset({"否", "N", "NO", "FALSE", "0", "不是", "×", "无"})


def yes_no(value: Any, field: str, label: str) -> bool | None:
    """是 / 否 (also Y/N, TRUE/FALSE, 1/0, checkbox booleans); ``None`` for a blank cell."""
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    raw = text(value) or ""
    key = "".join(raw.split()).upper()
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise CellError(field, "format", f"{label}应填“是”或“否”：{raw}", f"{field} must be 是 or 否, got {raw!r}")


def split_list(value: Any) -> list[str]:
    """Several values in one cell: 脱贫人口、残疾人 · a,b · a；b · one per line."""
    raw = text(value)
    if raw is None:
        return []
    return [part.strip() for part in _LIST_SEPARATORS.split(raw) if part.strip()]
