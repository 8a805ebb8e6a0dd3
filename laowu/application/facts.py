"""What the handlers know about the ledger when they decide: fetched once per request, for all its commands.

The ledger lags what was accepted (by milliseconds when idle, by minutes while an import drains), so "known" means
applied or accepted and undecided (``laowu.store.known``, read-your-writes). A request adds what it accepts as it
goes (:meth:`Facts.add_*`), so a later item of the same batch may name what an earlier one created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from laowu.application.commands import Command, Wants
from laowu.domain.agreements import AgreementRecord
from laowu.domain.demands import DemandRecord
from laowu.intake import OrganizationRef, PlacementRef, SubsidyRef
from laowu.store.brand_figures import BrandFile
from laowu.store.known import PENDING_BRAND_STATUS, PENDING_WORKER_STATE
from schemas.common import Actor

V = TypeVar("V")


class Lookups(Protocol):
    """The reads the handlers' facts come from, each for many ids at once (``laowu.application.lookups`` for
    PostgreSQL; tests use an in-memory fake)."""

    async def brand_statuses(self, brand_ids: list[str]) -> dict[str, str]:
        """Known brands: the ledger's status, or ``candidate`` while a registration is accepted and undecided."""
        ...

    async def ledger_brands(self, brand_ids: list[str]) -> dict[str, tuple[str, str]]:
        """Applied brands: (status, region_code)."""
        ...

    async def pending_brand_senders(self, brand_ids: list[str]) -> dict[str, set[str]]:
        """Brands whose registration is accepted and not applied: the organizations that sent it."""
        ...

    async def acting_workers(self, worker_ids: list[str], actor: Actor) -> dict[str, tuple[str, str | None]]:
        """Workers ``actor`` may write about: (state, current placement)."""
        ...

    async def households(self, worker_ids: list[str], actor: Actor) -> dict[str, str]:
        """Current household regions of the workers ``actor`` may write about."""
        ...

    async def placement_refs(self, placement_ids: list[str], actor: Actor) -> dict[str, PlacementRef]:
        """Placements ``actor`` sees, applied or in an accepted dispatch."""
        ...

    async def alert_regions(self, alert_ids: list[str]) -> dict[str, list[str]]:
        """Alerts in the ledger: the regions they name, and the bureau a case escalated to (issue 20)."""
        ...

    async def enabled_accounts(self, usernames: list[str]) -> dict[str, tuple[str, str | None]]:
        """Enabled accounts by user name: (role, region) (issue 20: whom a case may be assigned to)."""

    async def brand_files(self, brand_ids: list[str]) -> dict[str, BrandFile]:
        """Applied brands with their management document and figures (issue 21)."""

    async def demands(self, demand_ids: list[str], actor: Actor) -> dict[str, DemandRecord]:
        """Job demands in the ledger that ``actor`` sees (issue 19)."""

    async def organization_refs(self, org_ids: list[str]) -> dict[str, OrganizationRef]:
        """Registered organizations, or accepted and undecided registrations (status ``pending``)."""
        ...

    async def subsidy_refs(self, subsidy_ids: list[str], actor: Actor) -> dict[str, SubsidyRef]:
        """Entitlements ``actor`` sees, with where their workflow stands."""

    async def agreements(self, agreement_ids: list[str]) -> dict[str, AgreementRecord]:
        """Applied cooperation agreements (issue 19); who may act on one is the handler's rule."""
        ...


class _Vouched(dict[str, V]):
    """Knows every id, as ``value`` unless told otherwise."""

    def __init__(self, value: V) -> None:
        super().__init__()
        self.value = value

    def get(self, key: str, default: object = None) -> V:  # type: ignore[override]
        return dict.get(self, key, self.value)

    def __contains__(self, key: object) -> bool:
        return True


class _Everyone(set[str]):
    """Every organization (a vouching producer sent every pending registration it names)."""

    def __contains__(self, org: object) -> bool:
        return True

    def __bool__(self) -> bool:
        return True


