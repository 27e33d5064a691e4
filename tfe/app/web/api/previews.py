"""Previews of a document: a first-page thumbnail (PDF, office files) or its text (ged.previews)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tfe.app.web.deps import CurrentUser, RuntimeDep, ScopeDep, SessionDep, TargetId
from tfe.app.web.errors import error_responses
from tfe.core.security import audit

router = APIRouter(prefix="/api/documents", tags=["documents"])

MAX_VERSION = 1_000_000


@router.get(
    "/{doc_id}/preview",
    summary="First-page thumbnail (PNG), or the first lines of the text when none can be drawn",
    response_class=Response,
    responses={
        200: {
            "description": "A PNG thumbnail (`X-Preview-Kind: image`), or the text preview as plain "
            "text (`X-Preview-Kind: text`) for a file without a drawing (text, HTML, a broken PDF, an "
            "office file where LibreOffice is not installed)",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        **error_responses(400, 401, 404),
    },
)
def preview(
    doc_id: TargetId,
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    runtime: RuntimeDep,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="Version number (latest when absent)")
    ] = None,
) -> Response:
    shown = runtime.previewer.preview(session, doc_id, scope, version)
    audit.record(
        session,
        "document.preview",
        audit.Actor.of_scope(scope, "api"),
        target_kind="document",
        target_id=doc_id,
        detail={"version": shown.version, "kind": shown.kind},
    )
    headers = {
        "Cache-Control": "private, max-age=300",
        "X-Content-Type-Options": "nosniff",
        "X-Preview-Kind": shown.kind,
    }
    if shown.png is not None:
        return Response(content=shown.png, media_type="image/png", headers=headers)
    return Response(content=shown.text, media_type="text/plain; charset=utf-8", headers=headers)
