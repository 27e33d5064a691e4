"""``GET /api/documents/similar``: the near-duplicates recorded at upload (ged.neardup), for curators.

Registered before ``/api/documents/{id}`` (``tfe.app.web.app``) so that the literal path wins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ged import neardup
from tfe.app.web.deps import CurrentUser, ScopeDep, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.documents import SimilarityListPublic
from tfe.core.errors import PermissionDeniedError
from tfe.core.security import audit

router = APIRouter(prefix="/api/documents", tags=["documents"])

CURATOR_ROLES = frozenset({"curator", "admin"})


def _ref(ref: neardup.SimilarRef) -> dict[str, object]:
    return {**ref.as_dict(), "url": f"/documents/{ref.id}"}


@router.get(
    "/similar",
    summary="Near-duplicates whose two documents the caller may see (curators, admins)",
    responses=error_responses(400, 401, 403),
)
def list_similar(
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SimilarityListPublic:
    if user.role not in CURATOR_ROLES:
        raise PermissionDeniedError("the list of near-duplicates is for curators and administrators")
    total, pairs = neardup.similar_list(session, scope, limit=limit, offset=offset)
    audit.record(
        session,
        "document.similar.list",
        audit.Actor.of_scope(scope, "api"),
        detail={"limit": limit, "offset": offset, "total": total},
    )
    return SimilarityListPublic.model_validate(
        {
            "total": total,
            "items": [
                {
                    "document": _ref(p.document),
                    "similar": _ref(p.similar),
                    "version": p.version,
                    "score": round(p.score, 4),
                    "created_at": p.created_at.isoformat() if p.created_at else None,
                }
                for p in pairs
            ],
        }
    )
