"""Unit tests for resident ID numbers, phones, credit codes and masking (laowu.domain.identity)."""

from __future__ import annotations

import datetime
import pickle

import pytest
from faker import Faker
from stdnum.cn import ric, uscc

from laowu.domain.errors import DomainError
from laowu.domain.identity import (
    IdInfo,
    age_on,
    check_declared,
    check_working_age,
    mask_id_number,
    mask_phone,
    normalize_id_number,
    parse_id_number,
    validate_phone,
    validate_uscc,
)

TODAY = datetime.date(2026, 2, 1)


def with_check(body: str) -> str:
    """Complete 17 characters with their computed check digit (never trust hand-typed examples)."""
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


def with_uscc_check(body: str) -> str:
    assert len(body) == 17
    return body + uscc.calc_check_digit(body + "0")


# --- DomainError ---------------------------------------------------------------------------------


def test_domain_error_carries_field_rule_and_messages() -> None:
    err = DomainError("id_number", "length", "must be 18 characters", "身份证号应为18位")
    assert isinstance(err, ValueError)
    assert (err.field, err.rule, err.message, err.message_zh) == (
        "id_number",
        "length",
        "must be 18 characters",
        "身份证号应为18位",
    )
    assert str(err) == "id_number: must be 18 characters"
    assert DomainError("phone", "format", "bad").message_zh is None


def test_domain_error_survives_pickling() -> None:
    err = pickle.loads(pickle.dumps(DomainError("uscc", "check_digit", "check character should be L", "zh")))
    assert (err.field, err.rule, err.message, err.message_zh) == ("uscc", "check_digit", "check character should be L", "zh")


# --- known valid numbers -------------------------------------------------------------------------


def test_published_examples_have_the_check_digit_we_compute() -> None:
    assert with_check("36042619910101007") == "360426199101010071"  # stdnum's doctest
    assert with_check("11010519491231002") == "11010519491231002X"  # widely published example
    assert ric.is_valid("360426199101010071")
    assert ric.is_valid("11010519491231002X")


def test_parse_stdnum_doctest_number() -> None:
    info = parse_id_number("360426199101010071", today=TODAY)
    assert info == IdInfo(
        number="360426199101010071",
        birth_date=datetime.date(1991, 1, 1),
        sex="M",
        region_code="360426",
    )


def test_parse_number_with_x_check_digit() -> None:
    info = parse_id_number("11010519491231002X", today=TODAY)
    assert info.birth_date == datetime.date(1949, 12, 31)
    assert info.sex == "F"  # 17th digit 2 is even
    assert info.region_code == "110105"


def test_lower_case_x_is_accepted_and_upper_cased() -> None:
    assert parse_id_number("11010519491231002x", today=TODAY).number == "11010519491231002X"


def test_info_is_frozen() -> None:
    info = parse_id_number("360426199101010071", today=TODAY)
    with pytest.raises(AttributeError):
        info.sex = "F"  # type: ignore[misc]


# --- normalization -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "１１０１０５１９４９１２３１００２ｘ",
        "１１０１０５１９４９１２３１００２Ｘ",
        " 110105 19491231 002x\n",
        "110105\u300019491231\u3000002X",
        "１１０１０５19491231002ｘ",
    ],
)
def test_full_width_and_whitespace_are_normalized(raw: str) -> None:
    assert normalize_id_number(raw) == "11010519491231002X"
    assert parse_id_number(raw, today=TODAY).number == "11010519491231002X"


def test_normalize_does_not_turn_other_digit_forms_into_ascii() -> None:
    # Circled digits are not a typing variant of an ID number; NFKC would have turned them into 1.
    assert normalize_id_number("①") == "①"


# --- region codes --------------------------------------------------------------------------------


def test_chongqing_code_younger_than_its_holder_is_accepted() -> None:
    # Born 1985 in what became Chongqing; 500101's codes only date from 1997.
    number = with_check("50010119850612031")
    assert not ric.is_valid(number)  # stdnum insists the code existed in the birth year...
    with pytest.raises(ric.InvalidComponent):
        ric.validate(number)
    info = parse_id_number(number, today=TODAY)  # ...but real people carry such numbers
    assert info.region_code == "500101"
    assert info.birth_date == datetime.date(1985, 6, 12)
    assert info.sex == "M"


