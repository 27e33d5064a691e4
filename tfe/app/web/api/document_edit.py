"""``PATCH /api/documents/{id}``: edit a document's title, type, visibility, status and classifications."""

from __future__ import annotations

from fastapi import APIRouter

from ged.editing import DocumentChanges, edit_document
from tfe.app.web.deps import CurrentUser, RuntimeDep, SessionDep, TargetId
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.document_edit import DocumentUpdate, DocumentUpdatePublic

router = APIRouter(prefix="/api/documents", tags=["documents"])


def changes_of(body: DocumentUpdate) -> DocumentChanges:
    """The use case's changes from the API body."""
    return DocumentChanges(
        title=body.title,
        doc_type=body.doc_type,
        visibility=body.visibility,
        status=body.status,
        status_comment=body.status_comment,
        valid_until=body.valid_until,
        clear_valid_until="valid_until" in body.model_fields_set and body.valid_until is None,
        add_sectors=tuple(body.sectors.add) if body.sectors else (),
        remove_sectors=tuple(body.sectors.remove) if body.sectors else (),
        add_countries=tuple(body.countries.add) if body.countries else (),
        remove_countries=tuple(body.countries.remove) if body.countries else (),
    )


@router.patch(
    "/{doc_id}",
    summary="Edit a document's title, type, visibility, status, validity end, sectors and countries "
    "(re-indexed at once)",
    responses=error_responses(400, 401, 403, 404, 409),
)
def update_document(
    doc_id: TargetId, body: DocumentUpdate, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> DocumentUpdatePublic:
    result = edit_document(
        session, runtime.backend, runtime.referential, user, doc_id, changes_of(body), channel="api"
    )
    content_url = f"/api/documents/{doc_id}/content"
    return DocumentUpdatePublic.model_validate(
        {**result.view.as_dict(), "content_url": content_url, "changed": result.changed}
    )
