"""The registry of organizations (机构): who dispatches, employs, trains, brokers and is paid subsidies.

Kinds: employers (用人单位), workstations and service stations (劳务工作站 · 服务站), training institutions (培训机构),
industry associations (行业协会), HR service agencies (人力资源服务机构) and labour brokers (劳务经纪人) — a broker is a
firm, named by its unified social credit code (checked by ``stdnum.cn.uscc``), or a person, named by an ID number
that is treated as a worker's is: encrypted, masked, revealed only through the audited reveal.

Dispatches and subsidies name registered organizations. One a dispatch names that is not registered is registered
on first use, on the word of the workstation that sent the dispatch, and flagged for the bureau to verify
(``pending``): never silently taken as verified. The bureau verifies (or rejects or suspends) with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from laowu.domain.outcome import Changes, Rejected

Kind = Literal["employer", "workstation", "service_station", "training_institution", "industry_association",
               "hr_service_agency", "labour_broker"]
KIND_LABELS = {"employer": "用人单位", "workstation": "劳务工作站", "service_station": "服务站",
               "training_institution": "培训机构", "industry_association": "行业协会",
               "hr_service_agency": "人力资源服务机构", "labour_broker": "劳务经纪人"}
Status = Literal["pending", "verified", "rejected", "suspended"]
STATUS_LABELS = {"pending": "待核实", "verified": "已核实", "rejected": "不予认定", "suspended": "暂停"}
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"verified", "rejected"}),
    "verified": frozenset({"suspended"}),
    "suspended": frozenset({"verified"}),
    "rejected": frozenset({"verified"}),
}


@dataclass
class OrganizationRecord:
    org_id: str
    kind: str
    name: str
    region_code: str
    uscc: str | None = None
    id_number_enc: str | None = None
    id_number_masked: str | None = None
    contact_name: str | None = None
    contact_phone_enc: str | None = None
    contact_phone_masked: str | None = None
    status: str = "pending"
    first_use: bool = False
    registered_by: str | None = None
    registered_at: datetime | None = None
    status_reason: str | None = None
    verified_by: str | None = None
    version: int = 0


def register(old: OrganizationRecord | None, p: dict[str, Any], at: datetime, source: str
             ) -> tuple[OrganizationRecord, Changes]:
    """A registration of an id already registered is refused: the registry has one record per organization."""
    if old is not None:
        raise Rejected(f"organization {p['org_id']} is already registered ({old.name}, {old.status})")
    rec = OrganizationRecord(
        org_id=p["org_id"], kind=p["kind"], name=p["name"], region_code=p["region_code"], uscc=p.get("uscc"),
        id_number_enc=p.get("id_number_enc"), id_number_masked=p.get("id_number_masked"),
        contact_name=p.get("contact_name"), contact_phone_enc=p.get("contact_phone_enc"),
        contact_phone_masked=p.get("contact_phone_masked"), status="pending", first_use=bool(p.get("first_use")),
        registered_by=source, registered_at=at)
    return rec, {"status": [None, "pending"], "kind": [None, rec.kind], "name": [None, rec.name]}


def first_use(org_id: str, kind: str, name: str, region_code: str, uscc: str | None, at: datetime, source: str
              ) -> tuple[OrganizationRecord, Changes]:
    """An organization a dispatch names that the registry lacks: registered on the sender's word, pending the
    bureau's verification."""
    rec = OrganizationRecord(org_id=org_id, kind=kind, name=name, region_code=region_code, uscc=uscc,
                             status="pending", first_use=True, registered_by=source, registered_at=at)
    return rec, {"status": [None, "pending"], "first_use": [None, True], "kind": [None, kind]}


def verify(old: OrganizationRecord | None, p: dict[str, Any], at: datetime, source: str
           ) -> tuple[OrganizationRecord, Changes]:
    """核实: the bureau's verdict on a registration, with a reason."""
    if old is None:
        raise Rejected(f"unknown organization {p['org_id']}")
    to = p["status"]
    if to not in TRANSITIONS.get(old.status, frozenset()):
        raise Rejected(f"organization {old.org_id} is {old.status} and cannot become {to}")
    changes: Changes = {"status": [old.status, to], "reason": [old.status_reason, p["reason"]]}
    old.status, old.status_reason, old.verified_by = to, p["reason"], source
    return old, changes
