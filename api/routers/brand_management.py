"""Brand dynamic management (动态管理, issue 21): applications for entry or promotion and their expert review, the
yearly re-check, the integrity rating, complaints and typical persons. Writes are the catalogue's commands; reads
show the ledger's management document and the figures it is judged on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.access import CurrentActor
from api.deps import PoolDep
from api.routing import JSONRoute
from api.writes import write
from laowu.accounts_policy import username_of
from laowu.application import brand_management as bm
from laowu.application.brand_management import recheck_proposal
from laowu.domain import brand_criteria as criteria
from laowu.domain.statistics import BEIJING
from laowu.store import brand_figures, brand_management
from laowu.store.brand_figures import BrandFile
from laowu.store.queries import NotFound
from schemas import brand_api as bodies
from schemas.api import Accepted
from schemas.common import BrandLevel

router = APIRouter(route_class=JSONRoute, tags=["brand management"])
BrandId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"model": Accepted}}


class Evaluated(BaseModel):
    brand_id: str
    level: str
    region_code: str
    evaluation: dict[str, Any]


class Integrity(BaseModel):
    brand_id: str
    grade: str
    score: int
    inputs: dict[str, int]
    weights: dict[str, int]
    deductions: dict[str, int]
    rules_version: str
    recorded_rating: str | None


class RecheckProposal(BaseModel):
    brand_id: str
    year: int
    level: str
    status: str
    proposal: str
    reasons: list[str]
    evaluation: dict[str, Any]
    integrity_grade: str | None
    integrity: dict[str, Any]
    decided: dict[str, Any] | None


class Applications(BaseModel):
    items: list[dict[str, Any]]


async def _file(pool: Any, brand_id: str) -> BrandFile:
    found = (await brand_figures.brand_files(pool, [brand_id], datetime.now(BEIJING).date())).get(brand_id)
    if found is None:
        raise NotFound(brand_id)
    return found


# ---- writes -------------------------------------------------------------------------------------------------------
@router.post("/v1/brands/{brand_id}/applications", status_code=202, responses=ACCEPTED)
async def submit_application(brand_id: BrandId, body: bodies.ApplicationCreate, request: Request) -> JSONResponse:
    """入库/晋级申请: the criteria of the target level are evaluated from the ledger and attached."""
    return await write(request, bm.SubmitBrandApplication(brand_id, body), ("brand_id", "application_id"))


@router.post("/v1/brands/{brand_id}/reviewers", status_code=202, responses=ACCEPTED)
async def assign_reviewers(brand_id: BrandId, body: bodies.ReviewersAssign, request: Request) -> JSONResponse:
    return await write(request, bm.AssignReviewers(brand_id, body), ("brand_id", "application_id"))


@router.post("/v1/brands/{brand_id}/scores", status_code=202, responses=ACCEPTED)
async def score_application(brand_id: BrandId, body: bodies.ReviewScore, request: Request) -> JSONResponse:
    """An assigned reviewer's scores on the rubric, once (``GET /v1/brand-rules`` lists the items)."""
    return await write(request, bm.ScoreReview(brand_id, body), ("brand_id", "application_id", "reviewer"))


@router.post("/v1/brands/{brand_id}/decisions", status_code=202, responses=ACCEPTED)
async def decide_application(brand_id: BrandId, body: bodies.ApplicationDecide, request: Request) -> JSONResponse:
    """Closes the review; the decision rule decides from the scores (too few reviews: 409)."""
    return await write(request, bm.DecideApplication(brand_id, body), ("brand_id", "application_id"))


@router.post("/v1/brands/{brand_id}/rechecks", status_code=202, responses=ACCEPTED)
async def decide_recheck(brand_id: BrandId, body: bodies.RecheckDecide, request: Request) -> JSONResponse:
    """年度复核: the bureau's decision with its reason; the proposal and figures travel with it."""
    return await write(request, bm.DecideRecheck(brand_id, body), ("brand_id", "proposal", "decision"))


