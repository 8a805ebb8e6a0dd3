"""The real-name ledger (实名制台账): one record per natural person, however many registrations.

Merging rules (API.md): brand memberships, priority groups, certificates and trainings are unions;
phone and occupation take the value with the newest ``occurred_at`` — event time, not arrival order,
because workstations sync days late. Identity is not merged: a further registration never rewrites the
name or the household region (户籍地) of the first; where it declares others, that is a discrepancy kept
on the record for review (待核实), visible to every jurisdiction that sees the person. The household
region changes only through a household move (户籍迁移), the name only through a correction (PATCH).
Pure code: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from laowu.domain.identity import mask_id_number
from laowu.domain.outcome import Changes, Rejected

# Logical profile fields and the record attributes each one sets together.
PROFILE_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "phone": ("phone_enc", "phone_masked"),
    "household_region": ("household_region",),
    "occupation_code": ("occupation_code",),
}
# What a further registration may not overwrite: it names the person, and the household region decides who
# has jurisdiction over them (a registration in another province must not take a person over).
IDENTITY_FIELDS = ("name", "household_region")
# What a profile correction (worker.updated) may change; the household region has its own event.
CORRECTABLE = ("name", "phone", "occupation_code")


DERIVED_FIELDS = frozenset({"last_followup_at"})
"""``WorkerRecord`` fields read from other records rather than stored with the worker."""


@dataclass
class WorkerRecord:
    worker_id: str
    id_number_enc: str
    id_number_masked: str
    name: str
    sex: str
    birth_date: date
    household_region: str
    registered_at: datetime
    phone_enc: str | None = None
    phone_masked: str | None = None
    occupation_code: str | None = None
    brand_ids: list[str] = field(default_factory=list)
    priority_groups: list[str] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    trainings: list[dict[str, Any]] = field(default_factory=list)
    workstation_ids: list[str] = field(default_factory=list)
    state: str = "registered"
    current_placement_id: str | None = None
    last_followup_at: str | None = None
    """最近跟踪服务: the newest follow-up date of the worker's placements (ISO day). Derived on read from the
    placements, never stored: a follow-up is the placement's record, and storing it here made every follow-up
    lock and rewrite the worker."""
    field_times: dict[str, str] = field(default_factory=dict)
    discrepancies: list[dict[str, Any]] = field(default_factory=list)
    version: int = 0
    intention: dict[str, Any] | None = None
    """求职意向 (and 未就业原因) as last stated (``field_times["intention"]``: when)."""


def _union(current: list[Any], extra: list[Any], changes: Changes, name: str) -> list[Any]:
    merged = list(current)
    for item in extra:
        if item not in merged:
            merged.append(item)
    if merged != current:
        changes[name] = [list(current), merged]
    return merged


def _visible(attr: str, value: Any) -> Any:
    """History shows what changed without copying ciphertexts around."""
    return None if attr.endswith("_enc") else value


def _newest_wins(rec: WorkerRecord, values: dict[str, Any], at: datetime, changes: Changes,
                 fields: tuple[str, ...]) -> None:
    stamp = at.isoformat()
    for logical in fields:
        attrs = PROFILE_FIELDS[logical]
        if attrs[0] not in values:
            continue
        previous = rec.field_times.get(logical)
        if previous is not None and datetime.fromisoformat(previous) > at:
            continue  # an older event arrived late: the newer value stands
        rec.field_times[logical] = stamp
        for attr in attrs:
            old, new = getattr(rec, attr), values.get(attr)
            if old != new:
                setattr(rec, attr, new)
                if not attr.endswith("_enc"):
                    changes[attr] = [_visible(attr, old), _visible(attr, new)]


def register(rec: WorkerRecord | None, p: dict[str, Any], at: datetime) -> tuple[WorkerRecord, Changes]:
    """worker.registered: create the person, or merge a further registration into them."""
    changes: Changes = {}
    if rec is None:
        rec = WorkerRecord(
            worker_id=p["worker_id"],
            id_number_enc=p["id_number_enc"],
            id_number_masked=mask_id_number(p["id_number_masked"]),
            name=p["name"],
            sex=p["sex"],
            birth_date=date.fromisoformat(p["birth_date"]) if isinstance(p["birth_date"], str) else p["birth_date"],
            household_region=p["household_region"],
            registered_at=at,
            phone_enc=p.get("phone_enc"),
            phone_masked=p.get("phone_masked"),
            occupation_code=p.get("occupation_code"),
            field_times={k: at.isoformat() for k, attrs in PROFILE_FIELDS.items() if p.get(attrs[0]) is not None},
        )
        changes["created"] = [None, True]
        for name in ("name", "sex", "household_region", "phone_masked", "occupation_code"):
            if getattr(rec, name) is not None:
                changes[name] = [None, getattr(rec, name)]
        changes["birth_date"] = [None, rec.birth_date.isoformat()]
    else:
        if at < rec.registered_at:
            changes["registered_at"] = [rec.registered_at.isoformat(), at.isoformat()]
            rec.registered_at = at
        present = {a: p.get(a) for attrs in PROFILE_FIELDS.values() for a in attrs if p.get(attrs[0]) is not None}
        _newest_wins(rec, present, at, changes, ("phone", "occupation_code"))
        _discrepancies(rec, p, at, changes)
    rec.brand_ids = _union(rec.brand_ids, p.get("brand_ids", []), changes, "brand_ids")
    rec.priority_groups = _union(rec.priority_groups, p.get("priority_groups", []), changes, "priority_groups")
    rec.workstation_ids = _union(rec.workstation_ids, [p["workstation_id"]], changes, "workstation_ids")
    if p.get("intention") is not None:
        _state_intention(rec, p["intention"], at, changes)
    return rec, changes


def _discrepancies(rec: WorkerRecord, p: dict[str, Any], at: datetime, changes: Changes) -> None:
    """A further registration that declares another name or household region: kept for review, not applied."""
    found = []
    for name in IDENTITY_FIELDS:
        declared = p.get(name)
        if declared is None or declared == getattr(rec, name):
            continue
        entry = {"field": name, "recorded": getattr(rec, name), "declared": declared,
                 "workstation_id": p["workstation_id"], "occurred_at": at.isoformat()}
        if entry not in rec.discrepancies:
            found.append(entry)
    if found:
        rec.discrepancies = [*rec.discrepancies, *found]
        changes["discrepancies"] = [None, found]


def _existing(rec: WorkerRecord | None) -> WorkerRecord:
    if rec is None:
        raise Rejected("unknown worker: no registration has been applied for this worker_id")
    return rec


def update(rec: WorkerRecord | None, p: dict[str, Any], at: datetime) -> tuple[WorkerRecord, Changes]:
    """worker.updated: a profile correction; each field newest-wins on its own.

    ``household_region`` is refused (events of older releases still carry it): it changes only by a household
    move, :func:`move_household`, so that the API, the batch door and a producer on the topic agree.
    """
    rec = _existing(rec)
    if p.get("household_region") is not None:
        raise Rejected("household_region changes only through a household move (worker.household_moved)")
    changes: Changes = {}
    present = {a: p.get(a) for attrs in PROFILE_FIELDS.values() for a in attrs if attrs[0] in p}
    _newest_wins(rec, present, at, changes, CORRECTABLE)
    if "priority_groups" in p:
        previous = rec.field_times.get("priority_groups")
        if previous is None or datetime.fromisoformat(previous) <= at:
            rec.field_times["priority_groups"] = at.isoformat()
            if sorted(p["priority_groups"]) != sorted(rec.priority_groups):
                changes["priority_groups"] = [rec.priority_groups, list(p["priority_groups"])]
                rec.priority_groups = list(p["priority_groups"])
    return rec, changes


def add_certificate(rec: WorkerRecord | None, p: dict[str, Any], at: datetime) -> tuple[WorkerRecord, Changes]:
    rec = _existing(rec)
    changes: Changes = {}
    rec.certificates = _union(rec.certificates, [p["certificate"]], changes, "certificates")
    return rec, changes


def complete_training(rec: WorkerRecord | None, p: dict[str, Any], at: datetime) -> tuple[WorkerRecord, Changes]:
    rec = _existing(rec)
    changes: Changes = {}
    rec.trainings = _union(rec.trainings, [p["training"]], changes, "trainings")
    return rec, changes


def _left_at(rec: WorkerRecord, brand_id: str) -> str | None:
    return rec.field_times.get(f"brand_left:{brand_id}")


def join_brand(rec: WorkerRecord | None, p: dict[str, Any], at: datetime) -> tuple[WorkerRecord, Changes]:
    """A join older than the worker's leaving of the same brand (an offline sync) stays history: event time."""
    rec = _existing(rec)
    changes: Changes = {}
    left = _left_at(rec, p["brand_id"])
    if left is None or datetime.fromisoformat(left) < at:
        rec.brand_ids = _union(rec.brand_ids, [p["brand_id"]], changes, "brand_ids")
    return rec, changes


