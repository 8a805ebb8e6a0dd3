"""Commands: one per write, named in the imperative from the domain, each the validated body of the one event it
asks for, plus the id the path names (a worker, a brand, a placement).

A command also says what it needs to know about the ledger (:meth:`wants`), so a door can fetch it for many
commands in one round trip per kind (a 1,000-item batch is one query per kind, not one per item).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import BaseModel

from schemas import api as bodies
from schemas import events


@dataclass
class Wants:
    """What a set of commands needs looked up (``laowu.application.facts``)."""

    brands: set[str] = field(default_factory=set)  # named as open brands to join or dispatch
    brand_subjects: set[str] = field(default_factory=set)  # brands changed: scope and current status
    workers: set[str] = field(default_factory=set)  # workers written about or dispatched
    households: set[str] = field(default_factory=set)  # workers whose household region moves
    placements: set[str] = field(default_factory=set)  # placements acted on
    alerts: set[str] = field(default_factory=set)  # alerts worked (casework, issue 20)
    accounts: set[str] = field(default_factory=set)  # accounts a case is assigned to (issue 20)
    brand_files: set[str] = field(default_factory=set)  # issue 21: brands managed (document and figures)
    demands: set[str] = field(default_factory=set)  # job demands closed or filled (issue 19)
    organizations: set[str] = field(default_factory=set)  # organizations registered or verified (issue 21)
    subsidies: set[str] = field(default_factory=set)  # entitlements whose workflow moves (issue 21)
    agreements: set[str] = field(default_factory=set)  # cooperation agreements changed or named (issue 19)


class Command:
    """Base of the commands; ``path_field`` names the id the single endpoint takes from its path (None: none)."""

    path_field: ClassVar[str | None] = None

    def wants(self, w: Wants) -> None:
        """Adds what deciding this command needs to know; the default needs nothing."""


# ---- workers (实名制台账) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterWorker(Command):
    body: bodies.WorkerCreate

    def wants(self, w: Wants) -> None:
        w.brands.update(self.body.brand_ids)


@dataclass(frozen=True)
class _AboutWorker(Command):
    worker_id: str
    path_field: ClassVar[str | None] = "worker_id"

    def wants(self, w: Wants) -> None:
        w.workers.add(self.worker_id)


@dataclass(frozen=True)
class RecordAboutWorker(_AboutWorker):
    """Base of the commands whose event is the body plus the worker's id (``about_worker``)."""

    body: BaseModel
    payload: ClassVar[type[BaseModel]]


def about_worker(name: str, payload: type[BaseModel]) -> type[RecordAboutWorker]:
    """A command for an event that records something about a worker its sender may act on, whose payload is the
    body plus ``worker_id`` (``schemas.api.body_for``): declared by its catalogue entry, decided by
    ``handlers.record_about_worker``."""
    return type(name, (RecordAboutWorker,), {"payload": payload, "__module__": __name__,
                                             "__doc__": payload.__doc__})


@dataclass(frozen=True)
class UpdateWorker(_AboutWorker):
    body: bodies.WorkerPatch


@dataclass(frozen=True)
class MoveHousehold(Command):
    """户籍迁移: decided by the jurisdiction of the current household region, which the ledger knows."""

    worker_id: str
    body: bodies.HouseholdMove
    path_field: ClassVar[str | None] = "worker_id"

    def wants(self, w: Wants) -> None:
        w.households.add(self.worker_id)


@dataclass(frozen=True)
class AddCertificate(_AboutWorker):
    body: bodies.CertificateCreate


@dataclass(frozen=True)
class CompleteTraining(_AboutWorker):
    body: bodies.TrainingCreate


@dataclass(frozen=True)
class JoinBrand(_AboutWorker):
    body: bodies.BrandJoin

    def wants(self, w: Wants) -> None:
        super().wants(w)
        w.brands.add(self.body.brand_id)


# ---- brands (劳务品牌资源库) ------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterBrand(Command):
    body: bodies.BrandCreate


@dataclass(frozen=True)
class _AboutBrand(Command):
    brand_id: str
    path_field: ClassVar[str | None] = "brand_id"

    def wants(self, w: Wants) -> None:
        w.brand_subjects.add(self.brand_id)


@dataclass(frozen=True)
class UpdateBrand(_AboutBrand):
    body: bodies.BrandPatch


@dataclass(frozen=True)
class ChangeBrandStatus(_AboutBrand):
    body: bodies.BrandStatusChange


# ---- organized output (有组织劳务输出), placements, follow-up (跟踪服务) ------------------------------
@dataclass(frozen=True)
class CreateDispatch(Command):
    body: bodies.DispatchCreate

    def wants(self, w: Wants) -> None:
        w.brands.add(self.body.brand_id)
        w.workers.update(self.body.worker_ids)
        if self.body.demand_id is not None:
            w.demands.add(self.body.demand_id)
        if self.body.agreement_id:
            w.agreements.add(self.body.agreement_id)


@dataclass(frozen=True)
class _AboutPlacement(Command):
    placement_id: str
    path_field: ClassVar[str | None] = "placement_id"

    def wants(self, w: Wants) -> None:
        w.placements.add(self.placement_id)


@dataclass(frozen=True)
class ConfirmPlacement(_AboutPlacement):
    body: bodies.PlacementConfirm


@dataclass(frozen=True)
class RejectPlacement(_AboutPlacement):
    body: bodies.PlacementReject


@dataclass(frozen=True)
class EndPlacement(_AboutPlacement):
    body: bodies.PlacementEnd


@dataclass(frozen=True)
class RecordFollowUp(Command):
    """The placement is named in the body (``POST /v1/followups``), not in a path."""

    body: bodies.FollowUpCreate

    @property
    def placement_id(self) -> str:
        return self.body.placement_id

    def wants(self, w: Wants) -> None:
        w.placements.add(self.body.placement_id)


# ---- job demands (用工需求, issue 19) ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PostDemand(Command):
    body: bodies.DemandPost


@dataclass(frozen=True)
class CloseDemand(Command):
    demand_id: str
    body: bodies.DemandClose
    path_field: ClassVar[str | None] = "demand_id"

    def wants(self, w: Wants) -> None:
        w.demands.add(self.demand_id)


RecordIntention = about_worker("RecordIntention", events.WorkerIntentionRecorded)
"""求职意向 (``worker.intention_recorded``): the body plus the worker's id, decided by ``handlers.record_about_worker``."""
