"""Versions of a document: upload a new version, history, restore, diff, check-out lock (``ged.versions``).

The new version's file is read under the size cap (``read_version_file``, as uploads are, for the API and
the document page); a file over it is recorded as a refused version before the 413. Every other
refusal is recorded by ``ged.versions``.
Any version's bytes download from ``GET /api/documents/{id}/content?version=N``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Form, Path, Query, UploadFile
from pydantic import BaseModel, Field

from ged.versions import MAX_COMMENT, VersionResult, diff_versions, version_history
from tfe.app.runtime import Runtime
from tfe.app.web.api.documents import MAX_VERSION, _file_limit, _read_capped
from tfe.app.web.deps import CurrentUser, RuntimeDep, ScopeDep, SessionDep, TargetId
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.common import IsoDateTime
from tfe.app.web.schemas.documents import DocumentVersionPublic, SimilarDocumentPublic
from tfe.core.errors import TooLargeError
from tfe.core.models import User

router = APIRouter(prefix="/api/documents", tags=["documents"])

VersionNumber = Annotated[int, Query(ge=1, le=MAX_VERSION)]


class VersionPublic(DocumentVersionPublic):
    """One stored version: who uploaded it, when, its size, hash and comment, and its file's URL."""

    content_url: str = Field(description="API URL of this version's original file")


class LockPublic(BaseModel):
    """A check-out lock in force: who holds it and until when."""

    user_id: int
    user: str = Field(description="The holder's name (or e-mail)")
    until: IsoDateTime


class VersionHistoryPublic(BaseModel):
    """A document's versions, newest first, and its lock (null when none holds)."""

    document_id: str
    current: int | None = Field(description="The current version's number")
    versions: list[VersionPublic]
    lock: LockPublic | None


class VersionAddedPublic(BaseModel):
    """A version stored (a new upload or a restore)."""

    status: str = Field(examples=["ok"])
    document_id: str
    number: int = Field(description="The new current version")
    restored_from: int | None = Field(description="The version restored, for a restore")
    version: VersionPublic
    similar: list[SimilarDocumentPublic] = Field(
        description="Near-duplicates of the new text among the documents the uploader may see (never merged)"
    )


class LockStatePublic(BaseModel):
    """The lock after the call: ``lock`` is null once released."""

    document_id: str
    lock: LockPublic | None
    released: LockPublic | None = Field(description="The lock an unlock released (null if none held)")


class SegmentPublic(BaseModel):
    text: str
    changed: bool


class DiffRowPublic(BaseModel):
    kind: str = Field(description="equal, replace, delete, insert, or skip (unchanged lines folded)")
    left_no: int | None
    right_no: int | None
    left: list[SegmentPublic]
    right: list[SegmentPublic]
    skipped: int


class DiffPublic(BaseModel):
    """The side-by-side diff of two versions' extracted texts (the older one is ``a``)."""

    document_id: str
    a: VersionPublic
    b: VersionPublic
    rows: list[DiffRowPublic]
    added: int
    removed: int
    identical: bool
    truncated: bool


class VersionCreate(BaseModel):
    """The multipart form of a new version."""

    file: UploadFile = Field(description="The new version of the file (same family as the document)")
    comment: str | None = Field(None, max_length=MAX_COMMENT, description="What changed")


class RestoreBody(BaseModel):
    comment: str | None = Field(None, max_length=MAX_COMMENT, description="Added after « Restauration … »")


class LockBody(BaseModel):
    minutes: int | None = Field(None, ge=1, le=10080, description="Lock length (default: the setting)")


def read_version_file(runtime: Runtime, user: User, doc_id: str, file: UploadFile, *, channel: str) -> bytes:
    """The new version's bytes, read under the upload cap; a file over it is recorded as a refused version
    (``VersionService.refuse``) before the ``TooLargeError`` goes on (the API's 413, the page's notice)."""
    limit, setting = _file_limit(runtime.settings)
    try:
        return _read_capped(file, limit, setting)
    except TooLargeError as exc:
        runtime.versions.refuse(
            user,
            doc_id,
            filename=file.filename,
            size=file.size or limit + 1,
            reason=exc.message,
            channel=channel,
        )
        raise