def leave_brand(rec: WorkerRecord | None, p: dict[str, Any], at: datetime) -> tuple[WorkerRecord, Changes]:
    """worker.brand_left (退出品牌): leaving a brand needs no open brand, only membership."""
    rec = _existing(rec)
    bid = p["brand_id"]
    if bid not in rec.brand_ids:
        raise Rejected(f"the worker is not a member of brand {bid}")
    changes: Changes = {"brand_ids": [list(rec.brand_ids), [b for b in rec.brand_ids if b != bid]],
                        "reason": [None, p["reason"]]}
    rec.brand_ids = changes["brand_ids"][1]
    rec.field_times[f"brand_left:{bid}"] = at.isoformat()
    return rec, changes


def move_household(rec: WorkerRecord | None, p: dict[str, Any], at: datetime) -> tuple[WorkerRecord, Changes]:
    """worker.household_moved (户籍迁移): the household region changes, with a reason, kept in history.

    ``from_region`` is the region the sender had jurisdiction over when it sent the move (the API checks that);
    if the household moved meanwhile, the sender's jurisdiction is no longer the current one and the move is
    refused rather than applied over the other.
    """
    rec = _existing(rec)
    if p["from_region"] != rec.household_region:
        raise Rejected(f"the household region is {rec.household_region}, not {p['from_region']}: "
                       "it moved meanwhile, and only its current jurisdiction may move it")
    if p["household_region"] == rec.household_region:
        raise Rejected(f"the household region is already {rec.household_region}")
    changes: Changes = {"household_region": [rec.household_region, p["household_region"]], "reason": [None, p["reason"]]}
    rec.household_region = p["household_region"]
    rec.field_times["household_region"] = at.isoformat()
    return rec, changes


