"""Every event contract round-trips (model → JSON → model); unknown types and versions are refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.envelope import Envelope
from schemas.events import PAYLOADS, SCHEMA_VERSIONS
from schemas.topics import CATALOGUE, topic_for

W = "w" + "a" * 24
EVALUATION = {"level": "provincial", "region_rule": "460000", "rules_version": "2026.1", "met": False,
              "failed": ["members"], "criteria": [{"figure": "members", "label": "从业人数", "bound": "min",
                                                   "threshold": "200", "value": "3", "met": False}],
              "figures": {"members": 3, "trained": 1, "certified": 1, "placed": 2, "retention_3m_due": 2,
                          "retention_3m_kept": 1, "retention_6m_due": 0, "retention_6m_kept": 0, "wage_sum": "9000.00",
                          "wage_count": 2, "wage_arrears_alerts": 0, "injury_alerts": 0, "satisfaction_sum": 9,
                          "satisfaction_count": 2}}
SAMPLES: dict[str, dict[str, Any]] = {
    "brand.registered": {"brand_id": "yesao", "name": "椰嫂", "region_code": "460000", "category": "service",
                         "level": "provincial", "operator": {"name": "海南省家政协会", "kind": "industry_association",
                                                             "uscc": "91440300708461136T"}},
    "brand.updated": {"brand_id": "yesao", "integrity_rating": "A", "level": "national"},
    "brand.status_changed": {"brand_id": "yesao", "status": "listed", "reason": "入库评审通过"},
    "worker.registered": {"worker_id": W, "id_number_enc": "enc1:k1:AAAA", "id_number_masked": "4601**********1220",
                          "name": "王小梅", "sex": "F", "birth_date": "1990-03-07", "phone_enc": "enc1:k1:BBBB",
                          "phone_masked": "138****8000", "household_region": "460105", "workstation_id": "ws-1",
                          "brand_ids": ["yesao"], "priority_groups": ["poverty_alleviated"], "occupation_code": "4-10-01-01"},
    "worker.updated": {"worker_id": W, "name": "王晓梅", "household_region": "460106"},
    "worker.household_moved": {"worker_id": W, "from_region": "460105", "household_region": "460106",
                               "reason": "婚嫁迁入"},
    "worker.certificate_added": {"worker_id": W, "certificate": {"kind": "skill_level", "name": "育婴员", "level": 4}},
    "worker.training_completed": {"worker_id": W, "training": {"name": "家政服务培训", "hours": 40,
                                                               "completed_on": "2026-03-01"}},
    "worker.brand_joined": {"worker_id": W, "brand_id": "yesao"},
    "worker.brand_left": {"worker_id": W, "brand_id": "yesao", "reason": "转行从事物流"},
    "agreement.signed": {"agreement_id": "hn-sz-2026", "name": "琼深劳务协作", "origin_region": "460000",
                         "destination_region": "440300", "origin_bureau_id": "bureau-460000",
                         "destination_bureau_id": "bureau-440300", "start_date": "2026-01-01",
                         "end_date": "2026-12-31", "target_headcount": 500, "brand_ids": ["yesao"]},
    "agreement.updated": {"agreement_id": "hn-sz-2026", "target_headcount": 800},
    "agreement.ended": {"agreement_id": "hn-sz-2026", "end_date": "2026-09-30", "reason": "双方协商提前终止"},
    "dispatch.created": {"dispatch_id": "d-1", "organizer_id": "ws-1", "brand_id": "yesao", "mode": "cooperation",
                         "origin_region": "460105", "destination_region": "440300",
                         "employer": {"employer_id": "emp-1", "name": "某公司"}, "departure_date": "2026-03-01",
                         "group_transport": True, "placements": [{"worker_id": W, "placement_id": "pl-1"}]},
    "placement.confirmed": {"placement_id": "pl-1", "worker_id": W, "employer_id": "emp-1", "position": "保洁",
                            "start_date": "2026-03-03", "monthly_wage": "5200.50", "contract": True, "contract_months": 12},
    "placement.rejected": {"placement_id": "pl-1", "worker_id": W, "employer_id": "emp-1", "reason": "未到岗"},
    "placement.ended": {"placement_id": "pl-1", "worker_id": W, "end_date": "2026-06-03", "reason": "returned_home"},
    "followup.recorded": {"followup_id": "fu-1", "placement_id": "pl-1", "worker_id": W, "date": "2026-03-20",
                          "channel": "visit", "employment_status": "on_job", "monthly_wage": "5200", "satisfaction": 5,
                          "problems": ["wage_arrears"], "services": ["法律援助转介"]},
    "ledger.changed": {"entity": "worker", "entity_id": W, "cause_event_id": str(uuid.uuid4()),
                       "cause_type": "worker.registered", "regions": ["460105"], "before": None,
                       "after": {"state": "registered"}},
    "stats.updated": {"scope": "region", "scope_id": "460000", "figures": {"registered": 3}},
    "alert.raised": {"alert_id": "followup_overdue:pl-1", "kind": "followup_overdue", "worker_id": W,
                     "placement_id": "pl-1", "regions": ["460105"], "due_at": "2026-04-02"},
    "alert.closed": {"alert_id": "followup_overdue:pl-1", "kind": "followup_overdue", "worker_id": W},
    "subsidy.accrued": {"kind": "transport", "worker_id": W, "organization_id": "ws-1", "placement_id": "pl-1",
                        "amount": "500.00", "rule_version": "2026.1-hainan"},
    # alert casework (issue 20)
    "alert.assigned": {"alert_id": "wage_arrears:pl-1:fu-1", "assignee": "ws-clerk", "team": "ws-1", "note": "请核实"},
    "alert.acknowledged": {"alert_id": "wage_arrears:pl-1:fu-1"},
    "alert.worked": {"alert_id": "wage_arrears:pl-1:fu-1", "action": "labor_inspection", "note": "已转劳动监察大队"},
    "alert.resolved": {"alert_id": "wage_arrears:pl-1:fu-1", "outcome": "resolved", "note": "工资已结清"},
    "alert.reopened": {"alert_id": "wage_arrears:pl-1:fu-1", "reason": "再次欠薪"},
    "alert.escalated": {"alert_id": "wage_arrears:pl-1:fu-1", "kind": "wage_arrears", "worker_id": W,
                        "regions": ["460105"], "escalated_to": "460100", "rule_version": "2026-12"},
    # brand dynamic management (issue 21)
    "brand.application_submitted": {"brand_id": "yesao", "application_id": "app-1", "kind": "entry",
                                    "target_level": "provincial", "evaluation": EVALUATION, "note": "首次申报"},
    "brand.reviewers_assigned": {"brand_id": "yesao", "application_id": "app-1", "reviewers": ["expert-li"]},
    "brand.review_scored": {"brand_id": "yesao", "application_id": "app-1", "reviewer": "expert-li",
                            "scores": [{"item": "scale", "score": 20}], "comment": "带动就业明显"},
    "brand.application_decided": {"brand_id": "yesao", "application_id": "app-1", "reason": "专家评审"},
    "brand.recheck_decided": {"brand_id": "yesao", "year": 2026, "proposal": "suspend", "reasons": ["稳岗率低"],
                              "evaluation": EVALUATION, "integrity_grade": "B", "decision": "suspend",
                              "reason": "稳岗率下降，暂停一年整改"},
    "brand.complaint_recorded": {"brand_id": "yesao", "complaint_id": "c-1", "kind": "dispute",
                                 "summary": "工资争议", "substantiated": True},
    "brand.person_named": {"brand_id": "yesao", "person_id": "p-1", "title": "founder", "name": "符阿姨",
                           "phone_enc": "enc1:k1:CCCC", "phone_masked": "138****8000", "story": "椰嫂品牌创立人"},
    # issue 19
    "demand.posted": {"demand_id": "dmd-1", "employer": {"employer_id": "emp-1", "name": "深圳某酒店"},
                      "title": "客房服务员", "closing_date": "2026-04-30", "origin_regions": ["460000"],
                      "contact": {"name": "人事部 李女士"},
                      "positions": [{"position_id": "p1", "title": "客房服务员", "occupation_code": "4-03-02-01",
                                     "headcount": 5, "wage_min": "4500.00", "wage_max": "6000.00",
                                     "work_region": "440305", "start_date": "2026-05-01", "reserved_posts": 2,
                                     "certificates": [{"kind": "skill_level", "level": 4}]}]},
    "demand.closed": {"demand_id": "dmd-1", "employer_id": "emp-1", "reason": "已招满"},
    "worker.intention_recorded": {"worker_id": W, "occupations": ["4-03-02-01"], "destinations": ["440300"],
                                  "min_monthly_wage": "4500.00", "available_from": "2026-04-01",
                                  "not_working_reason": "no_suitable_job"},
    # organizations and the subsidy workflow (issue 21)
    "organization.registered": {"org_id": "broker-1", "kind": "labour_broker", "name": "符大姐", "region_code": "469005",
                                "id_number_enc": "enc1:k1:AAAA", "id_number_masked": "469005************"},
    "organization.verified": {"org_id": "broker-1", "region_code": "469005", "status": "verified", "reason": "材料齐全"},
    "subsidy.applied": {"subsidy_id": "transport:pl-1", "origin_region": "469005", "applicant_id": "ws-1"},
    "subsidy.reviewed": {"subsidy_id": "transport:pl-1", "origin_region": "469005", "reviewer_id": "hrss-460000",
                         "decision": "approved", "reason": "材料齐全", "checked": ["身份", "就业"]},
    "subsidy.noticed": {"subsidy_id": "transport:pl-1", "origin_region": "469005", "notice_id": "gs-2026-01",
                        "start_date": "2026-06-01", "days": 7},
    "subsidy.objection_raised": {"subsidy_id": "transport:pl-1", "origin_region": "469005", "objection_id": "obj-1",
                                 "summary": "并非脱贫人口"},
    "subsidy.objection_decided": {"subsidy_id": "transport:pl-1", "origin_region": "469005", "objection_id": "obj-1",
                                  "upheld": True, "reason": "核实属实"},
    "subsidy.paid": {"subsidy_id": "transport:pl-1", "origin_region": "469005", "paid_on": "2026-06-09",
                     "voucher_number": "PZ-001", "amount": "600.00"},
}


def test_every_event_type_has_a_sample_and_a_topic() -> None:
    assert set(SAMPLES) == set(PAYLOADS)
    for event_type in PAYLOADS:
        assert topic_for(event_type) in CATALOGUE


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_payload_round_trip(event_type: str) -> None:
    model = PAYLOADS[event_type].model_validate(SAMPLES[event_type])
    again = PAYLOADS[event_type].model_validate_json(model.model_dump_json())
    assert again == model


@pytest.mark.parametrize("event_type", sorted(PAYLOADS))
def test_envelope_round_trip(event_type: str) -> None:
    body = PAYLOADS[event_type].model_validate(SAMPLES[event_type])
    env = Envelope.wrap(body, type=event_type, key="k-1", source="ws-1",  # type: ignore[arg-type]
                        occurred_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    back = Envelope.from_bytes(env.to_bytes())
    assert back == env and back.body == body and back.occurred_at == env.occurred_at


def _raw(**changes: Any) -> bytes:
    body = PAYLOADS["worker.brand_joined"].model_validate(SAMPLES["worker.brand_joined"])
    env = json.loads(Envelope.wrap(body, type="worker.brand_joined", key=W, source="ws-1").to_bytes())
    return json.dumps(env | changes).encode()


def test_unknown_type_bad_version_and_bad_payload_are_refused() -> None:
    with pytest.raises(ValidationError, match="type"):
        Envelope.from_bytes(_raw(type="worker.teleported"))
    for version in (0, 2, 99):
        assert version not in SCHEMA_VERSIONS["worker.brand_joined"]
        with pytest.raises(ValidationError, match="unsupported schema_version"):
            Envelope.from_bytes(_raw(schema_version=version))
    with pytest.raises(ValidationError, match="brand_id"):
        Envelope.from_bytes(_raw(payload={"worker_id": W}))
    with pytest.raises(ValidationError, match="Extra inputs"):
        Envelope.from_bytes(_raw(payload={"worker_id": W, "brand_id": "x", "id_number": "460105199003071220"}))
    with pytest.raises(ValidationError, match="timezone"):
        Envelope.from_bytes(_raw(occurred_at="2026-01-01T00:00:00"))


def test_worker_events_are_keyed_by_worker_id_never_an_id_number() -> None:
    from schemas.topics import WORKERS

    assert WORKERS.key == "worker_id"
    assert all(topic_for(t) is WORKERS for t in PAYLOADS if t.startswith(("worker.", "placement.", "followup.")))
