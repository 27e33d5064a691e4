"""``/api/taxonomy`` editing (contract C2): a concept in full, add, edit, move, merge, split, deprecate,
the change history with diffs, and revert, over ``taxonomy.editing``.

Writes are for curators and administrators (403 otherwise, checked before anything is looked up); each is
one transaction recording one change, audited, committed, and then handed to the reclassification job
(``tfe.app.jobs.reclassify.after_change``, when installed), whose answer comes back as ``reclassify``.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy.orm import Session

from taxonomy import editing
from taxonomy.editing_checks import get_concept
from taxonomy.editing_revert import get_change
from taxonomy.models import TaxonomyChange
from tfe.app.web.api.taxonomy_views import change_detail, change_view, concept_detail
from tfe.app.web.deps import CurrentUser, ScopeDep, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.taxonomy_edit import (
    ChangeDetailPublic,
    ChangeResultPublic,
    ChangesPublic,
    ConceptCreate,
    ConceptDetailPublic,
    ConceptUpdate,
    DeprecateBody,
    MergeBody,
    MoveBody,
    RevertBody,
    SplitBody,
)
from tfe.core.errors import PermissionDeniedError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.audit import Actor
from veille.alerts.concept_usage import subscriptions_using

router = APIRouter(prefix="/api/taxonomy", tags=["taxonomy"])
log = logging.getLogger(__name__)

CURATORS = frozenset({"curator", "admin"})
ConceptId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
ChangeId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_READ = error_responses(400, 401, 404)


def _curator(user: User) -> None:
    if user.role not in CURATORS:
        raise PermissionDeniedError("modifier la taxonomie est réservé aux curateurs et aux administrateurs")


def _reclassify(session: Session, change: TaxonomyChange) -> dict[str, Any] | None:
    """Start the reclassification of what the change can affect (``None``: no such job installed)."""
    from tfe.app.jobs.reclassify import after_change  # the job module loads spaCy helpers: on first use
    try:
        result = after_change(session, change)
        session.commit()
    except Exception:  # the change is committed: say the job failed rather than answer 500
        session.rollback()
        log.exception("reclassification after change %s failed", change.id)
        return {"status": "failed", "error": "la reclassification n'a pas pu démarrer ; relancez-la"}
    if result is None or isinstance(result, dict):
        return result
    as_dict = getattr(result, "as_dict", None)
    return dict(as_dict()) if callable(as_dict) else {"status": str(result)}


def _done(session: Session, user: User, change: TaxonomyChange) -> dict[str, Any]:
    view = change_view(change)
    audit.record(
        session,
        "taxonomy.change",
        Actor.of_user(user, "api"),
        target_kind="concept",
        target_id=change.concept_id,
        detail={"change": change.id, "action": change.action, "concepts": view["concepts"]},
    )
    session.commit()
    return {"change": view, "reclassify": _reclassify(session, change)}


def _read(session: Session, user: User, kind: str, target: str | None, **detail: Any) -> None:
    audit.record(
        session,
        "taxonomy.read",
        Actor.of_user(user, "api"),
        target_kind=kind,
        target_id=target,
        detail=detail,
    )


@router.get(
    "/concepts/{concept_id}",
    summary="One concept in full: labels, notes, links, rules, counts in the caller's scope, latest changes",
    responses=_READ,
)
def get_concept_detail(
    concept_id: ConceptId, session: SessionDep, user: CurrentUser, scope: ScopeDep
) -> ConceptDetailPublic:
    row = get_concept(session, concept_id)
    body = concept_detail(session, scope, row)
    _read(session, user, "concept", concept_id)
    return ConceptDetailPublic.model_validate(body)


@router.post(
    "/concepts",
    status_code=201,
    summary="Add a concept (curators and admins)",
    responses=error_responses(400, 401, 403, 404, 409),
)
def post_concept(body: ConceptCreate, session: SessionDep, user: CurrentUser) -> ChangeResultPublic:
    _curator(user)
    fields = body.model_dump(
        exclude_unset=True, exclude={"scheme", "notation", "pref_label_fr", "broader_id", "reason"}
    )
    change = editing.add_concept(
        session,
        scheme_id=body.scheme,
        notation=body.notation,
        pref_label_fr=body.pref_label_fr,
        broader_id=body.broader_id,
        user_id=user.id,
        reason=body.reason,
        **fields,
    )
    return ChangeResultPublic.model_validate(_done(session, user, change))


@router.patch(
    "/concepts/{concept_id}",
    summary="Rename a concept, change its labels, notes, links, mappings or rules (curators and admins)",
    responses=error_responses(400, 401, 403, 404),
)
def patch_concept(
    concept_id: ConceptId, body: ConceptUpdate, session: SessionDep, user: CurrentUser
) -> ChangeResultPublic:
    _curator(user)
    changes = body.model_dump(exclude_unset=True, exclude={"reason"})
    change = editing.edit_concept(session, concept_id, changes, user_id=user.id, reason=body.reason)
    return ChangeResultPublic.model_validate(_done(session, user, change))


@router.post(
    "/concepts/{concept_id}/move",
    summary="Move a concept under another parent of its scheme (cycles refused; curators and admins)",
    responses=error_responses(400, 401, 403, 404, 409),
)
def move_concept(
    concept_id: ConceptId, body: MoveBody, session: SessionDep, user: CurrentUser
) -> ChangeResultPublic:
    _curator(user)
    change = editing.move_concept(session, concept_id, body.broader_id, user_id=user.id, reason=body.reason)
    return ChangeResultPublic.model_validate(_done(session, user, change))


@router.post(
    "/concepts/{concept_id}/merge",
    summary="Merge a concept into another: deprecated, labels, children and classifications moved",
    responses=error_responses(400, 401, 403, 404, 409),
)
def merge_concept(
    concept_id: ConceptId, body: MergeBody, session: SessionDep, user: CurrentUser
) -> ChangeResultPublic:
    _curator(user)
    change = editing.merge_concepts(session, concept_id, body.target_id, user_id=user.id, reason=body.reason)
    return ChangeResultPublic.model_validate(_done(session, user, change))


@router.post(
    "/concepts/{concept_id}/split",
    summary="Split a concept into new ones beside it (the original deprecated unless kept)",
    responses=error_responses(400, 401, 403, 404, 409),
)
def split_concept(
    concept_id: ConceptId, body: SplitBody, session: SessionDep, user: CurrentUser
) -> ChangeResultPublic:
    _curator(user)
    change = editing.split_concept(
        session, concept_id, body.parts, user_id=user.id, reason=body.reason, keep_original=body.keep_original
    )
    return ChangeResultPublic.model_validate(_done(session, user, change))


@router.post(
    "/concepts/{concept_id}/deprecate",
    summary="Deprecate a concept (without replacement: refused while alerts use it)",
    responses=error_responses(400, 401, 403, 404, 409),
)
def deprecate_concept(
    concept_id: ConceptId, body: DeprecateBody, session: SessionDep, user: CurrentUser
) -> ChangeResultPublic:
    _curator(user)
    change = editing.deprecate_concept(
        session,
        concept_id,
        replaced_by=body.replaced_by,
        user_id=user.id,
        reason=body.reason,
        subscriptions_using=subscriptions_using,
    )
    return ChangeResultPublic.model_validate(_done(session, user, change))


@router.get(
    "/changes",
    summary="The taxonomy's change history, newest first (optionally of one concept)",
    responses=error_responses(400, 401),
)
def list_changes(
    session: SessionDep,
    user: CurrentUser,
    concept: Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ChangesPublic:
    changes = editing.history(session, concept, limit=limit)
    _read(session, user, "taxonomy_change", None, concept=concept, limit=limit)
    return ChangesPublic.model_validate({"total": len(changes), "items": [change_view(c) for c in changes]})


@router.get(
    "/changes/{change_id}",
    summary="One taxonomy change with its field-by-field diff",
    responses=_READ,
)
def get_change_detail(change_id: ChangeId, session: SessionDep, user: CurrentUser) -> ChangeDetailPublic:
    body = change_detail(get_change(session, change_id))
    _read(session, user, "taxonomy_change", str(change_id))
    return ChangeDetailPublic.model_validate(body)


@router.post(
    "/changes/{change_id}/revert",
    summary="Revert a change (refused twice, or while a later change of the same concepts stands)",
    responses=error_responses(400, 401, 403, 404, 409),
)
def revert_change(
    change_id: ChangeId, session: SessionDep, user: CurrentUser, body: RevertBody | None = None
) -> ChangeResultPublic:
    _curator(user)
    reason = body.reason if body is not None else ""
    change = editing.revert_change(session, change_id, user_id=user.id, reason=reason)
    return ChangeResultPublic.model_validate(_done(session, user, change))
