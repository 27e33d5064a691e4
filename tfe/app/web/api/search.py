"""``GET /api/search``: hybrid search over documents and watch items, scoped to the caller, with facets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from search.service import SearchParams
from tfe.app.web.deps import CurrentUser, RuntimeDep, ScopeDep, SessionDep
from tfe.core.security.audit import Actor

router = APIRouter(prefix="/api/search", tags=["search"])

Mode = Literal["hybrid", "bm25", "vector"]


@router.get("", summary="Search documents and watch items")
def search(
    runtime: RuntimeDep,
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    q: Annotated[str, Query(max_length=500, description="Free text (French or English)")] = "",
    sector: Annotated[
        list[str] | None, Query(description="Sector concept ids or NAF codes (repeatable)")
    ] = None,
    country: Annotated[
        list[str] | None, Query(description="Country concept ids or ISO codes (repeatable)")
    ] = None,
    type: Annotated[list[str] | None, Query(description="Document type concept ids (repeatable)")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    mode: Mode = "hybrid",
) -> dict[str, Any]:
    params = SearchParams(
        q=q,
        sector=tuple(sector or ()),
        country=tuple(country or ()),
        type=tuple(type or ()),
        limit=limit,
        offset=offset,
        mode=mode,
    )
    return runtime.search_service.run(session, scope, Actor.of_user(user, "api"), params)
