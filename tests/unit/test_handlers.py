"""The command handlers without services: an in-memory fake of their lookups, every rule's verdict, and the same
verdict through the single-request door and the batch door."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from api import errors as http
from api.routers.events import _BATCH_OPTIONS, _reason
from api.writes import decided
from laowu.application import catalogue
from laowu.application import commands as c
from laowu.application.errors import Conflict, Forbidden, NotFound, Refused
from laowu.application.facts import Facts, gather
from laowu.domain.lifecycle import ONLY_NAMED_EMPLOYER, dispatch_refusal, eligibility, placement_id_for
from laowu.domain.workers import WorkerRecord
from laowu.intake import Context, Intake, InvalidRequest, PlacementRef
from laowu.privacy import Privacy
from laowu.settings import Settings
from laowu.store.queries import NotFound as StoreNotFound
from schemas import api as bodies
from schemas.api import BatchItem
from schemas.common import Actor
from schemas.events import CATALOGUE

from helpers import person

WS = Actor(role="workstation", org="ws-469005-01", region="469005")
BUREAU = Actor(role="bureau", org="hrss-460000", region="460000")
FAR_BUREAU = Actor(role="bureau", org="hrss-440000", region="440000")
EMPLOYER = Actor(role="employer", org="emp-sz", region="440300")
OTHER_EMPLOYER = Actor(role="employer", org="emp-gz", region="440100")
ADMIN = Actor(role="admin", org="ops")
INTAKE = Intake(Privacy(Settings()))
PID = "pl-0001"
REF = PlacementRef(PID, "w" + "a" * 24, EMPLOYER.org, WS.org)
CONFIRM = {"employer_id": EMPLOYER.org, "position": "钢筋工", "start_date": "2026-01-03", "monthly_wage": "7800",
           "contract": True, "contract_months": 12}


@dataclass
class FakeLookups:
    """The ledger and what was accepted, in memory; each lookup is logged (one per kind per request)."""

    brand_status: dict[str, str] = field(default_factory=dict)  # known: applied or accepted
    applied_brands: dict[str, tuple[str, str]] = field(default_factory=dict)  # (status, region)
    pending_senders: dict[str, set[str]] = field(default_factory=dict)  # accepted, not applied: who registered it
    worker_states: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    household_of: dict[str, str] = field(default_factory=dict)
    placement_of: dict[str, PlacementRef] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    async def brand_statuses(self, ids: list[str]) -> dict[str, str]:
        self.calls.append("brand_statuses")
        return {b: self.brand_status[b] for b in ids if b in self.brand_status}

    async def pending_brand_senders(self, ids: list[str]) -> dict[str, set[str]]:
        self.calls.append("pending_brand_senders")
        return {b: self.pending_senders[b] for b in ids if b in self.pending_senders}

    async def ledger_brands(self, ids: list[str]) -> dict[str, tuple[str, str]]:
        self.calls.append("ledger_brands")
        return {b: self.applied_brands[b] for b in ids if b in self.applied_brands}

    async def acting_workers(self, ids: list[str], actor: Actor) -> dict[str, tuple[str, str | None]]:
        self.calls.append("acting_workers")
        return {w: self.worker_states[w] for w in ids if w in self.worker_states}

    async def households(self, ids: list[str], actor: Actor) -> dict[str, str]:
        self.calls.append("households")
        return {w: self.household_of[w] for w in ids if w in self.household_of}

    async def placement_refs(self, ids: list[str], actor: Actor) -> dict[str, PlacementRef]:
        self.calls.append("placement_refs")
        return {p: self.placement_of[p] for p in ids if p in self.placement_of}


def decide(commands: list[c.Command], actor: Actor, lookups: FakeLookups, **options: Any) -> list[Any]:
    """Each command's decision (or the refusal it raised), deciding them in order as one request does."""
    facts = asyncio.run(gather(lookups, commands, actor))
    out: list[Any] = []
    for command in commands:
        try:
            out.append(catalogue.decide(INTAKE, command, facts, Context(actor=actor), **options))
        except (Refused, InvalidRequest) as exc:
            out.append(exc)
    return out


def registration(n: int, **extra: Any) -> c.RegisterWorker:
    return c.RegisterWorker(bodies.WorkerCreate.model_validate(person(n, "469005") | {"workstation_id": WS.org} | extra))