def _version(doc_id: str, data: dict[str, object]) -> VersionPublic:
    url = f"/api/documents/{doc_id}/content?version={data['number']}"
    return VersionPublic.model_validate({**data, "content_url": url})


def _added(doc_id: str, result: VersionResult) -> VersionAddedPublic:
    body = result.as_dict()
    similar = [{**s, "url": f"/documents/{s['id']}"} for s in body["similar"]]
    version = _version(doc_id, result.version.as_dict())
    return VersionAddedPublic.model_validate({**body, "version": version, "similar": similar})


@router.get(
    "/{doc_id}/versions",
    summary="A document's versions (who, when, size, hash, comment) and its lock",
    responses=error_responses(400, 401, 404),
)
def list_versions(
    doc_id: TargetId, session: SessionDep, user: CurrentUser, scope: ScopeDep
) -> VersionHistoryPublic:
    view, lock = version_history(session, doc_id, scope, channel="api")
    return VersionHistoryPublic(
        document_id=doc_id,
        current=view.latest.number if view.latest else None,
        versions=[_version(doc_id, v.as_dict()) for v in reversed(view.versions)],
        lock=LockPublic.model_validate(lock.as_dict()) if lock else None,
    )


@router.post(
    "/{doc_id}/versions",
    summary="Upload a new version (ingested, classified and indexed in place of the current one)",
    status_code=201,
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422),
)
def add_version(
    doc_id: TargetId,
    runtime: RuntimeDep,
    user: CurrentUser,
    form: Annotated[VersionCreate, Form(media_type="multipart/form-data")],
) -> VersionAddedPublic:
    data = read_version_file(runtime, user, doc_id, form.file, channel="api")
    result = runtime.versions.add_version(
        user, doc_id, filename=form.file.filename, data=data, comment=form.comment, channel="api"
    )
    return _added(doc_id, result)


@router.post(
    "/{doc_id}/versions/{number}/restore",
    summary="Restore an earlier version (as a new version « Restauration de la version N »)",
    status_code=201,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
def restore_version(
    doc_id: TargetId,
    number: Annotated[int, Path(ge=1, le=MAX_VERSION)],
    runtime: RuntimeDep,
    user: CurrentUser,
    body: Annotated[RestoreBody | None, Body()] = None,
) -> VersionAddedPublic:
    result = runtime.versions.restore(
        user, doc_id, number, comment=body.comment if body else None, channel="api"
    )
    return _added(doc_id, result)


@router.get(
    "/{doc_id}/versions/diff",
    summary="Diff of two versions' extracted texts (side by side, changed words marked)",
    responses=error_responses(400, 401, 404),
)
def version_diff(
    doc_id: TargetId,
    session: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    a: VersionNumber,
    b: VersionNumber,
) -> DiffPublic:
    result = diff_versions(session, doc_id, scope, a, b, channel="api")
    body = result.as_dict()
    return DiffPublic.model_validate(
        {**body, "a": _version(doc_id, result.left.as_dict()), "b": _version(doc_id, result.right.as_dict())}
    )


def _lock_state(doc_id: str, lock: object, released: object = None) -> LockStatePublic:
    def public(value: object) -> LockPublic | None:
        as_dict = getattr(value, "as_dict", None)
        return LockPublic.model_validate(as_dict()) if as_dict else None

    return LockStatePublic(document_id=doc_id, lock=public(lock), released=public(released))


@router.post(
    "/{doc_id}/lock",
    summary="Check the document out (lock it for new versions by others) or extend one's own lock",
    responses=error_responses(400, 401, 403, 404, 409),
)
def lock_document(
    doc_id: TargetId,
    runtime: RuntimeDep,
    user: CurrentUser,
    body: Annotated[LockBody | None, Body()] = None,
) -> LockStatePublic:
    lock = runtime.versions.lock(user, doc_id, minutes=body.minutes if body else None, channel="api")
    return _lock_state(doc_id, lock)


@router.delete(
    "/{doc_id}/lock",
    summary="Release the lock (its holder, or an admin of the document's organisation)",
    responses=error_responses(400, 401, 403, 404),
)
def unlock_document(doc_id: TargetId, runtime: RuntimeDep, user: CurrentUser) -> LockStatePublic:
    released = runtime.versions.unlock(user, doc_id, channel="api")
    return _lock_state(doc_id, None, released)
