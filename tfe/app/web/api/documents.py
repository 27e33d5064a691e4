"""``/api/documents``: upload (multipart), metadata with classifications and versions, original content.

The upload route reads the file under the size cap and hands it to ``DocumentService.upload``, which
sanitises the name, checks the document type and applies the acceptance policy (``ingest.acceptance``);
every refusal (400, 413, 415) is recorded there before it is answered.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, UploadFile
from fastapi.responses import Response

from ged import documents as ged_documents
from ged.documents import download_document
from tfe.app.web.deps import BlobStoreDep, CurrentUser, RuntimeDep, ScopeDep, SessionDep, TargetId
from tfe.app.web.downloads import DOWNLOAD_CONTENT, attachment_headers, safe_media_type
from tfe.app.web.errors import error_responses
from tfe.app.web.limits import too_large_message
from tfe.app.web.schemas.documents import DocumentCreate, DocumentPublic, DocumentUploadPublic
from tfe.core.errors import ExtractionError, PermissionDeniedError, TooLargeError
from tfe.core.settings import Settings

router = APIRouter(prefix="/api/documents", tags=["documents"])

DocId = TargetId
UPLOAD_ROLES = frozenset({"contributor", "curator", "admin"})
MAX_VERSION = 1_000_000  # far above any real history, far below SQLite's 64-bit integers
_CHUNK = 1024 * 1024


def _file_limit(settings: Settings) -> tuple[int, str]:
    """The per-file cap and the setting it comes from (the smaller of the upload and the ingest caps)."""
    if settings.max_file_bytes < settings.max_upload_bytes:
        return settings.max_file_bytes, "TFE_MAX_FILE_BYTES"
    return settings.max_upload_bytes, "TFE_MAX_UPLOAD_BYTES"


def _read_capped(upload: UploadFile, limit: int, setting: str) -> bytes:
    """The upload's bytes, counted while reading (the body cap already applies; this is per file)."""
    parts: list[bytes] = []
    total = 0
    while chunk := upload.file.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise TooLargeError(too_large_message(limit, setting))
        parts.append(chunk)
    return b"".join(parts)


@router.post(
    "",
    summary="Upload a document (ingested, classified and indexed at once)",
    status_code=201,
    responses={
        200: {"model": DocumentUploadPublic, "description": "Duplicate of an existing document"},
        **error_responses(400, 401, 403, 413, 415, 422),
    },
)
def upload_document(
    runtime: RuntimeDep,
    session: SessionDep,
    user: CurrentUser,
    form: Annotated[DocumentCreate, Form(media_type="multipart/form-data")],
    response: Response,
) -> DocumentUploadPublic:
    if user.role not in UPLOAD_ROLES:
        raise PermissionDeniedError("uploading needs the contributor, curator or admin role")
    limit, setting = _file_limit(runtime.settings)
    try:
        data = _read_capped(form.file, limit, setting)
    except TooLargeError as exc:
        runtime.documents.refuse(
            user,
            filename=form.file.filename,
            size=form.file.size or limit + 1,
            reason=exc.message,
            channel="api",
            visibility=form.visibility,
            doc_type=form.doc_type,
        )
        raise
    filename = runtime.documents.screen_upload(
        user,
        filename=form.file.filename,
        data=data,
        visibility=form.visibility,
        doc_type=form.doc_type or None,
        channel="api",
    )
    result = runtime.documents.upload(
        user,
        filename=filename,
        data=data,
        visibility=form.visibility,
        doc_type=form.doc_type or None,
        channel="api",
    )
    if result.status == "failed":
        raise ExtractionError(f"{filename}: {result.reason or 'the file could not be read'}")
    if result.status == "duplicate":
        response.status_code = 200
    url = f"/api/documents/{result.id}" if result.id else None
    similar = [{**s.as_dict(), "url": f"/documents/{s.id}"} for s in result.similar]
    return DocumentUploadPublic.model_validate({**result.as_dict(), "url": url, "similar": similar})


@router.get(
    "/{doc_id}",
    summary="Document metadata, classifications and versions",
    responses=error_responses(400, 401, 404),
)
def read_document(doc_id: DocId, session: SessionDep, user: CurrentUser, scope: ScopeDep) -> DocumentPublic:
    view = ged_documents.read_document(session, doc_id, scope, channel="api")
    content_url = f"/api/documents/{doc_id}/content"
    return DocumentPublic.model_validate({**view.as_dict(), "content_url": content_url})


@router.get(
    "/{doc_id}/content",
    summary="The original file (latest version unless ?version=N)",
    response_class=Response,
    responses={
        200: {
            "description": "The original bytes, as an attachment: the stored media type when it is a "
            "passive format (PDF, text, office files), else application/octet-stream (HTML, XHTML, SVG, "
            "XML and any other type a browser could run)",
            "content": DOWNLOAD_CONTENT,
        },
        **error_responses(400, 401, 404),
    },
)
def download_content(
    doc_id: DocId,
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    blobs: BlobStoreDep,
    version: Annotated[
        int | None, Query(ge=1, le=MAX_VERSION, description="Version number (latest when absent)")
    ] = None,
) -> Response:
    data, mime, filename = download_document(session, blobs, doc_id, scope, channel="api", version=version)
    # always an attachment; HTML, SVG, XML and any type not known to be passive as octet-stream
    return Response(content=data, media_type=safe_media_type(mime), headers=attachment_headers(filename))
