"""No actor means nothing: a caller that names no viewer is shown nothing and may send nothing; the system reads
everything only when it says so (``scope.SYSTEM``)."""

from __future__ import annotations

import pytest

from api.scoping import envelope_problem
from laowu import reports
from laowu.intake import Context, Intake
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.store.scope import SYSTEM, placement_clause, region_codes, worker_clause
from schemas.api import BrandCreate
from schemas.common import Actor

ADMIN = Actor(role="admin", org="laowu-ops")


@pytest.mark.parametrize("reach", ["view", "act", "jurisdiction"])
def test_no_viewer_sees_no_worker(reach: str) -> None:
    args: list[object] = []
    assert worker_clause(None, args, reach=reach) == "FALSE"  # type: ignore[arg-type]
    assert worker_clause(SYSTEM, args, reach=reach) == worker_clause(ADMIN, args, reach=reach) == "TRUE"  # type: ignore[arg-type]


def test_no_viewer_sees_no_placement_alert_or_subsidy() -> None:
    assert placement_clause(None, []) == "FALSE"
    assert placement_clause(SYSTEM, []) == "TRUE"
    assert region_codes(None, "460000") is None and region_codes(None, None) is None
    assert region_codes(SYSTEM, "460000") == ["460000"] and region_codes(SYSTEM, None) == []


def test_no_actor_may_send_nothing() -> None:
    body = BrandCreate.model_validate({"name": "文昌鸡师傅", "region_code": "469005", "category": "service",
                                       "level": "municipal"})
    env = Intake(Privacy(Settings())).register_brand(body, Context(actor=ADMIN))
    assert envelope_problem(ADMIN, env) is None
    assert envelope_problem(None, env) is not None


def test_statistics_without_an_actor_answer_for_no_region() -> None:
    for region in ("460000", None):
        with pytest.raises(reports.OutOfSight):  # the API renders it 404 (tests/unit/test_api_errors.py)
            reports.jurisdiction(None, region)
