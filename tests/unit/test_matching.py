"""The shortlist's order (``laowu.domain.matching``), held by a randomized property test with a fixed seed over
many cases (hypothesis is not in the dev extras): the score is the weights of the aspects that fit, every aspect is
either a fit or a miss, and ``rank`` returns the stated order — priority groups first while reserved posts are open,
then the score, then more aspects fitting, then earlier availability, then the worker id."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from typing import Any

from laowu.domain import matching

OCCUPATIONS = ["4-03-02-01", "6-28-01-01", "4-07-99-00"]
REGIONS = ["440305", "440300", "440000", "460000", "469005", "500101"]


def random_worker(rng: random.Random, n: int) -> dict[str, Any]:
    intention: dict[str, Any] | None = None
    if rng.random() < 0.7:
        intention = {"occupations": rng.sample(OCCUPATIONS, rng.randint(0, 2)),
                     "destinations": rng.sample(REGIONS, rng.randint(0, 2))}
        if rng.random() < 0.7:
            intention["min_monthly_wage"] = str(rng.choice([3000, 4500, 6000, 8000, 9000]))
        if rng.random() < 0.5:
            intention["available_from"] = (date(2026, 3, 1) + timedelta(days=rng.randint(0, 60))).isoformat()
    certs = [{"kind": rng.choice(["skill_level", "qualification"]), "name": "中式烹调师",
              "level": rng.choice([None, 1, 2, 3, 4, 5])} for _ in range(rng.randint(0, 2))]
    return {"worker_id": f"w{n:024x}", "occupation_code": rng.choice([*OCCUPATIONS, None]),
            "certificates": certs, "brand_ids": rng.sample(["b1", "b2"], rng.randint(0, 2)),
            "birth_date": date(1960, 1, 1) + timedelta(days=rng.randint(0, 40 * 365)),
            "priority_groups": ["disabled"] if rng.random() < 0.3 else [], "intention": intention}


def random_position(rng: random.Random) -> dict[str, Any]:
    lo = rng.choice([None, 18, 25])
    return {"position_id": "p", "occupation_code": rng.choice(OCCUPATIONS), "wage_max": rng.choice([5000, 8000]),
            "work_region": "440305", "start_date": "2026-04-01", "brand_id": rng.choice([None, "b1"]),
            "age_min": lo, "age_max": None if lo is None else rng.choice([40, 55]),
            "certificates": rng.choice([[], [{"kind": "skill_level", "level": 4}],
                                        [{"kind": "qualification", "name": "烹调"}]])}


def test_rank_holds_its_stated_order_over_many_random_cases() -> None:
    rng = random.Random(19)
    for case in range(400):
        pos = random_position(rng)
        workers = [random_worker(rng, case * 100 + i) for i in range(rng.randint(0, 40))]
        reserved = rng.random() < 0.5
        limit = rng.randint(1, 50)
        ranked = matching.rank(workers, pos, reserved, limit)
        everyone = [matching.judge(w, pos) for w in workers]
        assert len(ranked) == min(limit, len(workers))
        for m in everyone:
            fits = {r.aspect for r in m.fits}
            assert fits | {r.aspect for r in m.misses} == set(matching.ASPECTS) and not fits & {r.aspect for r in m.misses}
            occ = matching.REGISTERED_OCCUPATION if any(
                r.aspect == "occupation" and "登记职业" in r.text for r in m.fits) else matching.WEIGHTS["occupation"]
            assert m.score == sum(matching.WEIGHTS[a] for a in fits if a != "occupation") + (occ if "occupation" in fits else 0)
        for a, b in itertools.pairwise(ranked):
            first_a, first_b = reserved and a.priority, reserved and b.priority
            assert first_a or not first_b, "a priority-group person after another while reserved posts are open"
            if first_a == first_b:
                assert a.score >= b.score
                if a.score == b.score:
                    assert len(a.fits) >= len(b.fits)
                    if len(a.fits) == len(b.fits):
                        assert (a.available_from or date.min, a.worker_id) < (b.available_from or date.min, b.worker_id)
        # Nobody left out ranks before someone taken: the shortlist is the head of the whole order.
        if ranked and len(ranked) < len(everyone):
            taken = {m.worker_id for m in ranked}
            last = matching.order_key(ranked[-1], reserved)
            assert all(matching.order_key(m, reserved) > last for m in everyone if m.worker_id not in taken)


def test_fitting_more_never_ranks_lower() -> None:
    """Monotone: giving a person what the position asks (the certificate) never moves them down."""
    rng = random.Random(7)
    pos = {"position_id": "p", "occupation_code": OCCUPATIONS[0], "wage_max": 8000, "work_region": "440305",
           "start_date": "2026-04-01", "certificates": [{"kind": "skill_level", "level": 4}]}
    for n in range(300):
        w = random_worker(rng, n)
        better = w | {"certificates": [*w["certificates"], {"kind": "skill_level", "name": "x", "level": 3}]}
        assert matching.judge(better, pos).score >= matching.judge(w, pos).score


def test_levels_count_downwards() -> None:
    """职业技能等级: 一级 is the highest, so a level-3 certificate meets a level-4 requirement and a level-5 does not."""
    pos = {"position_id": "p", "occupation_code": OCCUPATIONS[0], "wage_max": 8000, "work_region": "440305",
           "start_date": "2026-04-01", "certificates": [{"kind": "skill_level", "level": 4}]}
    base = {"worker_id": "w1", "occupation_code": OCCUPATIONS[0], "brand_ids": [], "birth_date": date(1990, 1, 1),
            "priority_groups": [], "intention": None}
    def fits(level: int) -> bool:
        m = matching.judge(base | {"certificates": [{"kind": "skill_level", "name": "x", "level": level}]}, pos)
        return any(r.aspect == "certificate" for r in m.fits)
    assert [fits(level) for level in (1, 2, 3, 4, 5)] == [True, True, True, True, False]


def test_reasons_name_the_brand_and_the_place_as_people_know_them() -> None:
    """A clerk reads 文昌鸡师傅 and 海南省文昌市, not a brand id and a region code; without a name the id stays."""
    worker = {"worker_id": "w1", "occupation_code": "4-03-02-01", "certificates": [], "brand_ids": ["wc"],
              "birth_date": date(1990, 1, 1), "priority_groups": [],
              "intention": {"occupations": ["4-03-02-01"], "destinations": ["460000"]}}
    pos = {"position_id": "p", "occupation_code": "4-03-02-01", "wage_max": 6000, "work_region": "469005",
           "start_date": "2026-04-01", "brand_id": "wc", "brand_name": "文昌鸡师傅", "age_min": None, "age_max": None}
    fits = {r.aspect: r.text for r in matching.judge(worker, pos).fits}
    assert fits["brand"] == "属于优先品牌 文昌鸡师傅"
    assert fits["destination"] == "意向地含工作地 海南省文昌市"
    other = {**worker, "brand_ids": [], "intention": {"occupations": ["4-03-02-01"], "destinations": ["440000"]}}
    misses = {r.aspect: r.text for r in matching.judge(other, {**pos, "brand_name": None}).misses}
    assert misses["brand"] == "不属于优先品牌 wc"
    assert misses["destination"] == "意向地不含工作地 海南省文昌市"
