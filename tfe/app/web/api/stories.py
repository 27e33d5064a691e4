"""``GET /api/stories`` and ``GET /api/stories/{id}``: watch stories in the caller's scope, over
``veille.stories`` (only visible items count; rejected ones only for curators and admins who ask)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from tfe.app.web.api.filters import CountryFilter, SectorFilter
from tfe.app.web.deps import RuntimeDep, ScopeDep, SessionDep, TargetId
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.stories import StoriesPublic, StoryPublic, story_public
from tfe.core.errors import PermissionDeniedError
from tfe.core.security.scope import AccessScope
from veille import stories
from veille.curation_queue import may_curate

router = APIRouter(prefix="/api/stories", tags=["watch"])

IncludeRejected = Annotated[
    bool, Query(description="Also count rejected items (curators and admins only; 403 otherwise)")
]


def check_include_rejected(scope: AccessScope, include_rejected: bool) -> None:
    """Rejected items are shown to curators and administrators only."""
    if include_rejected and not may_curate(scope):
        raise PermissionDeniedError("include_rejected needs the curator or admin role")


@router.get(
    "",
    summary="Watch stories, most recently seen first (each with its visible items and sources)",
    responses=error_responses(400, 401, 403),
)
def list_stories(
    session: SessionDep,
    scope: ScopeDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=stories.MAX_PAGE, description="Stories per page")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Stories to skip")] = 0,
    since: Annotated[
        dt.datetime | None, Query(description="Only stories seen since then (ISO 8601; UTC if no offset)")
    ] = None,
    sector: SectorFilter = None,
    country: CountryFilter = None,
    include_rejected: IncludeRejected = False,
) -> StoriesPublic:
    check_include_rejected(scope, include_rejected)
    page = stories.story_page(
        session,
        scope,
        referential=runtime.referential,
        limit=limit,
        offset=offset,
        since=since,
        sector=sector,
        country=country,
        include_rejected=include_rejected,
        channel="api",
    )
    return StoriesPublic(total=page.total, stories=[story_public(s.as_dict()) for s in page.stories])


@router.get(
    "/{story_id}",
    summary="One watch story and its visible items (404 when none is visible)",
    responses=error_responses(400, 401, 403, 404),
)
def get_story(
    story_id: TargetId, session: SessionDep, scope: ScopeDep, include_rejected: IncludeRejected = False
) -> StoryPublic:
    check_include_rejected(scope, include_rejected)
    view = stories.read_story(session, story_id, scope, channel="api", include_rejected=include_rejected)
    return story_public(view.as_dict())
