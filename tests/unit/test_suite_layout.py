"""pytest imports test modules by basename (rootdir-relative packages aside): two test files of one name in two
folders stop the whole suite at collection ("import file mismatch") — one did, after a merge."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_file_has_a_name_of_its_own() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py") if "artifacts" not in p.parts)
    assert {n for n, k in names.items() if k > 1} == set()
