"""The subsidy workflow (补贴申领), from entitlement to payment record, as pure rules over one claim.

An entitlement (享受资格: today's accrual, ``laowu.domain.subsidies``) is applied for by the organizer, or for the
person by a workstation (申请); the bureau reviews it, approving or refusing with a reason and what it checked (审核);
an approved subsidy is put on public notice (公示) for the days the region's rules ask, in event time, and objections
(异议) raised meanwhile are recorded and decided — one upheld refuses the subsidy; after the notice, with no objection
open, the payment is recorded (date, voucher number, amount exact to the fen: 发放记录). The platform records; it does
not pay.

One person, one kind, once per rule period: an application is refused while another entitlement of the same
worker, kind and period is applied for, approved, on notice or paid, and the refusal names it
(:func:`rival_refusal`). A region's yearly budget bounds what may be approved (:func:`budget_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from laowu.domain.alerts import CHINA
from laowu.domain.outcome import Changes, Rejected
from laowu.domain.subsidies import fen

Status = Literal["entitled", "applied", "approved", "refused", "noticed", "paid"]
LABELS: dict[str, str] = {"entitled": "可申请", "applied": "待审核", "approved": "已审核通过", "refused": "未通过",
                          "noticed": "公示中", "paid": "已发放"}
LIVE: frozenset[str] = frozenset({"applied", "approved", "noticed", "paid"})
"""Statuses that hold the person's one subsidy of a kind for the period (a refused one frees it)."""
COMMITTED: frozenset[str] = frozenset({"approved", "noticed", "paid"})
"""Statuses whose amount is spent from the region's budget."""


@dataclass
class ClaimRecord:
    """An entitlement with where its workflow stands (the ``subsidies`` row joined with its ``subsidy_claims`` row)."""

    subsidy_id: str
    kind: str
    worker_id: str
    organization_id: str
    placement_id: str
    amount: Decimal
    rule_version: str
    rule_region: str
    period: int
    origin_region: str
    accrued_on: date
    status: str = "entitled"
    applicant_id: str | None = None
    applied_at: datetime | None = None
    application_note: str | None = None
    reviewer_id: str | None = None
    reviewed_at: datetime | None = None
    review_reason: str | None = None
    checked: list[str] = field(default_factory=list)
    notice_id: str | None = None
    notice_start: date | None = None
    notice_end: date | None = None
    objections: list[dict[str, Any]] = field(default_factory=list)
    paid_on: date | None = None
    voucher_number: str | None = None
    paid_amount: Decimal | None = None
    version: int = 0

    @property
    def rival_key(self) -> tuple[str, str, int]:
        return (self.worker_id, self.kind, self.period)

    @property
    def budget_key(self) -> tuple[str, int]:
        return (self.rule_region, self.period)


@dataclass
class Budget:
    """A region's yearly budget (from the rules) and what approvals committed and payments paid from it."""

    rule_region: str
    year: int
    total: Decimal
    committed: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")

    @property
    def left(self) -> Decimal:
        return self.total - self.committed


@dataclass
class ClaimContext:
    """What a claim's rules read beyond the claim: the person's other entitlements of the kind and period
    (subsidy_id → status), the region's budget for the period, the shortest notice its rules allow."""

    rivals: dict[str, str]
    budget: Budget
    notice_days: int


def _day(at: datetime) -> date:
    return at.astimezone(CHINA).date()


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _expect(claim: ClaimRecord, *statuses: str) -> None:
    if claim.status not in statuses:
        raise Rejected(f"subsidy {claim.subsidy_id} is {claim.status}, not {' or '.join(statuses)}")


def rival_refusal(claim: ClaimRecord, rivals: dict[str, str]) -> str | None:
    """Why ``claim`` may not be applied for: it was applied for already, or another entitlement of the same person,
    kind and period holds the period (``rivals``: subsidy_id → status of the person's other entitlements)."""
    if claim.status != "entitled":
        return (f"subsidy {claim.subsidy_id} was already applied for by {claim.applicant_id} "
                f"on {claim.applied_at.date() if claim.applied_at else '?'} (now {claim.status})")
    for sid, status in sorted(rivals.items()):
        if sid != claim.subsidy_id and status in LIVE:
            return (f"worker {claim.worker_id} already has {claim.kind} for {claim.period}: subsidy {sid} "
                    f"({status}); one person, one kind, once per rule period")
    return None


def budget_refusal(claim: ClaimRecord, budget: Budget) -> str | None:
    if claim.amount > budget.left:
        return (f"the {budget.year} budget of {budget.rule_region} has {budget.left} left, "
                f"less than {claim.amount}")
    return None


def apply(claim: ClaimRecord, p: dict[str, Any], at: datetime, ctx: ClaimContext) -> Changes:
    """申请: by the organizer, or by a workstation for the person."""
    why = rival_refusal(claim, ctx.rivals)
    if why:
        raise Rejected(why)
    claim.status, claim.applicant_id, claim.applied_at = "applied", p["applicant_id"], at
    claim.application_note = p.get("note")
    return {"status": ["entitled", "applied"], "applicant_id": [None, p["applicant_id"]]}