@dataclass
class Facts:
    brands: dict[str, str] = field(default_factory=dict)
    ledger_brands: dict[str, tuple[str, str]] = field(default_factory=dict)
    pending_brands: dict[str, set[str]] = field(default_factory=dict)  # not applied: who registered it
    workers: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    households: dict[str, str] = field(default_factory=dict)
    placements: dict[str, PlacementRef] = field(default_factory=dict)
    alerts: dict[str, list[str]] = field(default_factory=dict)  # alert → the regions that see it (issue 20)
    accounts: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # enabled account → (role, region)
    brand_files: dict[str, BrandFile] = field(default_factory=dict)
    demands: dict[str, DemandRecord] = field(default_factory=dict)
    organizations: dict[str, OrganizationRef] = field(default_factory=dict)
    subsidies: dict[str, SubsidyRef] = field(default_factory=dict)
    agreements: dict[str, AgreementRecord] = field(default_factory=dict)

    @classmethod
    def vouched(cls, placements: Iterable[PlacementRef] = ()) -> Facts:
        """Facts for a producer that writes to the log directly (the simulator): it vouches for every brand and worker
        its events name, as the ledger decides those; only the placements it names are known."""
        return cls(brands=_Vouched(PENDING_BRAND_STATUS), workers=_Vouched((PENDING_WORKER_STATE, None)),
                   pending_brands=_Vouched(_Everyone()),
                   placements={ref.placement_id: ref for ref in placements})

    def add_brand(self, brand_id: str, sender: str | None) -> None:
        self.brands.setdefault(brand_id, PENDING_BRAND_STATUS)
        if brand_id not in self.ledger_brands and sender is not None:
            self.pending_brands.setdefault(brand_id, set()).add(sender)

    def add_worker(self, worker_id: str) -> None:
        self.workers.setdefault(worker_id, (PENDING_WORKER_STATE, None))

    def add_placement(self, ref: PlacementRef) -> None:
        self.placements.setdefault(ref.placement_id, ref)


def wants(commands: Iterable[Command]) -> Wants:
    w = Wants()
    for c in commands:
        c.wants(w)
    return w


async def gather(lookups: Lookups, commands: Iterable[Command], actor: Actor) -> Facts:
    """The facts ``commands`` need, one lookup per kind and only the kinds they need."""
    w = wants(commands)
    facts = Facts()
    if w.brands:
        facts.brands = await lookups.brand_statuses(sorted(w.brands))
    if w.brand_subjects:
        facts.ledger_brands = await lookups.ledger_brands(sorted(w.brand_subjects))
        missing = sorted(w.brand_subjects - facts.ledger_brands.keys())
        if missing:
            facts.pending_brands = await lookups.pending_brand_senders(missing)
            facts.brands |= {b: PENDING_BRAND_STATUS for b in facts.pending_brands if b not in facts.brands}
    if w.workers:
        facts.workers = await lookups.acting_workers(sorted(w.workers), actor)
    if w.households:
        facts.households = await lookups.households(sorted(w.households), actor)
    if w.placements:
        facts.placements = await lookups.placement_refs(sorted(w.placements), actor)
    if w.alerts:
        facts.alerts = await lookups.alert_regions(sorted(w.alerts))
    if w.accounts:
        facts.accounts = await lookups.enabled_accounts(sorted(w.accounts))
    if w.brand_files:
        facts.brand_files = await lookups.brand_files(sorted(w.brand_files))
    if w.demands:
        facts.demands = await lookups.demands(sorted(w.demands), actor)
    if w.organizations:
        facts.organizations = await lookups.organization_refs(sorted(w.organizations))
    if w.subsidies:
        facts.subsidies = await lookups.subsidy_refs(sorted(w.subsidies), actor)
    if w.agreements:
        facts.agreements = await lookups.agreements(sorted(w.agreements))
    return facts