@router.post("/v1/brands/{brand_id}/complaints", status_code=202, responses=ACCEPTED)
async def record_complaint(brand_id: BrandId, body: bodies.ComplaintCreate, request: Request) -> JSONResponse:
    return await write(request, bm.RecordComplaint(brand_id, body), ("brand_id", "complaint_id"))


@router.post("/v1/brands/{brand_id}/persons", status_code=202, responses=ACCEPTED)
async def name_person(brand_id: BrandId, body: bodies.PersonCreate, request: Request) -> JSONResponse:
    return await write(request, bm.NameTypicalPerson(brand_id, body), ("brand_id", "person_id"))


# ---- reads --------------------------------------------------------------------------------------------------------
@router.get("/v1/brand-rules")
async def brand_rules() -> dict[str, Any]:
    """The rules as data: criteria per region and level, the rubric, the decision, re-check and integrity rules,
    and the labels of the figures."""
    return criteria.default_rules() | {"figure_labels": criteria.FIGURE_LABELS,
                                       "proposal_labels": criteria.PROPOSAL_LABELS}


@router.get("/v1/brands/{brand_id}/criteria", response_model=Evaluated)
async def evaluate_criteria(brand_id: BrandId, pool: PoolDep, level: BrandLevel | None = None) -> Evaluated:
    """入库标准 of ``level`` (default: the brand's) judged against the brand's figures today."""
    found = await _file(pool, brand_id)
    target = level or found.level
    ev = criteria.evaluate(found.figures, target, found.region_code)
    return Evaluated(brand_id=brand_id, level=target, region_code=found.region_code, evaluation=ev.public())


@router.get("/v1/brands/{brand_id}/integrity", response_model=Integrity)
async def rate_integrity(brand_id: BrandId, pool: PoolDep) -> Integrity:
    """诚信评价 today, with its inputs; ``recorded_rating`` is what the bureau last set on the brand."""
    found = await _file(pool, brand_id)
    rating = criteria.integrity(criteria.integrity_inputs(found.figures, found.management))
    return Integrity(brand_id=brand_id, recorded_rating=found.integrity_rating, **rating)


@router.get("/v1/brands/{brand_id}/recheck", response_model=RecheckProposal)
async def propose_recheck(brand_id: BrandId, pool: PoolDep,
                          year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> RecheckProposal:
    """年度复核's proposal from today's figures, and the year's decision if one was made."""
    found = await _file(pool, brand_id)
    year = year or datetime.now(BEIJING).year
    proposed = recheck_proposal(found)
    return RecheckProposal(brand_id=brand_id, year=year, level=found.level, status=found.status,
                           decided=found.management.get("rechecks", {}).get(str(year)), **proposed)


@router.get("/v1/brands/{brand_id}/management", response_model=bodies.ManagementPublic)
async def get_management(brand_id: BrandId, pool: PoolDep, actor: CurrentActor) -> bodies.ManagementPublic:
    """Applications with their criteria, reviews and decisions; re-checks; complaints; typical persons (a worker
    shown masked, and only to a caller who sees that worker)."""
    return bodies.ManagementPublic(**await brand_management.management(pool, brand_id, actor))


@router.get("/v1/brand-applications", response_model=Applications)
async def list_applications(
    pool: PoolDep, actor: CurrentActor,
    status: Literal["open", "submitted", "in_review", "approved", "refused"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> Applications:
    """The applications of the brands in the caller's jurisdiction, newest first."""
    return Applications(items=await brand_management.applications(pool, actor, status=status, reviewer=None,
                                                                  limit=limit))


@router.get("/v1/reviews", response_model=Applications)
async def my_reviews(
    pool: PoolDep, actor: CurrentActor,
    status: Literal["open", "submitted", "in_review", "approved", "refused"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> Applications:
    """A reviewer's assigned applications (评审任务), newest first."""
    me = username_of(actor.subject) or actor.org
    return Applications(items=await brand_management.applications(pool, actor, status=status, reviewer=me,
                                                                  limit=limit))
