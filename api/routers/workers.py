"""Real-name ledger (实名制台账): registration, profile changes, certificates, trainings, reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from api import lookups, reveals
from api.access import CurrentActor
from api.deps import IntakeDep, PoolDep
from api.pagination import decode_cursor, encode_cursor
from api.routing import JSONRoute
from api.writes import write
from laowu.application import commands as cmd
from laowu.domain.errors import DomainError
from laowu.domain.identity import masked_changes, masked_worker, parse_id_number
from laowu.domain.regions import region_name
from laowu.intake import Intake, InvalidRequest
from laowu.store import queries
from laowu.store.queries import NotFound
from schemas.api import (
    Accepted,
    BrandJoin,
    CertificateCreate,
    DiscrepanciesPublic,
    HistoryPublic,
    HouseholdMove,
    IdNumberLookup,
    Region,
    RevealedWorker,
    RevealRequest,
    TrainingCreate,
    WorkerCreate,
    WorkerPatch,
    WorkerPublic,
    WorkersPublic,
)
from schemas.common import Actor, WorkerState

router = APIRouter(route_class=JSONRoute, prefix="/v1/workers", tags=["workers"])
WorkerId = Annotated[str, Path(pattern=r"^w[0-9a-f]{24}$", description="Keyed hash of the ID number")]
ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"model": Accepted}}


def public(row: dict[str, Any]) -> WorkerPublic:
    """The masked view (API.md "Masked means unrecoverable"): the same function as the export's."""
    row = masked_worker(row)
    code = row.pop("household_region")
    return WorkerPublic(**row, household_region=Region(code=code, name=region_name(code)))


@router.post("", status_code=202, responses=ACCEPTED)
async def register_worker(body: WorkerCreate, request: Request) -> JSONResponse:
    return await write(request, cmd.RegisterWorker(body), ("worker_id",))


@router.patch("/{worker_id:worker_id}", status_code=202, responses=ACCEPTED)
async def update_worker(worker_id: WorkerId, body: WorkerPatch, request: Request) -> JSONResponse:
    """Writes about a worker need the worker in the caller's scope, or registered by the caller's organization and
    accepted (read-your-writes); 404 otherwise, as for reads."""
    return await write(request, cmd.UpdateWorker(worker_id, body), ("worker_id",))


@router.post("/{worker_id:worker_id}/household", status_code=202, responses=ACCEPTED, name="move_household")
async def move_household(worker_id: WorkerId, body: HouseholdMove, request: Request) -> JSONResponse:
    """户籍迁移: the household region changes only here, with a reason, by the jurisdiction of the current one
    (403 for a caller who sees the worker otherwise, e.g. by having registered them elsewhere)."""
    return await write(request, cmd.MoveHousehold(worker_id, body), ("worker_id",))


@router.get("/{worker_id:worker_id}/discrepancies", response_model=DiscrepanciesPublic)
async def worker_discrepancies(worker_id: WorkerId, pool: PoolDep, actor: CurrentActor) -> DiscrepanciesPublic:
    """Further registrations that declared another name or household region (待核实), for every jurisdiction that
    sees the person: the one of the record and the one that registered them again."""
    return DiscrepanciesPublic(items=await queries.discrepancies(pool, worker_id, actor))  # type: ignore[arg-type]


@router.post("/{worker_id:worker_id}/certificates", status_code=202, responses=ACCEPTED)
async def add_certificate(worker_id: WorkerId, body: CertificateCreate, request: Request) -> JSONResponse:
    return await write(request, cmd.AddCertificate(worker_id, body), ("worker_id",))


@router.post("/{worker_id:worker_id}/trainings", status_code=202, responses=ACCEPTED)
async def complete_training(worker_id: WorkerId, body: TrainingCreate, request: Request) -> JSONResponse:
    return await write(request, cmd.CompleteTraining(worker_id, body), ("worker_id",))


@router.post("/{worker_id:worker_id}/brands", status_code=202, responses=ACCEPTED)
async def join_brand(worker_id: WorkerId, body: BrandJoin, request: Request) -> JSONResponse:
    return await write(request, cmd.JoinBrand(worker_id, body), ("worker_id",))


@router.get("/{worker_id:worker_id}", response_model=WorkerPublic)
async def get_worker(worker_id: WorkerId, pool: PoolDep, actor: CurrentActor) -> WorkerPublic:
    return public(await queries.worker(pool, worker_id, actor))