def test_hainan_district_created_after_birth_is_accepted() -> None:
    number = with_check("46010619900307122")  # 龙华区 exists from 2002
    assert not ric.is_valid(number)
    assert parse_id_number(number, today=TODAY).sex == "F"


def test_defunct_region_code_is_accepted() -> None:
    # 110103 崇文区 was merged into 东城区 in 2010; numbers issued there before remain valid.
    assert parse_id_number(with_check("11010319750101001"), today=TODAY).region_code == "110103"


def test_jiayuguan_number_is_accepted() -> None:
    # 620201 is missing from stdnum's table; stdnum even fails with KeyError rather than a
    # ValidationError for an unknown county under a known province.
    number = with_check("62020119800101123")
    with pytest.raises(KeyError):
        ric.validate(number)
    assert parse_id_number(number, today=TODAY).region_code == "620201"


@pytest.mark.parametrize("region", ["999999", "990000", "460109", "000000"])
def test_region_that_never_existed_is_rejected(region: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_id_number(with_check(region + "19900101123"), today=TODAY)
    assert caught.value.field == "id_number"
    assert caught.value.rule == "region"
    assert region in caught.value.message


@pytest.mark.parametrize("code", ["810000", "820000", "830000"])
def test_hong_kong_macao_taiwan_residence_permit_numbers_are_accepted(code: str) -> None:
    assert parse_id_number(with_check(code + "19900101123"), today=TODAY).region_code == code


# --- check digit ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ("36042619910101007", "2"),
        ("11010519491231002", "0"),
        ("36042619910101007", "X"),
        ("50010119850612031", "9"),
    ],
)
def test_wrong_check_digit_names_the_right_one(body: str, wrong: str) -> None:
    expected = with_check(body)[-1]
    assert wrong != expected
    with pytest.raises(DomainError) as caught:
        parse_id_number(body + wrong, today=TODAY)
    err = caught.value
    assert (err.field, err.rule) == ("id_number", "check_digit")
    assert err.message == f"check digit should be {expected}"
    assert err.message_zh == f"身份证号校验位错误，应为{expected}"


def test_x_check_digit_message() -> None:
    with pytest.raises(DomainError) as caught:
        parse_id_number("110105194912310020", today=TODAY)
    assert caught.value.message == "check digit should be X"


