"""Command handlers: one per write, the same for every door (single requests, ``/v1/events:batch``, the Excel
import, the simulator).

A handler resolves what the command names from the :class:`~laowu.application.facts.Facts` (404 when the sender
cannot see it), builds the envelope with :class:`~laowu.intake.Intake` (422 for what the body alone decides), asks
the scoping rule (403) and the domain's rules that need the ledger (409), and records in the facts what it accepted
so the next command of the same request may name it (read-your-writes). It raises the application's errors
(``laowu.application.errors``); each door renders them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from laowu.application import commands as c
from laowu.application.errors import Conflict, Forbidden, NotFound
from laowu.application.facts import Facts
from laowu.application.scoping import scope_problem
from laowu.domain.agreements import coverage_refusal
from laowu.domain.brands import CLOSED as CLOSED_BRANDS
from laowu.domain.brands import check_transition
from laowu.domain.demands import fill_refusal
from laowu.domain.errors import DomainError
from laowu.domain.lifecycle import acts_on_placement, eligibility, employer_refusal
from laowu.domain.outcome import Rejected
from laowu.intake import Context, Intake, PlacementRef
from laowu.store.scope import covers, unbounded
from schemas.api import DispatchCreate
from schemas.envelope import Outgoing


@dataclass(frozen=True)
class Decision:
    """The accepted envelope, and the workers a dispatch left out at once with the reason (``eligibility``)."""

    envelope: Outgoing
    refused: list[tuple[str, str]] = field(default_factory=list)


# ---- the rules every handler shares ---------------------------------------------------------------------------
def _scoped(ctx: Context, env: Outgoing) -> Outgoing:
    problem = scope_problem(ctx.actor, env.type, env.payload)
    if problem is not None:
        raise Forbidden(problem.reason)
    return env


def brand_refusal(brand_id: str, status: str | None) -> str | None:
    """Why a registration, a join or a dispatch may not name this brand (None: known and open)."""
    if status is None:
        return f"unknown brand {brand_id} (a brand is usable once its registration is accepted)"
    if status in CLOSED_BRANDS:
        return f"brand {brand_id} is {status} and takes no new members"
    return None


def _open_brands(facts: Facts, field_name: str, brand_ids: Iterable[str]) -> None:
    for b in brand_ids:
        reason = brand_refusal(b, facts.brands.get(b))
        if reason:
            raise Conflict([DomainError(field_name, "conflict", reason)])


def _worker(facts: Facts, ctx: Context, worker_id: str) -> None:
    """Writes about a worker need the worker in the sender's reach, or registered by it and accepted."""
    if (ctx.actor is None or not unbounded(ctx.actor)) and worker_id not in facts.workers:
        raise NotFound("worker", worker_id)


def _brand(facts: Facts, ctx: Context, brand_id: str) -> str | None:
    """A bureau manages the brands of its jurisdiction (others' answer 404). A brand whose registration is accepted
    and not applied yet may be changed at once by the organization that registered it: its region is not known
    until it is applied, so nobody else's jurisdiction can be checked. Returns the applied status, if any."""
    applied = facts.ledger_brands.get(brand_id)
    actor = ctx.actor
    if applied is not None:
        if actor is None or not covers(actor, applied[1]):
            raise NotFound("brand", brand_id)
        return applied[0]
    senders = facts.pending_brands.get(brand_id, set())
    if actor is None or not senders or not (unbounded(actor) or actor.org in senders):
        raise NotFound("brand", brand_id)
    return None


def _placement(facts: Facts, ctx: Context, placement_id: str) -> PlacementRef:
    """Its employer, its organizer or an admin acts on a placement; to anyone else it does not exist."""
    ref = facts.placements.get(placement_id)
    actor = ctx.actor
    if ref is None or actor is None or not acts_on_placement(actor.role, actor.org, ref.employer_id, ref.organizer_id):
        raise NotFound("placement", placement_id)
    return ref


# ---- workers ----------------------------------------------------------------------------------------------------
def register_worker(intake: Intake, cmd: c.RegisterWorker, facts: Facts, ctx: Context) -> Decision:
    env = _scoped(ctx, intake.registration(cmd.body, ctx))
    _open_brands(facts, "brand_ids", env.payload.get("brand_ids", ()))
    facts.add_worker(env.payload["worker_id"])
    return Decision(env)


def update_worker(intake: Intake, cmd: c.UpdateWorker, facts: Facts, ctx: Context) -> Decision:
    _worker(facts, ctx, cmd.worker_id)
    return Decision(_scoped(ctx, intake.update_worker(cmd.worker_id, cmd.body, ctx)))


def move_household(intake: Intake, cmd: c.MoveHousehold, facts: Facts, ctx: Context) -> Decision:
    """户籍迁移 from the region the ledger holds; the scoping rule asks for jurisdiction over that one."""
    current = facts.households.get(cmd.worker_id)
    if current is None:
        raise NotFound("worker", cmd.worker_id)
    return Decision(_scoped(ctx, intake.move_household(cmd.worker_id, cmd.body, current, ctx)))


