"""Read side of the GED: one document's metadata, versions, classifications and original content.

Every read takes the caller's ``AccessScope``; a document the caller may not see is reported exactly like
a missing one (``NotFoundError``) so that ids do not leak the existence of other organisations' files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ged.models import Document, DocumentVersion
from taxonomy.classifications import ClassificationView, classifications_of
from taxonomy.models import Concept
from tfe.core.errors import NotFoundError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope

__all__ = [
    "BlobReader",
    "DocumentView",
    "VersionView",
    "document_content",
    "download_document",
    "get_document",
    "read_document",
    "version_views",
    "visible_document",
]


class BlobReader(Protocol):
    """What reads need from the blob store (``ged.blobs.BlobStore`` or its encrypting wrapper)."""

    def get(self, key: str) -> bytes: ...


@dataclass(frozen=True)
class VersionView:
    number: int
    filename: str
    mime: str
    size: int
    content_hash: str
    created_at: dt.datetime | None
    comment: str | None = None  # the uploader's comment (``ged.versions``)
    author_id: int | None = None  # who uploaded it (``created_by_user_id``)
    author: str | None = None  # their name, else e-mail, when the account still exists

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "filename": self.filename,
            "mime": self.mime,
            "size": self.size,
            "sha256": self.content_hash,
            "created_at": _iso(self.created_at),
            "comment": self.comment,
            "author_id": self.author_id,
            "author": self.author,
        }


@dataclass(frozen=True)
class DocumentView:
    id: str
    title: str
    doc_type: str | None
    doc_type_label: str | None
    visibility: str
    status: str
    language: str | None
    author: str | None
    org_id: int | None
    owner_user_id: int | None
    source_uri: str | None
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    versions: list[VersionView]
    classifications: list[ClassificationView]

    @property
    def latest(self) -> VersionView | None:
        return self.versions[-1] if self.versions else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "type": {"id": self.doc_type, "label": self.doc_type_label} if self.doc_type else None,
            "visibility": self.visibility,
            "status": self.status,
            "language": self.language,
            "author": self.author,
            "org_id": self.org_id,
            "owner_user_id": self.owner_user_id,
            "source_uri": self.source_uri,
            "valid_from": _iso(self.valid_from),
            "valid_until": _iso(self.valid_until),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "versions": [v.as_dict() for v in self.versions],
            "classifications": [c.as_dict() for c in self.classifications],
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def visible_document(session: Session, doc_id: str, scope: AccessScope) -> Document:
    """The document row if the caller may see it (status and trash rules included), else
    ``NotFoundError`` (the rule of every read and write of a document)."""
    document = session.get(Document, doc_id)
    if document is None or not scope.can_see(
        visibility=document.visibility,
        org_id=document.org_id,
        owner_user_id=document.owner_user_id,
        status=document.status,
        deleted=document.deleted_at is not None,
    ):
        raise NotFoundError(f"unknown document {doc_id!r}")
    return document


def _versions(session: Session, doc_id: str) -> list[DocumentVersion]:
    return list(
        session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == doc_id)
            .order_by(DocumentVersion.number)
        )
    )


def version_views(session: Session, rows: list[DocumentVersion]) -> list[VersionView]:
    """``VersionView`` of each row, with its author's name (one query for all the authors)."""
    author_ids = {v.created_by_user_id for v in rows if v.created_by_user_id is not None}
    names = (
        {u.id: u.name or u.email for u in session.scalars(select(User).where(User.id.in_(author_ids)))}
        if author_ids
        else {}
    )
    return [
        VersionView(
            number=v.number,
            filename=v.filename,
            mime=v.mime,
            size=v.size,
            content_hash=v.content_hash,
            created_at=v.created_at,
            comment=v.comment,
            author_id=v.created_by_user_id,
            author=names.get(v.created_by_user_id) if v.created_by_user_id is not None else None,
        )
        for v in rows
    ]


def get_document(session: Session, doc_id: str, scope: AccessScope) -> DocumentView:
    """The document as the caller may see it; ``NotFoundError`` when missing or out of scope."""
    document = visible_document(session, doc_id, scope)
    type_label = None
    if document.doc_type:
        concept = session.get(Concept, document.doc_type)
        type_label = concept.pref_label_fr if concept is not None else document.doc_type
    versions = version_views(session, _versions(session, doc_id))
    return DocumentView(
        id=document.id,
        title=document.title,
        doc_type=document.doc_type,
        doc_type_label=type_label,
        visibility=document.visibility,
        status=document.status,
        language=document.language,
        author=document.author,
        org_id=document.org_id,
        owner_user_id=document.owner_user_id,
        source_uri=document.source_uri,
        valid_from=document.valid_from,
        valid_until=document.valid_until,
        created_at=document.created_at,
        updated_at=document.updated_at,
        versions=versions,
        classifications=classifications_of(session, "document", doc_id),
    )


def document_content(
    session: Session, blob_store: BlobReader, doc_id: str, scope: AccessScope, version: int | None = None
) -> tuple[bytes, str, str]:
    """The original bytes of a version (the latest by default), its MIME type and file name."""
    visible_document(session, doc_id, scope)
    versions = _versions(session, doc_id)
    if version is not None:
        versions = [v for v in versions if v.number == version]
    if not versions:
        raise NotFoundError(
            f"document {doc_id!r} has no version {version}"
            if version
            else f"document {doc_id!r} has no content"
        )
    chosen = versions[-1]
    return blob_store.get(chosen.blob_key), chosen.mime or "application/octet-stream", chosen.filename


def read_document(session: Session, doc_id: str, scope: AccessScope, *, channel: str) -> DocumentView:
    """A document in the caller's scope, its read recorded in the audit trail (API and pages alike)."""
    view = get_document(session, doc_id, scope)
    actor = audit.Actor.of_scope(scope, channel)
    audit.record(session, "document.read", actor, target_kind="document", target_id=doc_id)
    return view


def download_document(
    session: Session,
    blob_store: BlobReader,
    doc_id: str,
    scope: AccessScope,
    *,
    channel: str,
    version: int | None = None,
) -> tuple[bytes, str, str]:
    """``document_content`` for a caller, the download recorded in the audit trail."""
    data, mime, filename = document_content(session, blob_store, doc_id, scope, version)
    audit.record(
        session,
        "document.download",
        audit.Actor.of_scope(scope, channel),
        target_kind="document",
        target_id=doc_id,
        detail={"filename": filename, "version": version, "size": len(data)},
    )
    return data, mime, filename
