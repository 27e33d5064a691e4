"""Lifecycle transitions, trash and retention review (``ged.lifecycle``, ``ged.trash``, ``ged.retention``).

``GET /api/documents/trash`` and ``GET /api/documents/review`` are registered before the documents router
(``tfe.app.web.app``), so these two names never reach ``GET /api/documents/{id}``.
"""

from __future__ import annotations

from fastapi import APIRouter

from ged import lifecycle, retention, trash
from ged.documents import get_document
from tfe.app.web.deps import CurrentUser, RuntimeDep, SessionDep, TargetId
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.documents import DocumentPublic
from tfe.app.web.schemas.lifecycle import (
    ReviewConfirmedPublic,
    ReviewListPublic,
    TransitionCreate,
    TransitionHistoryPublic,
    TrashEntryPublic,
    TrashListPublic,
)
from tfe.core.security import identity

router = APIRouter(prefix="/api/documents", tags=["documents"])


def _document(view_dict: dict[str, object], doc_id: str) -> DocumentPublic:
    return DocumentPublic.model_validate({**view_dict, "content_url": f"/api/documents/{doc_id}/content"})


@router.get(
    "/trash",
    summary="Documents in the trash the caller may restore (own organisation; its admins: all of it)",
    responses=error_responses(401),
)
def list_trash(runtime: RuntimeDep, session: SessionDep, user: CurrentUser) -> TrashListPublic:
    entries = trash.trash_list(session, user, retention_days=runtime.settings.trash_retention_days)
    return TrashListPublic.model_validate({"documents": [e.as_dict() for e in entries]})


@router.get(
    "/review",
    summary="Documents due for their retention review (owner; curators and admins: their organisation)",
    responses=error_responses(401),
)
def list_review(session: SessionDep, user: CurrentUser) -> ReviewListPublic:
    entries = retention.review_list(session, user)
    return ReviewListPublic.model_validate({"documents": [e.as_dict() for e in entries]})


@router.post(
    "/{doc_id}/transitions",
    summary="Move a document in its lifecycle (submit, validate, send back with a comment, archive)",
    responses=error_responses(400, 401, 403, 404, 409),
)
def create_transition(
    doc_id: TargetId, body: TransitionCreate, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> DocumentPublic:
    view = lifecycle.transition(
        session, runtime.backend, runtime.referential, user, doc_id, body.to, body.comment, channel="api"
    )
    return _document(view.as_dict(), doc_id)


@router.get(
    "/{doc_id}/transitions",
    summary="A document's status, the moves the caller may make and its history of moves",
    responses=error_responses(400, 401, 404),
)
def list_transitions(doc_id: TargetId, session: SessionDep, user: CurrentUser) -> TransitionHistoryPublic:
    moves = lifecycle.history(session, user, doc_id)
    document = lifecycle.visible_document(session, doc_id, user)
    allowed = [
        {"to": m.target, "action": m.action, "label": m.label, "comment_required": m.comment_required}
        for m in lifecycle.allowed_moves(user, document)
    ]
    return TransitionHistoryPublic.model_validate(
        {
            "id": doc_id,
            "status": document.status,
            "allowed": allowed,
            "transitions": [t.as_dict() for t in moves],
        }
    )


@router.delete(
    "/{doc_id}",
    summary="Move a document to the trash (restorable for trash_retention_days, then purged)",
    responses=error_responses(400, 401, 403, 404),
)
def delete_document(
    doc_id: TargetId, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> TrashEntryPublic:
    entry = trash.trash_document(
        session,
        runtime.backend,
        user,
        doc_id,
        retention_days=runtime.settings.trash_retention_days,
        channel="api",
    )
    return TrashEntryPublic.model_validate(entry.as_dict())


@router.post(
    "/{doc_id}/restore",
    summary="Take a document out of the trash (re-indexed at once)",
    responses=error_responses(400, 401, 404),
)
def restore_document(
    doc_id: TargetId, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> DocumentPublic:
    trash.restore_document(
        session,
        runtime.backend,
        runtime.referential,
        user,
        doc_id,
        channel="api",
    )
    view = get_document(session, doc_id, identity.scope_for(user))
    return _document(view.as_dict(), doc_id)


@router.post(
    "/{doc_id}/review",
    summary="Confirm a document's retention review (its next review is one delay from now)",
    responses=error_responses(400, 401, 403, 404),
)
def confirm_review(doc_id: TargetId, session: SessionDep, user: CurrentUser) -> ReviewConfirmedPublic:
    due = retention.confirm_review(session, user, doc_id, channel="api")
    return ReviewConfirmedPublic(id=doc_id, review_due_at=due.isoformat())
