"""``/api/documents``: upload (multipart), metadata with classifications and versions, original content."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, UploadFile
from fastapi.responses import JSONResponse, Response

from ged import documents as ged_documents
from ged.documents import download_document
from tfe.app.web.deps import BlobStoreDep, CurrentUser, RuntimeDep, ScopeDep, SessionDep
from tfe.app.web.errors import error_body
from tfe.app.web.uploads import check_upload
from tfe.core.errors import PermissionDeniedError, TooLargeError

router = APIRouter(prefix="/api/documents", tags=["documents"])

Visibility = Literal["private", "organisation", "network", "public"]
DocId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
UPLOAD_ROLES = frozenset({"contributor", "curator", "admin"})
_CHUNK = 1024 * 1024


def _read_capped(upload: UploadFile, limit: int) -> bytes:
    """The upload's bytes, counted while reading (the body cap already applies; this is per file)."""
    parts: list[bytes] = []
    total = 0
    while chunk := upload.file.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise TooLargeError(f"file over the {limit}-byte upload limit")
        parts.append(chunk)
    return b"".join(parts)


@router.post(
    "",
    summary="Upload a document (ingested, classified and indexed at once)",
    status_code=201,
    responses={200: {"description": "Duplicate of an existing document"}, 413: {}, 415: {}, 422: {}},
)
def upload_document(
    runtime: RuntimeDep,
    session: SessionDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="The document (PDF, office, text, HTML, e-mail)")],
    visibility: Annotated[Visibility, Form()] = "organisation",
    doc_type: Annotated[str | None, Form(max_length=64, description="Document type concept id")] = None,
) -> JSONResponse:
    if user.role not in UPLOAD_ROLES:
        raise PermissionDeniedError("uploading needs the contributor, curator or admin role")
    data = _read_capped(file, min(runtime.settings.max_upload_bytes, runtime.settings.max_file_bytes))
    filename = check_upload(file.filename or "", data[:2048], len(data))
    result = runtime.documents.upload(
        user, filename=filename, data=data, visibility=visibility, doc_type=doc_type or None, channel="api"
    )
    status = result.status
    if status == "failed":
        message = f"{filename}: {result.reason or 'the file could not be read'}"
        return JSONResponse(error_body("extraction_failed", message), status_code=422)
    body = result.as_dict()
    if body.get("id"):
        body["url"] = f"/api/documents/{body['id']}"
    return JSONResponse(body, status_code=201 if status == "ok" else 200)


@router.get("/{doc_id}", summary="Document metadata, classifications and versions")
def read_document(doc_id: DocId, session: SessionDep, user: CurrentUser, scope: ScopeDep) -> dict[str, Any]:
    view = ged_documents.read_document(session, doc_id, scope, channel="api")
    body = view.as_dict()
    body["content_url"] = f"/api/documents/{doc_id}/content"
    return body


def _content_disposition(filename: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(c for c in ascii_name if c.isprintable() and c not in '"\\;') or "document"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/{doc_id}/content",
    summary="The original file (latest version unless ?version=N)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_content(
    doc_id: DocId,
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    blobs: BlobStoreDep,
    version: int | None = None,
) -> Response:
    data, mime, filename = download_document(session, blobs, doc_id, scope, channel="api", version=version)
    headers = {
        "Content-Disposition": _content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    }
    return Response(content=data, media_type=mime, headers=headers)
