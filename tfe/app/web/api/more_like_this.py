"""More like this: ``GET /api/documents/{id}/similar`` and ``GET /api/items/{id}/similar``.

The documents and watch items nearest one document or item by meaning (``SearchService.similar``: its
passages' mean vector, a vector search in the caller's scope, the parent itself left out). The parent
must be visible to the caller, checked as its read routes check it (``ged.documents.visible_document``,
``veille.items.visible_item``): 404 otherwise. A parent without a vector yet answers an empty list with a
``reason``. Each call is audited (``document.similar`` / ``item.similar``). ``more_like_this`` is also
what the document and item pages show in their « Documents similaires » section.

Not to be confused with ``GET /api/documents/similar`` (``api/similar.py``: the near-duplicates list),
whose literal path is registered first.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from ged.documents import visible_document
from ged.expiry import expired_ids
from search.service import SearchService
from tfe.app.web.deps import RuntimeDep, ScopeDep, SessionDep, TargetId
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.search import SimilarQuery, SimilarResultsPublic
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope
from veille.items import story_ids_of, visible_item

router = APIRouter(tags=["search"])

Kind = Literal["document", "item"]


def more_like_this(
    service: SearchService,
    session: Session,
    scope: AccessScope,
    kind: Kind,
    target_id: str,
    *,
    limit: int,
    channel: str,
) -> dict[str, Any]:
    """Similar documents and items to one the caller may see (``NotFoundError`` otherwise), audited
    (``<kind>.similar``); hits as ``GET /api/search``'s (story of watch items, expiry of documents)."""
    if kind == "document":
        visible_document(session, target_id, scope)
    else:
        visible_item(session, target_id, scope)
    result = service.similar(target_id, scope, limit=limit)
    hits: list[dict[str, Any]] = result["hits"]
    items = [h["id"] for h in hits if h.get("kind") == "item"]
    story_of = story_ids_of(session, scope, items)
    expired = expired_ids(session, [h["id"] for h in hits if h.get("kind") == "document"])
    hits = [
        {**h, "story_id": story_of.get(h["id"]), "story_size": None, "expired": h["id"] in expired}
        for h in hits
    ]
    audit.record(
        session,
        f"{kind}.similar",
        audit.Actor.of_scope(scope, channel),
        target_kind=kind,
        target_id=target_id,
        detail={
            "limit": limit,
            "total": result["total"],
            **({"reason": result["reason"]} if result["reason"] else {}),
        },
    )
    return {**result, "hits": hits}


@router.get(
    "/api/documents/{doc_id}/similar",
    summary="Documents and watch items similar in meaning to one document, in the caller's scope",
    responses=error_responses(400, 401, 404),
)
def similar_to_document(
    doc_id: TargetId,
    runtime: RuntimeDep,
    session: SessionDep,
    scope: ScopeDep,
    query: Annotated[SimilarQuery, Query()],
) -> SimilarResultsPublic:
    result = more_like_this(
        runtime.search_service, session, scope, "document", doc_id, limit=query.limit, channel="api"
    )
    return SimilarResultsPublic.model_validate(result)


@router.get(
    "/api/items/{item_id}/similar",
    summary="Documents and watch items similar in meaning to one watch item, in the caller's scope",
    responses=error_responses(400, 401, 404),
)
def similar_to_item(
    item_id: TargetId,
    runtime: RuntimeDep,
    session: SessionDep,
    scope: ScopeDep,
    query: Annotated[SimilarQuery, Query()],
) -> SimilarResultsPublic:
    result = more_like_this(
        runtime.search_service, session, scope, "item", item_id, limit=query.limit, channel="api"
    )
    return SimilarResultsPublic.model_validate(result)
