"""``GET /api/search``: hybrid search over documents and watch items, scoped to the caller, with facets."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query

from search.service import SearchParams
from tfe.app.web.deps import CurrentUser, RuntimeDep, ScopeDep, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.search import SearchQuery, SearchResultsPublic
from tfe.core.security.audit import Actor

router = APIRouter(prefix="/api/search", tags=["search"])


@router.get("", summary="Search documents and watch items", responses=error_responses(400, 401))
def search(
    runtime: RuntimeDep,
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    query: Annotated[SearchQuery, Query()],
) -> SearchResultsPublic:
    params = SearchParams(
        q=query.q,
        sector=tuple(query.sector),
        country=tuple(query.country),
        type=tuple(query.type),
        limit=query.limit,
        offset=query.offset,
        mode=query.mode,
    )
    result = runtime.search_service.run(session, scope, Actor.of_user(user, "api"), params)
    suggestions = [{**s, "url": _url(s, query)} for s in result.get("suggestions", [])]
    return SearchResultsPublic.model_validate({**result, "suggestions": suggestions})


def _url(suggestion: dict[str, Any], query: SearchQuery) -> str:
    """A suggestion as the request to send: its text and filters, this request's mode and page size."""
    params: list[tuple[str, str]] = [("q", suggestion["q"])] if suggestion["q"] else []
    for facet in ("sector", "country", "type"):
        params.extend((facet, value) for value in suggestion.get(facet, []))
    if query.mode != "hybrid":
        params.append(("mode", query.mode))
    if query.limit != 10:
        params.append(("limit", str(query.limit)))
    return "/api/search" + (f"?{urlencode(params)}" if params else "")