def add_certificate(intake: Intake, cmd: c.AddCertificate, facts: Facts, ctx: Context) -> Decision:
    _worker(facts, ctx, cmd.worker_id)
    return Decision(_scoped(ctx, intake.add_certificate(cmd.worker_id, cmd.body, ctx)))


def complete_training(intake: Intake, cmd: c.CompleteTraining, facts: Facts, ctx: Context) -> Decision:
    _worker(facts, ctx, cmd.worker_id)
    return Decision(_scoped(ctx, intake.complete_training(cmd.worker_id, cmd.body, ctx)))


def record_about_worker(intake: Intake, cmd: c.RecordAboutWorker, facts: Facts, ctx: Context) -> Decision:
    """The generic handler of ``commands.about_worker``: the worker in the sender's reach, the scoping rule."""
    _worker(facts, ctx, cmd.worker_id)
    return Decision(_scoped(ctx, intake.about_worker(cmd.payload, cmd.worker_id, cmd.body, ctx)))


def join_brand(intake: Intake, cmd: c.JoinBrand, facts: Facts, ctx: Context) -> Decision:
    _worker(facts, ctx, cmd.worker_id)
    env = _scoped(ctx, intake.join_brand(cmd.worker_id, cmd.body, ctx))
    _open_brands(facts, "brand_id", [cmd.body.brand_id])
    return Decision(env)


# ---- brands -----------------------------------------------------------------------------------------------------
def register_brand(intake: Intake, cmd: c.RegisterBrand, facts: Facts, ctx: Context) -> Decision:
    env = _scoped(ctx, intake.register_brand(cmd.body, ctx))
    facts.add_brand(env.payload["brand_id"], ctx.actor.org if ctx.actor else None)
    return Decision(env)


def update_brand(intake: Intake, cmd: c.UpdateBrand, facts: Facts, ctx: Context) -> Decision:
    _brand(facts, ctx, cmd.brand_id)
    return Decision(_scoped(ctx, intake.update_brand(cmd.brand_id, cmd.body, ctx)))


def change_brand_status(intake: Intake, cmd: c.ChangeBrandStatus, facts: Facts, ctx: Context) -> Decision:
    """动态管理: the transition is checked against the applied status; a brand not applied yet is the ledger's to
    decide, and its receipt tells."""
    current = _brand(facts, ctx, cmd.brand_id)
    env = _scoped(ctx, intake.change_brand_status(cmd.brand_id, cmd.body, ctx))
    if current is not None:
        try:
            check_transition(current, cmd.body.status)
        except Rejected as exc:
            raise Conflict([DomainError("status", "conflict", exc.reason)]) from None
    return Decision(env)


# ---- organized output, placements, follow-up -------------------------------------------------------------------
def create_dispatch(intake: Intake, cmd: c.CreateDispatch, facts: Facts, ctx: Context, *,
                    leave_out: bool = True) -> Decision:
    """有组织劳务输出. Each worker is judged by ``lifecycle.eligibility``. A worker the sender cannot see is never
    dispatched. With ``leave_out`` (a single request) a worker on an active placement is left out at once and named
    in ``refused``, and a dispatch nobody may join is a conflict; without it (a batch item) the worker stays in the
    event and the ledger refuses them with the same words, seen in the dispatch's outcome per worker."""
    body = cmd.body
    _open_brands(facts, "brand_id", [body.brand_id])
    _under_agreement(facts, body)
    vouched = ctx.actor is not None and unbounded(ctx.actor)  # an admin's batch: the ledger decides every worker
    accepted: list[str] = []
    refused: list[tuple[str, str]] = []
    for wid in body.worker_ids:
        state = facts.workers.get(wid)
        reason = eligibility(*state) if state is not None else eligibility(None, None)
        if reason is None or not (leave_out or (state is None and not vouched)):
            accepted.append(wid)
        elif leave_out:
            refused.append((wid, reason))
        else:
            raise NotFound("worker", wid)
    if not accepted:
        raise Conflict([DomainError(f"worker_ids.{i}", "conflict", reason) for i, (_, reason) in enumerate(refused)])
    env = _scoped(ctx, intake.create_dispatch(body, accepted, ctx))
    _demand_has_room(facts, env)
    employer = env.payload["employer"]["employer_id"]
    for p in env.payload["placements"]:
        facts.add_placement(PlacementRef(p["placement_id"], p["worker_id"], employer, body.organizer_id))
    return Decision(env, refused)


