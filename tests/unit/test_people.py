"""laowu.people: the one generator of synthetic people gives bodies the ledger's own rules accept."""

from __future__ import annotations

from datetime import date

from laowu.domain.identity import id_number_for, parse_id_number
from laowu.people import UNIQUE, person, registration
from schemas.api import WorkerCreate


def test_every_person_is_valid_and_agrees_with_its_number() -> None:
    for n in range(0, UNIQUE, 997):
        body = person(n)
        info = parse_id_number(body["id_number"])
        assert (info.sex, info.birth_date.isoformat(), info.region_code) == (
            body["sex"], body["birth_date"], body["household_region"])
        WorkerCreate.model_validate(body)  # the API's own contract takes it as it is


def test_distinct_counters_are_distinct_people_and_the_same_counter_the_same_person() -> None:
    numbers = [person(n)["id_number"] for n in range(0, UNIQUE, 7)]
    assert len(set(numbers)) == len(numbers)
    assert person(4242, "500229") == person(4242, "500229")
    assert person(4242, "500229")["household_region"] == "500229"


def test_a_registration_reads_sex_birth_and_region_from_the_number() -> None:
    woman = id_number_for("469005", date(1988, 2, 29), 122)
    body = registration(woman, "王小梅", brand_ids=["yesao"])
    assert body == {"id_number": woman, "name": "王小梅", "sex": "F", "birth_date": "1988-02-29",
                    "household_region": "469005", "workstation_id": "ws-469005-01", "brand_ids": ["yesao"]}
    man = id_number_for("460105", date(1990, 3, 7), 123)
    assert registration(man, "李四", workstation="ws-460000-01", phone="13800000000")["sex"] == "M"
    assert "phone" not in person(1, phone=False)