def worker_id(n: int) -> str:
    return INTAKE.privacy.worker_id(person(n, "469005")["id_number"])


def dispatch(workers: list[str], brand_id: str = "qz") -> c.CreateDispatch:
    return c.CreateDispatch(bodies.DispatchCreate.model_validate({
        "dispatch_id": "dsp-1", "organizer_id": WS.org, "brand_id": brand_id, "mode": "directed_interregional",
        "origin_region": "469005", "destination_region": "440300",
        "employer": {"employer_id": EMPLOYER.org, "name": "深圳某建筑公司"}, "departure_date": "2026-01-01",
        "worker_ids": workers}))


def confirm(**body: Any) -> c.ConfirmPlacement:
    return c.ConfirmPlacement(PID, bodies.PlacementConfirm.model_validate(CONFIRM | body))


# ---- the catalogue ------------------------------------------------------------------------------------------------
def test_every_event_a_client_may_send_has_one_entry_and_one_command() -> None:
    sendable = {spec.name for spec in CATALOGUE if spec.senders}
    assert set(catalogue.BY_NAME) == sendable
    assert len(catalogue.BY_COMMAND) == len(catalogue.ENTRIES)
    for entry in catalogue.ENTRIES:
        assert entry.spec.payload is not None and entry.handler.__name__ != "<lambda>"
        if entry.path_field is not None:  # the path id is a field of the event, never of the body
            assert entry.path_field in entry.spec.payload.model_fields
            assert entry.path_field not in entry.body.model_fields


def test_a_batch_item_parses_into_the_single_endpoints_command() -> None:
    item = BatchItem.model_validate({"type": catalogue.name(c.ConfirmPlacement), "payload": {"placement_id": PID,
                                                                                            **CONFIRM}})
    assert catalogue.parse(item) == confirm()
    with pytest.raises(InvalidRequest) as err:
        catalogue.parse(BatchItem.model_validate({"type": catalogue.name(c.EndPlacement), "payload": {}}))
    assert [e.field for e in err.value.errors] == ["payload.placement_id"]
    with pytest.raises(InvalidRequest, match="cannot be sent"):
        catalogue.parse(BatchItem.model_validate({"type": "ledger.changed", "payload": {}}))


def test_one_lookup_per_kind_for_a_whole_batch() -> None:
    lookups = FakeLookups(brand_status={"qz": "listed"})
    commands: list[c.Command] = [registration(n, brand_ids=["qz"]) for n in range(50)]
    commands += [dispatch([worker_id(1), worker_id(2)]), confirm()]
    decide(commands, ADMIN, lookups)
    assert sorted(lookups.calls) == ["acting_workers", "brand_statuses", "placement_refs"]


# ---- brands -------------------------------------------------------------------------------------------------------
def test_a_member_names_a_known_open_brand_and_may_name_one_registered_earlier_in_the_request() -> None:
    brand = c.RegisterBrand(bodies.BrandCreate.model_validate({
        "brand_id": "new", "name": "新品牌", "region_code": "460000", "category": "skilled", "level": "provincial"}))
    lookups = FakeLookups(brand_status={"shut": "suspended"})
    out = decide([registration(1, brand_ids=["nope"]), registration(2, brand_ids=["shut"]), brand,
                  registration(3, brand_ids=["new"])], ADMIN, lookups)
    assert isinstance(out[0], Conflict) and out[0].reason.startswith("unknown brand nope")
    assert isinstance(out[1], Conflict) and out[1].reason == "brand shut is suspended and takes no new members"
    assert [e.field for e in out[1].errors] == ["brand_ids"]
    assert not isinstance(out[3], Exception)