# ---- 求职意向 (issue 19) ---------------------------------------------------------------------------------------
INTENTION_FIELDS = ("occupations", "destinations", "min_monthly_wage", "available_from", "training_wanted",
                    "not_working_reason")


def _state_intention(rec: WorkerRecord, given: dict[str, Any], at: datetime, changes: Changes) -> None:
    """An intention replaces the last one as a whole if it is newer in event time; an older one (an offline
    workstation's sync) is history only. Whole, not per field: what a person said at one time belongs together."""
    previous = rec.field_times.get("intention")
    if previous is not None and datetime.fromisoformat(previous) > at:
        changes["intention_superseded"] = [None, previous]
        return
    intention = {k: _plain(given.get(k)) for k in INTENTION_FIELDS if given.get(k) not in (None, [])}
    rec.field_times["intention"] = at.isoformat()
    if intention != rec.intention:
        changes["intention"] = [rec.intention, intention]
        rec.intention = intention


def _plain(value: Any) -> Any:
    """Stored as JSON holds it (dates as text, amounts as strings), so a record reads back as it was written."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value if isinstance(value, (str, int, type(None))) else str(value)


def record_intention(rec: WorkerRecord | None, p: dict[str, Any], at: datetime) -> tuple[WorkerRecord, Changes]:
    """worker.intention_recorded: newest ``occurred_at`` wins."""
    rec = _existing(rec)
    changes: Changes = {}
    _state_intention(rec, p, at, changes)
    return rec, changes
