"""``GET /api/search``: hybrid search over documents and watch items, scoped to the caller, with facets.

Watch item hits carry their ``story_id`` (one SQL look-up per page). With ``group=stories`` the watch
hits of one story collapse into its best-ranked hit, which carries ``story_size`` (the story's items the
caller sees); documents are unaffected. The grouping only merges hits the backend already returned in
the caller's scope, so it never shows more than the scoped query found.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from ged.expiry import expired_ids
from ged.field_schema import field_filters
from search.service import MAX_LIMIT, SearchParams, SearchService, with_org_names
from taxonomy.referential import Referential
from tfe.app.web.deps import CurrentUser, RuntimeDep, ScopeDep, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.search import SearchQuery, SearchResultsPublic
from tfe.core.security import audit
from tfe.core.security.audit import Actor
from tfe.core.security.scope import AccessScope
from veille.items import story_ids_of, story_sizes

router = APIRouter(prefix="/api/search", tags=["search"])

GROUP_SCAN = 1000
"""Matches looked at, at most, to build the grouped pages (deeper grouped pages are empty)."""


@router.get("", summary="Search documents and watch items", responses=error_responses(400, 401))
def search(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    query: Annotated[SearchQuery, Query()],
) -> SearchResultsPublic:
    params = SearchParams(
        fields=typed_field_filters(request, runtime.referential, tuple(query.type)),
        q=query.q,
        sector=tuple(query.sector),
        country=tuple(query.country),
        type=tuple(query.type),
        filiere=tuple(query.filiere),
        signal=tuple(query.signal),
        limit=query.limit,
        offset=query.offset,
        mode=query.mode,
        org=tuple(query.org),
        language=tuple(query.language),
        status=tuple(query.status),
        sort=query.sort,
        date_from=query.date_from,
        date_to=query.date_to,
    )
    result = run_search(
        runtime.search_service,
        session,
        scope.with_archived(query.include_archived or "archived" in query.status),
        Actor.of_user(user, "api"),
        params,
        group=query.group,
    )
    suggestions = [{**s, "url": _url(s, query)} for s in result.get("suggestions", [])]
    return SearchResultsPublic.model_validate({**result, "suggestions": suggestions})


def typed_field_filters(
    request: Request, referential: Referential, types: tuple[str, ...]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``field.<name>=<value>`` query parameters (typed document fields, ``ged.field_schema``) as the
    keywords the passages carry; the field must be filterable in the filtered types (any type if none)."""
    pairs = [(k, v[:200]) for k, v in request.query_params.multi_items() if k.startswith("field.")]
    if not pairs:
        return ()
    return field_filters(pairs, referential, tuple(referential.resolve(t, "doctype") or t for t in types))


def run_search(
    service: SearchService,
    session: Session,
    scope: AccessScope,
    actor: audit.Actor,
    params: SearchParams,
    *,
    group: str | None = None,
) -> dict[str, Any]:
    """The audited search, its item hits with their story; ``group="stories"`` collapses each story.

    Document hits past their validity end carry ``expired: true`` (``ged.expiry``, one query per page).
    The search's audit event is committed as soon as it is written (before the story and expiry look-ups
    and the answer): the chain's head is locked only for the three statements of ``audit.record``.
    """
    if group == "stories":
        return _with_expiry(session, _grouped(service, session, scope, actor, params))
    result = service.run(session, scope, actor, params)
    session.commit()  # the audit event is durable before anything else; SQLite's write lock freed at once
    story_of = story_ids_of(session, scope, [h["id"] for h in result["hits"] if h.get("kind") == "item"])
    hits = [{**h, "story_id": story_of.get(h["id"]), "story_size": None} for h in result["hits"]]
    return _with_expiry(session, {**result, "hits": hits})


def _with_expiry(session: Session, result: dict[str, Any]) -> dict[str, Any]:
    expired = expired_ids(session, [h["id"] for h in result["hits"] if h.get("kind") == "document"])
    return {**result, "hits": [{**h, "expired": h["id"] in expired} for h in result["hits"]]}


def _grouped(
    service: SearchService, session: Session, scope: AccessScope, actor: audit.Actor, params: SearchParams
) -> dict[str, Any]:
    """Hits from the top, a story's later hits merged into its first one, until the page is full.

    ``total`` counts the groups: exact when every match was looked at, otherwise the matches less the
    merged hits found so far (an upper bound). Facets and suggestions are those of the plain query.
    """
    params = replace(params, org=service.org_ids(session, scope, params.org))
    wanted = params.offset + params.limit
    groups: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    stories: set[str] = set()
    merged = seen = 0
    while True:
        chunk = service.search(
            params.q,
            scope,
            sector=params.sector,
            country=params.country,
            type=params.type,
            limit=MAX_LIMIT,
            offset=seen,
            mode=params.mode,
            fields=dict(params.fields),
            org=params.org,
            language=params.language,
            status=params.status,
            filiere=params.filiere,
            signal=params.signal,
            sort=params.sort,
            date_from=params.date_from,
            date_to=params.date_to,
        )
        first = first or with_org_names(session, chunk)
        hits: list[dict[str, Any]] = chunk["hits"]
        story_of = story_ids_of(session, scope, [h["id"] for h in hits if h.get("kind") == "item"])
        for hit in hits:
            story_id = story_of.get(hit["id"]) if hit.get("kind") == "item" else None
            if story_id is not None and story_id in stories:
                merged += 1
                continue
            if story_id is not None:
                stories.add(story_id)
            groups.append({**hit, "story_id": story_id, "story_size": None})
        seen += len(hits)
        exhausted = not hits or seen >= int(chunk["total"])
        if exhausted or len(groups) >= wanted or seen >= GROUP_SCAN:
            break
    total = len(groups) if exhausted else int(first["total"]) - merged
    page = groups[params.offset : wanted]
    sizes = story_sizes(session, scope, {h["story_id"] for h in page if h["story_id"]})
    for hit in page:
        if hit["story_id"]:
            hit["story_size"] = max(1, sizes.get(hit["story_id"], 1))
    audit.record(
        session,
        "search",
        actor,
        target_kind="search",
        detail={**params.audit_detail(), "group": "stories", "total": total},
    )
    session.commit()  # as in run_search: the event committed now, the write lock not held any longer
    return {**first, "total": total, "hits": page}


def _url(suggestion: dict[str, Any], query: SearchQuery) -> str:
    """A suggestion as the request to send: its text and filters, this request's mode and page size."""
    params: list[tuple[str, str]] = [("q", suggestion["q"])] if suggestion["q"] else []
    for facet in ("sector", "country", "type"):
        params.extend((facet, value) for value in suggestion.get(facet, []))
    if suggestion["kind"] != "browse":  # a browse suggestion is a plain sector, no other filter
        for name in ("org", "language", "status"):
            params.extend((name, value) for value in getattr(query, name))
        for name in ("date_from", "date_to"):
            if getattr(query, name):
                params.append((name, getattr(query, name)))
    if query.sort != "relevance":
        params.append(("sort", query.sort))
    if query.mode != "hybrid":
        params.append(("mode", query.mode))
    if query.limit != 10:
        params.append(("limit", str(query.limit)))
    if query.group:
        params.append(("group", query.group))
    return "/api/search" + (f"?{urlencode(params)}" if params else "")