def test_a_brand_change_is_scoped_to_the_brands_region_and_its_transition_checked_once_applied() -> None:
    def status(to: str) -> c.ChangeBrandStatus:
        return c.ChangeBrandStatus("b1", bodies.BrandStatusChange(status=to, reason="评审"))  # type: ignore[arg-type]

    lookups = FakeLookups(brand_status={"b1": "listed"}, applied_brands={"b1": ("listed", "469005")})
    [far] = decide([status("suspended")], FAR_BUREAU, lookups)
    assert isinstance(far, NotFound) and far.reason == "unknown brand b1"
    [illegal, fine] = decide([status("candidate"), status("demonstration")], BUREAU, lookups)
    assert isinstance(illegal, Conflict) and "illegal brand status transition" in illegal.reason
    assert not isinstance(fine, Exception)
    pending = FakeLookups(pending_senders={"b1": {BUREAU.org}})  # accepted, not applied: the ledger decides
    assert not isinstance(decide([status("revoked")], BUREAU, pending)[0], Exception)
    # ... but only its sender may change it: its region, and so anyone else's jurisdiction, is not known yet.
    [other] = decide([status("revoked")], FAR_BUREAU, pending)
    assert isinstance(other, NotFound) and other.reason == "unknown brand b1"
    [never] = decide([status("listed")], BUREAU, FakeLookups())
    assert isinstance(never, NotFound)


# ---- workers ------------------------------------------------------------------------------------------------------
def test_writes_about_a_worker_need_the_worker_in_reach() -> None:
    wid = worker_id(7)
    patch = c.UpdateWorker(wid, bodies.WorkerPatch(name="新名"))
    [unseen] = decide([patch], WS, FakeLookups())
    assert isinstance(unseen, NotFound) and unseen.reason == f"unknown worker {wid}"
    assert not isinstance(decide([patch], WS, FakeLookups(worker_states={wid: ("registered", None)}))[0], Exception)
    # registered earlier in the same request: read-your-writes
    assert not isinstance(decide([registration(7), patch], WS, FakeLookups())[1], Exception)


def test_a_household_move_is_decided_by_the_jurisdiction_of_the_current_region() -> None:
    wid = worker_id(8)
    move = c.MoveHousehold(wid, bodies.HouseholdMove(household_region="460107", reason="婚嫁"))
    [unseen] = decide([move], BUREAU, FakeLookups())
    assert isinstance(unseen, NotFound)
    [elsewhere] = decide([move], FAR_BUREAU, FakeLookups(household_of={wid: "469005"}))
    assert isinstance(elsewhere, Forbidden) and "from_region 469005 is outside your jurisdiction" in elsewhere.reason
    [moved] = decide([move], BUREAU, FakeLookups(household_of={wid: "469005"}))
    assert moved.envelope.payload["from_region"] == "469005"


# ---- dispatch eligibility (one active placement at a time) --------------------------------------------------------
def test_dispatch_eligibility_has_one_wording_for_the_api_the_import_and_the_ledger() -> None:
    busy = WorkerRecord.__new__(WorkerRecord)
    busy.state, busy.current_placement_id = "placed", "pl-9"
    assert dispatch_refusal(busy) == eligibility("placed", "pl-9") == (
        "worker is placed on placement pl-9; one active placement at a time")
    assert dispatch_refusal(None) == eligibility(None, None)
    assert eligibility("separated", None) is None


def test_a_single_request_leaves_out_workers_who_may_not_go_a_batch_item_leaves_it_to_the_ledger() -> None:
    free, busy, unknown = worker_id(1), worker_id(2), worker_id(3)
    lookups = FakeLookups(brand_status={"qz": "listed"},
                          worker_states={free: ("registered", None), busy: ("dispatched", "pl-x")})
    [single] = decide([dispatch([free, busy, unknown])], WS, lookups)
    assert [p["worker_id"] for p in single.envelope.payload["placements"]] == [free]
    assert single.refused == [(busy, eligibility("dispatched", "pl-x")), (unknown, eligibility(None, None))]
    [nobody] = decide([dispatch([busy])], WS, lookups)
    assert isinstance(nobody, Conflict) and nobody.reason == eligibility("dispatched", "pl-x")

    [batch] = decide([dispatch([free, busy])], WS, lookups, **_BATCH_OPTIONS[c.CreateDispatch])
    assert [p["worker_id"] for p in batch.envelope.payload["placements"]] == [free, busy]
    [unseen] = decide([dispatch([free, unknown])], WS, lookups, **_BATCH_OPTIONS[c.CreateDispatch])
    assert isinstance(unseen, NotFound) and unseen.reason == f"unknown worker {unknown}"
    [closed] = decide([dispatch([free], "gone")], WS, FakeLookups(brand_status={"gone": "revoked"}))
    assert isinstance(closed, Conflict) and [e.field for e in closed.errors] == ["brand_id"]


