"""``/documents/ressemblances``: the near-duplicates recorded at upload, for curators (ged.neardup).

Each row says « A ressemble à 92 % à B » with links to both; only pairs whose two documents the curator
may see are listed. Nothing is merged: the curator opens both and decides (edit, archive, keep).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ged import neardup
from tfe.app.web.deps import PageScopeDep, PageUser, SessionDep, csrf_token
from tfe.app.web.templating import templates
from tfe.core.errors import PermissionDeniedError
from tfe.core.security import audit

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE_SIZE = 50
CURATOR_ROLES = frozenset({"curator", "admin"})


@router.get("/documents/ressemblances")
def similar_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    if user.role not in CURATOR_ROLES:
        raise PermissionDeniedError(
            "La liste des ressemblances est réservée aux curateurs et administrateurs."
        )
    total, pairs = neardup.similar_list(session, scope, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    audit.record(
        session,
        "document.similar.list",
        audit.Actor.of_scope(scope, "web"),
        detail={"page": page, "total": total},
    )
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "pairs": pairs,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    }
    return templates.TemplateResponse(request, "similarities.html", context)
