"""The curators' queue: ``GET /api/curation/queue``, ``POST /api/items/{id}/decision`` and
``POST /api/curation/decisions`` (bulk accept or reject), over ``veille.curation``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tfe.app.web.api.filters import CountryFilter, SectorFilter
from tfe.app.web.deps import RuntimeDep, ScopeDep, SessionDep, TargetId
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.curation import (
    BulkDecision,
    BulkResultPublic,
    DecisionBody,
    DecisionPublic,
    QueuePublic,
)
from veille import curation, curation_queue

router = APIRouter(tags=["watch"])


@router.get(
    "/api/curation/queue",
    summary="Watch items waiting for a curator's decision (curators and admins)",
    responses=error_responses(400, 401, 403),
)
def get_queue(
    session: SessionDep,
    scope: ScopeDep,
    runtime: RuntimeDep,
    source_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this source's items")
    ] = None,
    sector: SectorFilter = None,
    country: CountryFilter = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    status: Annotated[
        str, Query(pattern=r"^(new|accepted|auto_accepted|rejected|all)$", description="Curator status")
    ] = "new",
    limit: Annotated[int, Query(ge=1, le=curation_queue.MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> QueuePublic:
    page = curation_queue.curation_queue(
        session,
        scope,
        referential=runtime.referential,
        source_id=source_id,
        sector=sector,
        country=country,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        status=status,
        limit=limit,
        offset=offset,
        channel="api",
    )
    return QueuePublic.model_validate(page.as_dict())


@router.post(
    "/api/items/{item_id}/decision",
    summary="Accept, reject or correct one watch item (re-indexed at once)",
    responses=error_responses(400, 401, 403, 404),
)
def post_decision(
    item_id: TargetId, body: DecisionBody, session: SessionDep, scope: ScopeDep, runtime: RuntimeDep
) -> DecisionPublic:
    view = curation.decide(
        session,
        scope,
        item_id,
        body.decision,
        backend=runtime.backend,
        referential=runtime.referential,
        sectors=body.sectors,
        countries=body.countries,
        doc_type=body.type,
        story_id=body.story_id,
        channel="api",
    )
    return DecisionPublic.model_validate(view.as_dict())


@router.post(
    "/api/curation/decisions",
    summary="Accept or reject several watch items; each one done or failed with its reason",
    responses=error_responses(400, 401, 403),
)
def post_decisions(
    body: BulkDecision, session: SessionDep, scope: ScopeDep, runtime: RuntimeDep
) -> BulkResultPublic:
    result = curation.decide_many(
        session,
        scope,
        body.item_ids,
        body.decision,
        backend=runtime.backend,
        referential=runtime.referential,
        channel="api",
    )
    return BulkResultPublic.model_validate(result.as_dict())
