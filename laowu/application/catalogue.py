"""The application half of the event catalogue: for each event type the API accepts, the body it comes from, the
command it asks for and the handler that decides it.

The contract half (name, payload, topic, key, senders, scoping fields, versions) is ``schemas.events.CATALOGUE``;
an :class:`Entry` adds what only the application knows, keyed by that :class:`~schemas.events.EventSpec`: the body,
the command and handler, and the domain rule the ledger decides it by. Adding an event type a client may send means
its spec, its entry here, its domain rule and its tests; no door has a table or a
branch of its own (the batch door, the single routes, the Excel import and the simulator all come through here).
Besides ``schemas/events.py``, this is the only production module that spells event names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from laowu.application import brand_management as bm
from laowu.application import casework as cases
from laowu.application import commands as c
from laowu.application import cooperation as coop
from laowu.application import handlers as h
from laowu.application import subsidy_workflow as sw
from laowu.application.errors import Invalid
from laowu.application.facts import Facts
from laowu.domain import agreements as agreement_rules
from laowu.domain import brand_review, lifecycle
from laowu.domain import brands as brand_rules
from laowu.domain import casework as case_rules
from laowu.domain import demands as demand_rules
from laowu.domain import organizations as org_rules
from laowu.domain import subsidy_claims as claim_rules
from laowu.domain import workers as worker_rules
from laowu.domain.errors import DomainError
from laowu.intake import Context, Intake
from laowu.ledger.rule import Rule, after_confirm, after_end, after_followup, after_reject
from schemas import api as bodies
from schemas import brand_api as bm_bodies
from schemas import events as ev
from schemas.api import BatchItem
from schemas.cooperation import AgreementCreate, AgreementEnd, AgreementPatch
from schemas.events import SPECS, EventSpec

Handler = Callable[..., h.Decision]


@dataclass(frozen=True)
class Entry:
    """One event type a client may send: its contract, the API body it comes from, the command and handler that
    accept it, and the ledger rule that decides it."""

    spec: EventSpec
    body: type[BaseModel]  # the API body: the single endpoint's, a batch item's payload
    command: type[c.Command]
    handler: Handler
    rule: Rule  # how the ledger decides it (``laowu.ledger.decide``)
    creates_placements: bool = False  # its payload's ``placements`` may be named at once (``laowu.store.known``)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def path_field(self) -> str | None:
        """The id the single endpoint takes from its path, which a batch item carries in its payload."""
        return self.command.path_field


def _entry(name: str, body: type[BaseModel], command: type[c.Command], handler: Handler, rule: Rule,
           **extra: Any) -> Entry:
    return Entry(SPECS[name], body, command, handler, rule, **extra)


ENTRIES: tuple[Entry, ...] = (
    _entry("brand.registered", bodies.BrandCreate, c.RegisterBrand, h.register_brand,
           Rule("brand", brand_rules.register, registers=True)),
    _entry("brand.updated", bodies.BrandPatch, c.UpdateBrand, h.update_brand, Rule("brand", brand_rules.update)),
    _entry("brand.status_changed", bodies.BrandStatusChange, c.ChangeBrandStatus, h.change_brand_status,
           Rule("brand", brand_rules.change_status)),
    _entry("worker.registered", bodies.WorkerCreate, c.RegisterWorker, h.register_worker,
           Rule("worker", worker_rules.register, registers=True)),
    _entry("worker.updated", bodies.WorkerPatch, c.UpdateWorker, h.update_worker, Rule("worker", worker_rules.update)),
    _entry("worker.household_moved", bodies.HouseholdMove, c.MoveHousehold, h.move_household,
           Rule("worker", worker_rules.move_household)),
    _entry("worker.certificate_added", bodies.CertificateCreate, c.AddCertificate, h.add_certificate,
           Rule("worker", worker_rules.add_certificate)),
    _entry("worker.training_completed", bodies.TrainingCreate, c.CompleteTraining, h.complete_training,
           Rule("worker", worker_rules.complete_training)),
    _entry("worker.brand_joined", bodies.BrandJoin, c.JoinBrand, h.join_brand,
           Rule("worker", worker_rules.join_brand, joins_brand=True)),
    _entry("worker.brand_left", bodies.body_for(ev.WorkerBrandLeft, "worker_id"),
           c.about_worker("LeaveBrand", ev.WorkerBrandLeft), h.record_about_worker,
           Rule("worker", worker_rules.leave_brand)),
    _entry("dispatch.created", bodies.DispatchCreate, c.CreateDispatch, h.create_dispatch,
           Rule("dispatch", joins_brand=True), creates_placements=True),
    _entry("placement.confirmed", bodies.PlacementConfirm, c.ConfirmPlacement, h.confirm_placement,
           Rule("placement", lifecycle.confirm, effects=after_confirm)),
    _entry("placement.rejected", bodies.PlacementReject, c.RejectPlacement, h.reject_placement,
           Rule("placement", lifecycle.reject, effects=after_reject, frees_post=True)),
    _entry("placement.ended", bodies.PlacementEnd, c.EndPlacement, h.end_placement,
           Rule("placement", lifecycle.end, effects=after_end)),
    _entry("followup.recorded", bodies.FollowUpCreate, c.RecordFollowUp, h.record_followup,
           Rule("placement", lifecycle.record_followup, effects=after_followup, entity="followup",
                history_only=True)),
    # alert casework (issue 20): a person's steps on an alert, decided against the case by laowu.domain.casework
    *(_entry(name, bodies.body_for(payload, "alert_id"), cases.about_alert(command, payload), cases.record_about_alert,
             Rule("case", step))
      for name, payload, command, step in (
          ("alert.assigned", ev.AlertAssigned, "AssignAlert", case_rules.assign),
          ("alert.acknowledged", ev.AlertAcknowledged, "AcknowledgeAlert", case_rules.acknowledge),
          ("alert.worked", ev.AlertWorked, "WorkAlert", case_rules.work),
          ("alert.resolved", ev.AlertResolved, "ResolveAlert", case_rules.close),
          ("alert.reopened", ev.AlertReopened, "ReopenAlert", case_rules.reopen),
      )),
    # brand dynamic management (动态管理, issue 21): every one a brand's event, decided by laowu.domain.brand_review
    _entry("brand.application_submitted", bm_bodies.ApplicationCreate, bm.SubmitBrandApplication,
           bm.submit_application, Rule("brand", brand_review.submit)),
    _entry("brand.reviewers_assigned", bm_bodies.ReviewersAssign, bm.AssignReviewers, bm.assign_reviewers,
           Rule("brand", brand_review.assign_reviewers)),
    _entry("brand.review_scored", bm_bodies.ReviewScore, bm.ScoreReview, bm.score_review,
           Rule("brand", brand_review.score)),
    _entry("brand.application_decided", bm_bodies.ApplicationDecide, bm.DecideApplication, bm.decide_application,
           Rule("brand", brand_review.decide)),
    _entry("brand.recheck_decided", bm_bodies.RecheckDecide, bm.DecideRecheck, bm.decide_recheck,
           Rule("brand", brand_review.recheck)),
    _entry("brand.complaint_recorded", bm_bodies.ComplaintCreate, bm.RecordComplaint, bm.record_complaint,
           Rule("brand", brand_review.record_complaint)),
    _entry("brand.person_named", bm_bodies.PersonCreate, bm.NameTypicalPerson, bm.name_person,
           Rule("brand", brand_review.name_person)),
    # job demands, intentions (issue 19)
    _entry("demand.posted", bodies.DemandPost, c.PostDemand, h.post_demand,
           Rule("demand", demand_rules.post, registers=True)),
    _entry("demand.closed", bodies.DemandClose, c.CloseDemand, h.close_demand, Rule("demand", demand_rules.close)),
    _entry("worker.intention_recorded", bodies.body_for(ev.WorkerIntentionRecorded, "worker_id"),
           c.RecordIntention, h.record_about_worker,
           Rule("worker", worker_rules.record_intention)),
    # organizations and the subsidy workflow (issue 21)
    _entry("organization.registered", bodies.OrganizationCreate, sw.RegisterOrganization, sw.register_organization,
           Rule("organization", org_rules.register)),
    _entry("organization.verified", bodies.OrganizationVerify, sw.VerifyOrganization, sw.verify_organization,
           Rule("organization", org_rules.verify)),
    _entry("subsidy.applied", bodies.SubsidyApply, sw.ApplySubsidy, sw.apply_subsidy, Rule("claim", claim_rules.apply)),
    _entry("subsidy.reviewed", bodies.SubsidyReview, sw.ReviewSubsidy, sw.review_subsidy,
           Rule("claim", claim_rules.review)),
    _entry("subsidy.noticed", bodies.SubsidyNotice, sw.NoticeSubsidy, sw.notice_subsidy,
           Rule("claim", claim_rules.notice)),
    _entry("subsidy.objection_raised", bodies.SubsidyObjection, sw.RaiseSubsidyObjection, sw.raise_objection,
           Rule("claim", claim_rules.raise_objection)),
    _entry("subsidy.objection_decided", bodies.SubsidyObjectionDecision, sw.DecideSubsidyObjection,
           sw.decide_objection, Rule("claim", claim_rules.decide_objection)),
    _entry("subsidy.paid", bodies.SubsidyPayment, sw.PaySubsidy, sw.pay_subsidy, Rule("claim", claim_rules.pay)),
    # cooperation agreements (劳务协作, issue 19: laowu.application.cooperation)
    _entry("agreement.signed", AgreementCreate, coop.SignAgreement, coop.sign_agreement,
           Rule("agreement", agreement_rules.sign)),
    _entry("agreement.updated", AgreementPatch, coop.UpdateAgreement, coop.update_agreement,
           Rule("agreement", agreement_rules.update)),
    _entry("agreement.ended", AgreementEnd, coop.EndAgreement, coop.end_agreement, Rule("agreement", agreement_rules.end)),
)
BY_NAME: dict[str, Entry] = {e.name: e for e in ENTRIES}
BY_COMMAND: dict[type[c.Command], Entry] = {e.command: e for e in ENTRIES}
PLACEMENT_CREATORS = frozenset(e.name for e in ENTRIES if e.creates_placements)


def entry(command: type[c.Command]) -> Entry:
    return BY_COMMAND[command]


def name(command: type[c.Command]) -> str:
    """The event type ``command`` asks for (``name(ConfirmPlacement)``), for code that must name one."""
    return BY_COMMAND[command].name


def parse(item: BatchItem) -> c.Command:
    """A batch item as the command it stands for: its payload is the single endpoint's body, plus the path id
    where the endpoint has one. :class:`Invalid` (422 / a rejected item) for what the payload alone decides."""
    found = BY_NAME.get(item.type)
    if found is None:
        raise Invalid([DomainError("type", "not_accepted", f"{item.type} cannot be sent through the API")])
    payload = dict(item.payload)
    if item.occurred_at is not None:
        payload.setdefault("occurred_at", item.occurred_at.isoformat())
    ids: dict[str, Any] = {}
    if found.path_field is not None:
        path_id = payload.pop(found.path_field, None)
        if not isinstance(path_id, str) or not path_id:
            raise Invalid([DomainError(f"payload.{found.path_field}", "missing", "field required")])
        ids[found.path_field] = path_id
    try:
        body = found.body.model_validate(payload)
    except ValidationError as exc:
        raise Invalid([
            DomainError("payload." + ".".join(str(p) for p in err["loc"]), err["type"], err["msg"])
            for err in exc.errors()
        ]) from None
    return found.command(body=body, **ids)  # type: ignore[call-arg]


def decide(intake: Intake, command: c.Command, facts: Facts, ctx: Context, **options: Any) -> h.Decision:
    """The handler of ``command``'s entry decides it (``options``: the handler's own, e.g. ``leave_out``)."""
    return BY_COMMAND[type(command)].handler(intake, command, facts, ctx, **options)
