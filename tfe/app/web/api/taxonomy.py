"""``/api/taxonomy``: concept schemes and concepts (read from the database tables)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from taxonomy.concept_search import find_concepts
from taxonomy.models import Concept, ConceptScheme
from tfe.app.web.deps import CurrentUser, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.taxonomy import ConceptsPublic, SchemesPublic
from tfe.core.errors import NotFoundError
from tfe.core.security import audit
from tfe.core.security.audit import Actor

router = APIRouter(prefix="/api/taxonomy", tags=["taxonomy"])

MAX_OFFSET = 100_000  # far above any scheme's size, far below SQLite's 64-bit integers


@router.get("/schemes", summary="Concept schemes with their concept counts", responses=error_responses(401))
def list_schemes(session: SessionDep, user: CurrentUser) -> SchemesPublic:
    counts = dict(session.execute(select(Concept.scheme_id, func.count()).group_by(Concept.scheme_id)).all())
    schemes = session.scalars(select(ConceptScheme).order_by(ConceptScheme.id))
    items = [
        {
            "id": s.id,
            "uri": s.uri,
            "label": s.label_fr,
            "label_en": s.label_en,
            "version": s.version,
            "concepts": int(counts.get(s.id, 0)),
        }
        for s in schemes
    ]
    audit.record(session, "taxonomy.read", Actor.of_user(user, "api"), target_kind="scheme")
    return SchemesPublic.model_validate({"total": len(items), "items": items})


@router.get(
    "/concepts",
    summary="Concepts of a scheme, optionally matching a label or notation",
    response_model=ConceptsPublic,
    responses=error_responses(400, 401, 404),
)
def list_concepts(
    session: SessionDep,
    user: CurrentUser,
    scheme: Annotated[
        str | None, Query(max_length=32, description="Scheme id: naf, country, region, doctype")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words or word prefixes of a label, or a code")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    if scheme and session.get(ConceptScheme, scheme) is None:
        raise NotFoundError(f"unknown concept scheme {scheme!r}")
    page = find_concepts(session, q, scheme, limit=limit, offset=offset)
    total, rows = page.total, page.concepts
    items = [
        {
            "id": c.id,
            "scheme": c.scheme_id,
            "notation": c.notation,
            "level": c.level,
            "label": c.pref_label_fr,
            "label_en": c.pref_label_en,
            "broader": c.broader_id,
            "deprecated": c.deprecated,
            "replaced_by": c.replaced_by_id,
        }
        for c in rows
    ]
    audit.record(
        session,
        "taxonomy.read",
        Actor.of_user(user, "api"),
        target_kind="scheme",
        target_id=scheme,
        detail={"q": q, "limit": limit, "offset": offset},
    )
    return {"total": int(total), "items": items}