# --- length and format ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "36042619910101007", "3604261991010100711", "360426910101007"])
def test_wrong_length(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_id_number(raw, today=TODAY)
    assert (caught.value.field, caught.value.rule) == ("id_number", "length")
    assert caught.value.message == "must be 18 characters"


@pytest.mark.parametrize(
    "raw",
    ["36042619910101007A", "3604261991O101007X", "X60426199101010071", "36042619910101007-"],
)
def test_wrong_format(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_id_number(raw, today=TODAY)
    assert caught.value.rule == "format"


# --- birth date ----------------------------------------------------------------------------------


@pytest.mark.parametrize("date_code", ["19900230", "19900001", "19901301", "19900431", "19000229"])
def test_impossible_birth_date(date_code: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_id_number(with_check("110101" + date_code + "123"), today=TODAY)
    assert (caught.value.field, caught.value.rule) == ("id_number", "birth_date")
    assert date_code in caught.value.message


def test_leap_day_birth_date_is_real() -> None:
    info = parse_id_number(with_check("11010120000229123"), today=TODAY)
    assert info.birth_date == datetime.date(2000, 2, 29)


def test_future_birth_date() -> None:
    number = with_check("11010120260202123")
    with pytest.raises(DomainError) as caught:
        parse_id_number(number, today=TODAY)
    assert caught.value.rule == "birth_date"
    assert "future" in caught.value.message
    # Born today is not the future.
    assert parse_id_number(number, today=datetime.date(2026, 2, 2)).birth_date == datetime.date(2026, 2, 2)


def test_future_birth_date_against_the_real_clock() -> None:
    with pytest.raises(DomainError) as caught:
        parse_id_number(with_check("11010120990101123"))
    assert caught.value.rule == "birth_date"


def test_birth_before_1900() -> None:
    with pytest.raises(DomainError) as caught:
        parse_id_number(with_check("11010118991231123"), today=TODAY)
    assert caught.value.rule == "birth_date"
    assert "1900" in caught.value.message
    assert parse_id_number(with_check("11010119000101123"), today=TODAY).birth_date.year == 1900


def test_check_digit_is_checked_before_birth_date() -> None:
    body = "11010119900230123"
    wrong = "0" if with_check(body)[-1] != "0" else "1"
    with pytest.raises(DomainError) as caught:
        parse_id_number(body + wrong, today=TODAY)
    assert caught.value.rule == "check_digit"


# --- sex -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("digit", "sex"), [(str(d), "M" if d % 2 else "F") for d in range(10)])
def test_sex_follows_the_17th_digit(digit: str, sex: str) -> None:
    assert parse_id_number(with_check("1101011990010112" + digit), today=TODAY).sex == sex


# --- declared data -------------------------------------------------------------------------------


def test_declared_data_matching_the_number_passes() -> None:
    info = parse_id_number("11010519491231002X", today=TODAY)
    check_declared(info, sex="F", birth_date=datetime.date(1949, 12, 31))
    check_declared(info, sex="女", birth_date=datetime.date(1949, 12, 31))
    check_declared(info, sex=" f ", birth_date=datetime.date(1949, 12, 31))


def test_declared_sex_mismatch() -> None:
    info = parse_id_number("11010519491231002X", today=TODAY)
    with pytest.raises(DomainError) as caught:
        check_declared(info, sex="M", birth_date=datetime.date(1949, 12, 31))
    err = caught.value
    assert (err.field, err.rule) == ("sex", "id_mismatch")
    assert "does not match the ID number" in err.message
    assert err.message_zh == "性别与身份证号不符（身份证号显示为女）"


def test_declared_birth_date_mismatch() -> None:
    info = parse_id_number("360426199101010071", today=TODAY)
    with pytest.raises(DomainError) as caught:
        check_declared(info, sex="男", birth_date=datetime.date(1991, 10, 1))
    err = caught.value
    assert (err.field, err.rule) == ("birth_date", "id_mismatch")
    assert "1991-10-01" in err.message and "1991-01-01" in err.message


def test_unrecognised_declared_sex() -> None:
    info = parse_id_number("360426199101010071", today=TODAY)
    with pytest.raises(DomainError) as caught:
        check_declared(info, sex="unknown", birth_date=info.birth_date)
    assert (caught.value.field, caught.value.rule) == ("sex", "format")


# --- working age ---------------------------------------------------------------------------------


def test_under_16_is_rejected() -> None:
    with pytest.raises(DomainError) as caught:
        check_working_age(datetime.date(2010, 3, 1), datetime.date(2026, 2, 28))
    err = caught.value
    assert (err.field, err.rule) == ("birth_date", "min_age")
    assert "16" in err.message


def test_16th_birthday_is_old_enough() -> None:
    check_working_age(datetime.date(2010, 3, 1), datetime.date(2026, 3, 1))


def test_custom_minimum_age() -> None:
    check_working_age(datetime.date(2000, 1, 1), datetime.date(2026, 1, 1), minimum=18)
    with pytest.raises(DomainError):
        check_working_age(datetime.date(2008, 1, 2), datetime.date(2026, 1, 1), minimum=18)


def test_leap_day_birthday_counts_from_1_march_in_common_years() -> None:
    born = datetime.date(2008, 2, 29)
    assert age_on(born, datetime.date(2024, 2, 28)) == 15
    assert age_on(born, datetime.date(2024, 2, 29)) == 16
    assert age_on(born, datetime.date(2025, 2, 28)) == 16
    assert age_on(datetime.date(2009, 2, 28), datetime.date(2025, 2, 28)) == 16
    with pytest.raises(DomainError):
        check_working_age(datetime.date(2010, 2, 28), datetime.date(2026, 2, 27))


# --- masking -------------------------------------------------------------------------------------


def test_mask_id_number() -> None:
    number = with_check("46010619900307122")
    # The address code only: with the birth month and sex a view also shows, the last four would leave ~31 numbers.
    assert mask_id_number(number) == "460106" + "*" * 12
    assert mask_id_number("11010519491231002x") == "110105" + "*" * 12
    assert mask_id_number("１１０１０５１９４９１２３１００２ｘ") == "110105" + "*" * 12


def test_mask_id_number_other_lengths_hide_everything() -> None:
    assert mask_id_number("110105491231002") == "*" * 15  # first-generation 15-digit card
    assert mask_id_number("1234") == "****"
    assert mask_id_number("") == ""


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+86 138 0013 8000", "138****8000"),
        ("138-0013-8000", "138****8000"),
        ("010-12345678", "010****5678"),
        ("12345678", "****5678"),
        ("1234567", "*******"),
        ("", ""),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


# --- phone ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        " 138 0013 8000 ",
        "+8613800138000",
        "+86 138-0013-8000",
        "0086 13800138000",
        "１３８００１３８０００",
    ],
)
def test_valid_phone(raw: str) -> None:
    assert validate_phone(raw) == "13800138000"


@pytest.mark.parametrize("first_two", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix(first_two: str) -> None:
    assert validate_phone(first_two + "912345678") == first_two + "912345678"


@pytest.mark.parametrize(
    "raw",
    ["", "12800138000", "1380013800", "138001380001", "23800138000", "010-12345678", "1380013800a", "+8513800138000"],
)
def test_invalid_phone(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        validate_phone(raw)
    assert (caught.value.field, caught.value.rule) == ("phone", "format")


# --- unified social credit code ------------------------------------------------------------------

KNOWN_USCCS = [
    "91110000600037341L",  # stdnum's doctest
    "91440300708461136T",
    "9144030071526726XG",
]


@pytest.mark.parametrize("code", KNOWN_USCCS)
def test_known_uscc_is_valid(code: str) -> None:
    assert uscc.is_valid(code)
    assert validate_uscc(code) == code


@pytest.mark.parametrize(
    "body",
    ["91460100MA5T000A0", "92500101MA60000B1", "93460106MA5TXYQ8K", "11100000000013127", "52460000MJP000000"],
)
def test_generated_uscc_is_valid(body: str) -> None:
    code = with_uscc_check(body)
    assert uscc.is_valid(code)
    assert validate_uscc(code) == code


def test_uscc_is_normalized() -> None:
    assert validate_uscc(" 9144 0300 7084-6113 6t ") == "91440300708461136T"
    assert validate_uscc("９１１１００００６０００３７３４１Ｌ") == "91110000600037341L"


def test_wrong_uscc_check_character_names_the_right_one() -> None:
    with pytest.raises(DomainError) as caught:
        validate_uscc("91110000600037341M")
    err = caught.value
    assert (err.field, err.rule) == ("uscc", "check_digit")
    assert err.message == "check character should be L"
    assert err.message_zh == "统一社会信用代码校验位错误，应为L"


@pytest.mark.parametrize("code", ["", "12345", "91110000600037341", "91110000600037341LL"])
def test_uscc_wrong_length(code: str) -> None:
    with pytest.raises(DomainError) as caught:
        validate_uscc(code)
    assert (caught.value.field, caught.value.rule) == ("uscc", "length")


@pytest.mark.parametrize(
    "code",
    ["A1110000600037341L", "9111000060003734IL", "911100006000373O1L", "9111000X600037341L", "91110000600037341Z"],
)
def test_uscc_wrong_format(code: str) -> None:
    with pytest.raises(DomainError) as caught:
        validate_uscc(code)
    assert (caught.value.field, caught.value.rule) == ("uscc", "format")


# --- generated population ------------------------------------------------------------------------


def test_faker_zh_cn_numbers_are_all_accepted() -> None:
    fake = Faker("zh_CN")
    fake.seed_instance(20260201)
    numbers = [fake.ssn() for _ in range(200)]
    assert len(set(numbers)) > 190
    for number in numbers:
        info = parse_id_number(number)
        assert info.number == number
        assert info.birth_date.isoformat().replace("-", "") == number[6:14]
    # Faker pairs current address codes with old birth dates, which stdnum's validate rejects.
    assert sum(not _stdnum_accepts(n) for n in numbers) > 0


def _stdnum_accepts(number: str) -> bool:
    try:
        return ric.is_valid(number)
    except KeyError:  # stdnum's failure mode for an unknown county under a known province
        return False