@router.get("/{worker_id:worker_id}/history", response_model=HistoryPublic)
async def worker_history(
    worker_id: WorkerId,
    pool: PoolDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> HistoryPublic:
    """The history, masked as every view. A workstation that sees the worker only because it registered them (no
    jurisdiction over the household region or a dispatch origin) sees the events it sent itself, not the rest of
    the person's life: registering a known ID number must not open it."""
    await queries.worker(pool, worker_id, actor)  # 404 unless it exists and is in scope
    own = None if await queries.in_jurisdiction(pool, worker_id, actor) else actor.org
    after = decode_cursor(cursor)
    rows = await queries.worker_history(pool, worker_id, int(after) if after and after.isdigit() else 0, limit, own)
    for row in rows:
        row["changes"] = masked_changes(row["changes"])
    return HistoryPublic(items=rows,  # type: ignore[arg-type]
                         next_cursor=encode_cursor(str(rows[-1]["seq"])) if len(rows) == limit else None)


async def _by_id_number(request: Request, intake: Intake, raw: str, where: str, actor: Actor) -> WorkersPublic:
    """Exact lookup through the keyed hash: no plaintext is stored, so nothing is scanned or decrypted.

    Roles that register people only, within a budget per credential, each lookup audited (``api.lookups``).
    """
    await lookups.admit(request, actor)
    try:
        number = parse_id_number(raw).number
    except DomainError as exc:
        raise InvalidRequest([exc], where) from None
    worker_id = intake.privacy.worker_id(number)
    try:
        row = await queries.worker(request.app.state.pool, worker_id, actor)
    except NotFound:
        await lookups.record(request, actor, worker_id, found=False)
        return WorkersPublic(items=[])
    await lookups.record(request, actor, worker_id, found=True)
    return WorkersPublic(items=[public(row)])


@router.post(":lookup", response_model=WorkersPublic, name="lookup_worker")
async def lookup_worker(body: IdNumberLookup, request: Request, intake: IntakeDep, actor: CurrentActor) -> WorkersPublic:
    """Twin of ``GET /v1/workers?id_number=`` for clients that keep ID numbers out of URLs."""
    return await _by_id_number(request, intake, body.id_number, "body", actor)


@router.get("", response_model=WorkersPublic)
async def list_workers(
    request: Request,
    pool: PoolDep,
    intake: IntakeDep,
    actor: CurrentActor,
    id_number: Annotated[str | None, Query(max_length=40)] = None,
    brand_id: Annotated[str | None, Query(max_length=64)] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    state: WorkerState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: str | None = None,
) -> WorkersPublic:
    if id_number is not None:
        return await _by_id_number(request, intake, id_number, "query", actor)
    rows = await queries.workers(
        pool, brand_id=brand_id, region=region, state=state, after=decode_cursor(cursor), limit=limit, viewer=actor
    )
    next_cursor = encode_cursor(rows[-1]["worker_id"]) if len(rows) == limit else None
    return WorkersPublic(items=[public(r) for r in rows], next_cursor=next_cursor)


@router.post("/{worker_id:worker_id}:reveal", response_model=RevealedWorker, name="reveal_worker")
async def reveal_worker(worker_id: WorkerId, body: RevealRequest, request: Request, pool: PoolDep, intake: IntakeDep,
                        actor: CurrentActor) -> RevealedWorker:
    """Break the glass: the full ID number, phone and birth date, for a stated purpose, written to the audit log first.

    Needs jurisdiction (household region, dispatch origin): a workstation that only registered the person gets 404.
    At most ``LAOWU_REVEAL_QUOTA_PER_DAY`` a day per credential (429 after, audited as ``reveal.refused``).
    """
    row = await queries.reveal(pool, worker_id, actor)
    await reveals.admit(request, actor, worker_id, body.purpose)  # audited first; 429 past today's quota
    cipher = intake.privacy.cipher
    id_number = cipher.decrypt(row.pop("id_number_enc"), "id_number")
    phone_enc = row.pop("phone_enc")
    return RevealedWorker(**public(dict(row)).model_dump(), id_number=id_number, birth_date=row["birth_date"],
                          phone=cipher.decrypt(phone_enc, "phone") if phone_enc else None)