def _under_agreement(facts: Facts, body: DispatchCreate) -> None:
    """A dispatch naming a cooperation agreement (劳务协作, issue 19) falls under the applied agreement, or is refused
    at once (409) with the words the ledger would use (``agreements.coverage_refusal``)."""
    if body.agreement_id:
        reason = coverage_refusal(facts.agreements.get(body.agreement_id), body.agreement_id,
                                  origin_region=body.origin_region, destination_region=body.destination_region,
                                  brand_id=body.brand_id, departure_date=body.departure_date)
        if reason:
            raise Conflict([DomainError("agreement_id", "conflict", reason)])


def _by_named_employer(ref: PlacementRef, env: Outgoing, employer_id: str) -> Decision:
    """Only the employer named on the dispatch confirms or rejects (``lifecycle.employer_refusal``)."""
    refusal = employer_refusal(ref.employer_id, employer_id)
    if refusal:
        raise Forbidden(refusal)
    return Decision(env)


def confirm_placement(intake: Intake, cmd: c.ConfirmPlacement, facts: Facts, ctx: Context) -> Decision:
    """入职确认."""
    ref = _placement(facts, ctx, cmd.placement_id)
    return _by_named_employer(ref, _scoped(ctx, intake.confirm_placement(ref, cmd.body, ctx)), cmd.body.employer_id)


def reject_placement(intake: Intake, cmd: c.RejectPlacement, facts: Facts, ctx: Context) -> Decision:
    """No-show or not hired."""
    ref = _placement(facts, ctx, cmd.placement_id)
    return _by_named_employer(ref, _scoped(ctx, intake.reject_placement(ref, cmd.body, ctx)), cmd.body.employer_id)


def end_placement(intake: Intake, cmd: c.EndPlacement, facts: Facts, ctx: Context) -> Decision:
    ref = _placement(facts, ctx, cmd.placement_id)
    return Decision(_scoped(ctx, intake.end_placement(ref, cmd.body, ctx)))


def record_followup(intake: Intake, cmd: c.RecordFollowUp, facts: Facts, ctx: Context) -> Decision:
    """跟踪服务, by the workstation that organized the dispatch."""
    ref = _placement(facts, ctx, cmd.placement_id)
    return Decision(_scoped(ctx, intake.record_followup(ref, cmd.body, ctx)))


# ---- job demands (用工需求, issue 19) ----------------------------------------------------------------------------
def _demand_has_room(facts: Facts, env: Outgoing) -> None:
    """A dispatch naming a demand: the demand seen and in the ledger, open at the dispatch's time, room in the
    positions — the ledger's own rule (``demands.fill_refusal``) against what it holds now, for an early answer;
    the ledger decides again (with the priority groups it knows, for reserved posts)."""
    did = env.payload.get("demand_id")
    if did is None:
        return
    rec = facts.demands.get(did)
    if rec is None:
        raise Conflict([DomainError("demand_id", "conflict", f"unknown demand {did} (usable once its posting "
                                                             "is applied)")])
    fills = [(p.get("position_id"), True) for p in env.payload["placements"]]
    why = fill_refusal(rec, did, env.payload["employer"]["employer_id"], env.occurred_at, fills)
    if why is not None:
        raise Conflict([DomainError("demand_id", "conflict", why)])


def post_demand(intake: Intake, cmd: c.PostDemand, facts: Facts, ctx: Context) -> Decision:
    """用工需求: an employer posts its own; a workstation or bureau posts one on an employer's behalf, published to
    regions of its own jurisdiction."""
    actor = ctx.actor
    env = intake.post_demand(cmd.body, ctx)
    if actor is None:
        raise Forbidden("no credential names the sender")
    if actor.role == "employer" and cmd.body.employer.employer_id != actor.org:
        raise Forbidden(f"employer.employer_id must be your own organization ({actor.org})")
    if actor.role in ("workstation", "bureau"):
        for code in cmd.body.origin_regions:
            if not covers(actor, code):
                raise Forbidden(f"origin region {code} is outside your jurisdiction ({actor.region})")
    return Decision(env)


def close_demand(intake: Intake, cmd: c.CloseDemand, facts: Facts, ctx: Context) -> Decision:
    """Its employer, whoever posted it on the employer's behalf, or an admin closes a demand."""
    rec = facts.demands.get(cmd.demand_id)
    actor = ctx.actor
    if rec is None or actor is None:
        raise NotFound("demand", cmd.demand_id)
    if not (unbounded(actor) or actor.org in (rec.employer_id, rec.posted_by)):
        raise Forbidden("only the demand's employer, whoever posted it, or an admin may close it")
    if cmd.body.employer_id != rec.employer_id:
        raise Conflict([DomainError("employer_id", "conflict", f"demand {rec.demand_id} is {rec.employer_id}'s")])
    if rec.status == "closed":
        raise Conflict([DomainError("demand_id", "conflict", f"demand {rec.demand_id} is already closed")])
    return Decision(intake.close_demand(cmd.demand_id, cmd.body, ctx))