def review(claim: ClaimRecord, p: dict[str, Any], at: datetime, ctx: ClaimContext) -> Changes:
    """审核: approve (within the budget) or refuse, with the reason and what was checked."""
    _expect(claim, "applied")
    budget = ctx.budget
    decision = p["decision"]
    if decision == "approved":
        why = budget_refusal(claim, budget)
        if why:
            raise Rejected(why)
        budget.committed += claim.amount
    claim.status = "approved" if decision == "approved" else "refused"
    claim.reviewer_id, claim.reviewed_at, claim.review_reason = p["reviewer_id"], at, p["reason"]
    claim.checked = list(p.get("checked", []))
    return {"status": ["applied", claim.status], "reason": [None, p["reason"]], "checked": [None, claim.checked]}


def notice(claim: ClaimRecord, p: dict[str, Any], at: datetime, ctx: ClaimContext) -> Changes:
    """公示: from ``start_date`` for ``days`` days (at least the rules' ``notice_days``), event time."""
    _expect(claim, "approved")
    days, min_days = int(p["days"]), ctx.notice_days
    if days < min_days:
        raise Rejected(f"the public notice must last at least {min_days} days")
    start = _as_date(p["start_date"])
    claim.status, claim.notice_id = "noticed", p["notice_id"]
    claim.notice_start, claim.notice_end = start, start + timedelta(days=days)
    return {"status": ["approved", "noticed"], "notice_id": [None, p["notice_id"]],
            "notice_end": [None, claim.notice_end.isoformat()]}


def raise_objection(claim: ClaimRecord, p: dict[str, Any], at: datetime, ctx: ClaimContext) -> Changes:
    """异议: recorded while the notice runs (``notice_end`` is the first day after it)."""
    _expect(claim, "noticed")
    assert claim.notice_end is not None and claim.notice_start is not None
    day = _day(at)
    if not claim.notice_start <= day < claim.notice_end:
        raise Rejected(f"the public notice of subsidy {claim.subsidy_id} runs from {claim.notice_start} "
                       f"to {claim.notice_end - timedelta(days=1)}; {day} is outside it")
    if any(o["objection_id"] == p["objection_id"] for o in claim.objections):
        raise Rejected(f"objection {p['objection_id']} is already recorded")
    claim.objections = [*claim.objections, {"objection_id": p["objection_id"], "summary": p["summary"],
                                            "raised_on": day.isoformat(), "upheld": None, "reason": None,
                                            "decided_on": None}]
    return {"objection": [None, p["objection_id"]]}


def decide_objection(claim: ClaimRecord, p: dict[str, Any], at: datetime, ctx: ClaimContext) -> Changes:
    """An objection upheld refuses the subsidy (its amount returns to the budget); one dismissed leaves it on
    notice."""
    found = next((o for o in claim.objections if o["objection_id"] == p["objection_id"]), None)
    if found is None:
        raise Rejected(f"no objection {p['objection_id']} on subsidy {claim.subsidy_id}")
    if found["upheld"] is not None:
        raise Rejected(f"objection {p['objection_id']} was already decided")
    _expect(claim, "noticed")
    decided = dict(found, upheld=bool(p["upheld"]), reason=p["reason"], decided_on=_day(at).isoformat())
    claim.objections = [decided if o is found else o for o in claim.objections]
    changes: Changes = {"objection": [p["objection_id"], "upheld" if p["upheld"] else "dismissed"]}
    if p["upheld"]:
        claim.status = "refused"
        claim.review_reason = f"异议成立 ({p['objection_id']}): {p['reason']}"
        ctx.budget.committed -= claim.amount
        changes["status"] = ["noticed", "refused"]
        changes["reason"] = [None, claim.review_reason]
    return changes


def pay(claim: ClaimRecord, p: dict[str, Any], at: datetime, ctx: ClaimContext) -> Changes:
    """发放记录: after the notice, with no objection open, the exact amount approved."""
    _expect(claim, "noticed")
    assert claim.notice_end is not None
    paid_on = _as_date(p["paid_on"])
    if paid_on < claim.notice_end:
        raise Rejected(f"subsidy {claim.subsidy_id} is on public notice until "
                       f"{claim.notice_end - timedelta(days=1)}; it may be paid from {claim.notice_end}")
    open_ = [o["objection_id"] for o in claim.objections if o["upheld"] is None]
    if open_:
        raise Rejected(f"objection {', '.join(open_)} on subsidy {claim.subsidy_id} is not decided")
    amount = fen(p["amount"])
    if amount != claim.amount:
        raise Rejected(f"the amount paid ({amount}) must be the amount approved ({claim.amount})")
    claim.status, claim.paid_on, claim.voucher_number, claim.paid_amount = "paid", paid_on, p["voucher_number"], amount
    ctx.budget.paid += amount
    return {"status": ["noticed", "paid"], "paid_on": [None, paid_on.isoformat()],
            "voucher_number": [None, p["voucher_number"]], "amount": [None, str(amount)]}