def test_a_placement_of_a_dispatch_earlier_in_the_request_may_be_confirmed() -> None:
    free = worker_id(1)
    lookups = FakeLookups(brand_status={"qz": "listed"}, worker_states={free: ("registered", None)})
    pid = placement_id_for("dsp-1", free)
    follow = c.EndPlacement(pid, bodies.PlacementEnd(end_date=date(2026, 2, 1), reason="resigned"))
    out = decide([dispatch([free]), follow], ADMIN, lookups)
    assert out[1].envelope.payload["placement_id"] == pid


# ---- the named employer ---------------------------------------------------------------------------------------------
def test_only_the_employer_named_on_the_dispatch_confirms() -> None:
    lookups = FakeLookups(placement_of={PID: REF})
    [stranger] = decide([confirm(employer_id=OTHER_EMPLOYER.org)], OTHER_EMPLOYER, lookups)
    assert isinstance(stranger, NotFound) and stranger.reason == f"unknown placement {PID}"
    [claims_another] = decide([confirm(employer_id=OTHER_EMPLOYER.org)], EMPLOYER, lookups)
    assert isinstance(claims_another, Forbidden)
    assert claims_another.reason == f"employer_id must be your own organization ({EMPLOYER.org})"
    # the organizer sees the placement but its word is not the employer's
    organizer = Actor(role="workstation", org=WS.org, region="469005")
    [not_named] = decide([confirm(employer_id=WS.org)], organizer, lookups)
    assert isinstance(not_named, Forbidden) and not_named.reason == ONLY_NAMED_EMPLOYER
    [named] = decide([confirm()], EMPLOYER, lookups)
    assert named.envelope.key == REF.worker_id and named.envelope.source == EMPLOYER.org


# ---- one verdict per rule, whatever the door ----------------------------------------------------------------------
@pytest.mark.parametrize(("actor", "body", "status"), [
    (OTHER_EMPLOYER, {"employer_id": OTHER_EMPLOYER.org}, 404),
    (EMPLOYER, {"employer_id": OTHER_EMPLOYER.org}, 403),
    (Actor(role="workstation", org=WS.org, region="469005"), {"employer_id": WS.org}, 403),
])
def test_a_bad_confirmation_gets_the_same_reason_through_the_single_route_and_the_batch(
    actor: Actor, body: dict[str, Any], status: int
) -> None:
    lookups = FakeLookups(placement_of={PID: REF})
    command = confirm(**body)
    request: Any = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(intake=INTAKE)))
    facts = asyncio.run(gather(lookups, [command], actor))
    with pytest.raises((StoreNotFound, http.Forbidden)) as single:
        decided(request, command, facts, Context(actor=actor))
    assert {StoreNotFound: 404, http.Forbidden: 403}[type(single.value)] == status

    item = BatchItem.model_validate({"type": catalogue.name(c.ConfirmPlacement),
                                     "payload": {"placement_id": PID, **CONFIRM, **body}})
    facts = asyncio.run(gather(lookups, [catalogue.parse(item)], actor))
    with pytest.raises(Refused) as batch:
        catalogue.decide(INTAKE, catalogue.parse(item), facts, Context(actor=actor, lean=True))
    if status == 403:
        assert _reason(batch.value) == str(single.value)  # the 403's detail is the batch item's reason
    else:
        assert _reason(batch.value) == f"unknown placement {PID}" and single.value.args == (PID,)


def test_facts_start_empty_and_record_only_what_was_accepted() -> None:
    facts = Facts()
    with pytest.raises(Conflict):
        catalogue.decide(INTAKE, registration(5, brand_ids=["nope"]), facts, Context(actor=WS))
    assert facts.workers == {}


def test_event_names_are_spelled_only_by_the_catalogues_among_the_doors() -> None:
    """The doors take event names from the catalogue's entries, never as string literals of their own."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    names = {spec.name for spec in CATALOGUE}
    doors = [root / "laowu" / "intake.py", root / "laowu" / "simulate.py", *sorted((root / "laowu" / "imports").glob("*.py")),
             *sorted((root / "api").rglob("*.py"))]
    spelled = [(str(path.relative_to(root)), node.value) for path in doors
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Constant) and node.value in names]
    assert spelled == []
