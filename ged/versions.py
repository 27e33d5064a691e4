"""Versions of a document: a new version, a restore, the check-out lock, the diff between two versions.

- **Who.** Adding or restoring a version and taking the lock need ``ged.editing.may_edit`` (the owner,
  or a contributor, curator or admin of the owning organisation); a document the caller may not see is
  ``NotFoundError``, one they see but may not edit ``PermissionDeniedError``. Older versions stay
  readable (download, diff) to whoever may read the document.
- **A new version** goes through the one ingestion pipeline (run kind ``version``) as an ``IngestItem``
  carrying the document's ownership and ``meta["version_of"]``: the sink (``ged.sink``) stores version
  N+1 under the document's id with its comment and author, replaces the automatic classifications (the
  curators' rows and rejections stay), and the writer replaces the document's passages, so search and
  classification follow the current version only. The passages are then re-indexed from the document's
  rows (``ged.reindex``) so they carry its title, curator concepts and status, not the file's.
- **Refusals** are recorded (a failed ingest record of kind ``version`` and a ``document.version.add``
  audit event with status ``refused``) before they are raised: locked by someone else, or in the trash
  (``ConflictError`` 409), identical bytes to the current version (409, nothing stored), too large (413),
  a file the acceptance policy refuses or of another family than the document's (415,
  ``FAMILIES``), unreadable (422).
- **Restore** ingests the bytes of version N again as a new version, commented « Restauration de la
  version N » (``document.version.restore``).
- **Lock.** ``lock`` gives the document to one person until a time (default
  ``settings.version_lock_minutes``); while it holds, a version from anyone else is 409 naming the holder
  and the time. It is released by the holder's next version, by ``unlock`` (the holder, or an admin who
  may edit the document), or by its expiry (an expired lock is ignored and cleared on the next write).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ged.diff import TextDiff, text_diff
from ged.documents import BlobReader, DocumentView, VersionView, get_document, version_views, visible_document
from ged.editing import editable_document
from ged.intake import RunnerFactory, audit_document, ingest_one
from ged.locks import (
    DocumentLockedError,
    LockView,
    lock_state,
    not_deleted,
    paris_time,
    release_lock,
    take_lock,
)
from ged.models import Document, DocumentVersion
from ged.neardup import SimilarRef
from ged.reindex import reindex_document
from ingest.acceptance import HEAD_BYTES, RefusedInput, clean_filename, clean_text, screen
from ingest.item import IngestItem
from ingest.runner import record_refused
from search.backend import SearchBackend
from taxonomy.referential import Referential
from tfe.core.db import session_scope
from tfe.core.errors import (
    ConflictError,
    ExtractionError,
    NotFoundError,
    TooLargeError,
    ValidationError,
)
from tfe.core.models import User
from tfe.core.security import audit, identity
from tfe.core.security.scope import AccessScope

__all__ = [
    "FAMILIES",
    "MAX_COMMENT",
    "DocumentLockedError",
    "LockView",
    "VersionDiff",
    "VersionResult",
    "VersionService",
    "diff_versions",
    "family_of",
    "lock_state",
    "paris_time",
    "restore_comment",
    "version_history",
]

MAX_COMMENT = 1000
RUN_KIND = "version"

# A new version must be of the document's family (``docs/decisions.md``): a PDF may become a Word file
# or a text, never a workbook; the new MIME type is recorded on the version.
FAMILIES: dict[str, frozenset[str]] = {
    "document": frozenset(
        {".pdf", ".doc", ".dot", ".docx", ".docm", ".dotx", ".dotm", ".odt", ".ott", ".rtf", ".wpd"}
        | {".pages", ".txt", ".md", ".html", ".htm", ".xhtml", ".epub"}
    ),
    "spreadsheet": frozenset(
        {".xls", ".xlsx", ".xlsm", ".xlsb", ".xltx", ".ods", ".numbers", ".csv", ".tsv"}
    ),
    "presentation": frozenset({".ppt", ".pptx", ".pptm", ".potx", ".ppsx", ".odp", ".key"}),
    "data": frozenset({".xml", ".json", ".rss", ".atom"}),
    "mail": frozenset({".eml", ".mbox", ".msg"}),
}
_FAMILY_FR = {
    "document": "document texte (PDF, Word, OpenDocument, texte)",
    "spreadsheet": "tableur",
    "presentation": "présentation",
    "data": "données (XML, JSON)",
    "mail": "courriel",
}
_MIME_FAMILY = (
    ("application/pdf", "document"),
    ("wordprocessing", "document"),
    ("msword", "document"),
    ("opendocument.text", "document"),
    ("text/plain", "document"),
    ("text/html", "document"),
    ("spreadsheet", "spreadsheet"),
    ("ms-excel", "spreadsheet"),
    ("text/csv", "spreadsheet"),
    ("presentation", "presentation"),
    ("ms-powerpoint", "presentation"),
    ("message/rfc822", "mail"),
)

SimilarRecorder = Callable[[str, int, AccessScope], list[SimilarRef]]
ReferentialGetter = Callable[[], Referential]


def family_of(filename: str, mime: str | None = None) -> str | None:
    """The family (``FAMILIES``) of a file by its extension, else by its MIME type; ``None`` if unknown."""
    ext = PurePath(filename).suffix.lower()
    for family, extensions in FAMILIES.items():
        if ext in extensions:
            return family
    for needle, family in _MIME_FAMILY:
        if mime and needle in mime:
            return family
    return None


def restore_comment(number: int, comment: str | None = None) -> str:
    """The comment of a restore: « Restauration de la version N », then the person's own words."""
    base = f"Restauration de la version {number}"
    return f"{base} : {comment}" if comment else base


@dataclass(frozen=True)
class VersionResult:
    """A version stored: the document, its new number and the version as listed in the history."""

    document_id: str
    number: int
    version: VersionView
    restored_from: int | None = None
    similar: tuple[SimilarRef, ...] = ()  # near-duplicates of the new text the uploader may see

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "document_id": self.document_id,
            "number": self.number,
            "restored_from": self.restored_from,
            "version": self.version.as_dict(),
            "similar": [s.as_dict() for s in self.similar],
        }


@dataclass(frozen=True)
class VersionDiff:
    """Two versions of one document and the diff of their extracted texts (older on the left)."""

    document_id: str
    title: str
    left: VersionView
    right: VersionView
    diff: TextDiff

    def as_dict(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "a": self.left.as_dict(),
            "b": self.right.as_dict(),
            **self.diff.as_dict(),
        }


@dataclass(frozen=True)
class _Target:
    """What an ingestion of a new version needs of its document (read before the run)."""

    id: str
    org_id: int | None
    owner_user_id: int | None
    visibility: str
    doc_type: str | None
    status: str
    current: DocumentVersion | None


def version_history(
    session: Session, doc_id: str, scope: AccessScope, *, channel: str
) -> tuple[DocumentView, LockView | None]:
    """The document (its versions, oldest first) and its lock in force, audited ``document.read``
    (part ``versions``); ``NotFoundError`` for a document out of scope."""
    view = get_document(session, doc_id, scope)
    lock = lock_state(session, visible_document(session, doc_id, scope))
    audit.record(
        session,
        "document.read",
        audit.Actor.of_scope(scope, channel),
        target_kind="document",
        target_id=doc_id,
        detail={"part": "versions"},
    )
    return view, lock


def diff_versions(
    session: Session, doc_id: str, scope: AccessScope, a: int, b: int, *, channel: str
) -> VersionDiff:
    """The diff of versions ``a`` and ``b`` (any order: the older is on the left), audited
    ``document.diff``; ``NotFoundError`` for a document out of scope or a missing version."""
    view = get_document(session, doc_id, scope)
    low, high = sorted((a, b))
    rows = {
        v.number: v
        for v in session.scalars(
            select(DocumentVersion).where(
                DocumentVersion.document_id == doc_id, DocumentVersion.number.in_({low, high})
            )
        )
    }
    for number in (low, high):
        if number not in rows:
            raise NotFoundError(f"version {number} introuvable pour le document {doc_id}")
    left, right = version_views(session, [rows[low], rows[high]])
    result = VersionDiff(doc_id, view.title, left, right, text_diff(rows[low].text, rows[high].text))
    audit.record(
        session,
        "document.diff",
        audit.Actor.of_scope(scope, channel),
        target_kind="document",
        target_id=doc_id,
        detail={"a": low, "b": high, "added": result.diff.added, "removed": result.diff.removed},
    )
    return result


class VersionService:
    """New versions, restores and locks, each recorded and audited (see the module docstring)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        runner: RunnerFactory,
        blobs: BlobReader,
        backend: SearchBackend,
        referential: ReferentialGetter,
        *,
        lock_minutes: int,
        max_bytes: int,
        record_similar: SimilarRecorder | None = None,
    ) -> None:
        """``record_similar`` (``DocumentService.record_similar``): the near-duplicate check of a stored
        version, best effort; without it new versions are not compared."""
        self._sessions = session_factory
        self._runner = runner
        self._blobs = blobs
        self._backend = backend
        self._referential = referential
        self.lock_minutes = lock_minutes
        self.max_bytes = max_bytes
        self._record_similar = record_similar

    # -- versions --------------------------------------------------------------------------------------

    def add_version(
        self,
        user: User,
        doc_id: str,
        *,
        filename: str | None,
        data: bytes,
        comment: str | None = None,
        channel: str = "api",
    ) -> VersionResult:
        """Store ``data`` as the document's next version for ``user`` (see the module docstring)."""
        note = _clean_comment(comment)
        name = clean_filename(filename, data[:HEAD_BYTES])
        target = self._target(user, doc_id)
        try:
            self._check_writable(doc_id, user)
            if len(data) > self.max_bytes:
                raise TooLargeError(f"{name}: file too large ({len(data)} bytes > {self.max_bytes})")
            try:
                screen(name, data[:HEAD_BYTES], len(data))
            except RefusedInput as exc:
                raise RefusedInput(f"{name}: {exc.reason}") from exc
            self._check_family(target, name)
            self._check_new(target, data)
        except (ConflictError, TooLargeError, ValidationError) as exc:
            self.refuse(user, doc_id, filename=name, size=len(data), reason=exc.message, channel=channel)
            raise
        return self._ingest(user, target, name, data, note, channel, "document.version.add", None)

    def restore(
        self, user: User, doc_id: str, number: int, *, comment: str | None = None, channel: str = "api"
    ) -> VersionResult:
        """Version ``number`` again, as the document's next version (« Restauration de la version N »)."""
        note = restore_comment(number, _clean_comment(comment))
        target = self._target(user, doc_id)
        with session_scope(self._sessions) as session:
            source = session.scalar(
                select(DocumentVersion).where(
                    DocumentVersion.document_id == doc_id, DocumentVersion.number == number
                )
            )
            if source is None:
                raise NotFoundError(f"version {number} introuvable pour le document {doc_id}")
            filename, blob_key = source.filename, source.blob_key
        data = self._blobs.get(blob_key)
        try:
            self._check_writable(doc_id, user)
            self._check_new(target, data)
        except ConflictError as exc:
            self.refuse(user, doc_id, filename=filename, size=len(data), reason=exc.message, channel=channel)
            raise
        return self._ingest(user, target, filename, data, note, channel, "document.version.restore", number)

    def refuse(
        self, user: User, doc_id: str, *, filename: str | None, size: int, reason: str, channel: str = "api"
    ) -> None:
        """Record a version refused before ingestion (a failed ``version`` ingest record, an audit event)."""
        name = clean_filename(filename)
        record_refused(
            self._sessions,
            kind=RUN_KIND,
            key=f"version:{doc_id}:{user.id}:{name}",
            reason=reason,
            args={"document_id": doc_id, "filename": name, "size": size, "channel": channel},
        )
        self._audit(
            user,
            channel,
            "document.version.add",
            doc_id,
            {"filename": name, "size": size, "status": "refused", "reason": clean_text(reason)[:300]},
        )

    # -- lock (``ged.locks``) -------------------------------------------------------------------------

    def lock(self, user: User, doc_id: str, *, minutes: int | None = None, channel: str = "api") -> LockView:
        """Check the document out to ``user`` for ``minutes`` (default ``lock_minutes``); taking it again
        extends it; 409 ``DocumentLockedError`` while someone else holds it."""
        span = self.lock_minutes if minutes is None else minutes
        with session_scope(self._sessions) as session:
            return take_lock(session, user, doc_id, span, channel=channel)

    def unlock(self, user: User, doc_id: str, *, channel: str = "api") -> LockView | None:
        """Release the lock (its holder, or an admin who may edit the document); the lock released, or
        ``None`` when there was none in force."""
        with session_scope(self._sessions) as session:
            return release_lock(session, user, doc_id, channel=channel)

    # -- internals -------------------------------------------------------------------------------------

    def _target(self, user: User, doc_id: str) -> _Target:
        """The document ``user`` may edit (404 / 403 otherwise), read before any check that records."""
        with session_scope(self._sessions) as session:
            document = editable_document(session, doc_id, user)
            current = session.scalar(
                select(DocumentVersion)
                .where(DocumentVersion.document_id == doc_id)
                .order_by(DocumentVersion.number.desc())
                .limit(1)
            )
            if current is not None:
                session.expunge(current)
            return _Target(
                document.id,
                document.org_id,
                document.owner_user_id,
                document.visibility,
                document.doc_type,
                document.status,
                current,
            )

    def _check_writable(self, doc_id: str, user: User) -> None:
        with session_scope(self._sessions) as session:
            document = session.get(Document, doc_id)
            if document is None:
                raise NotFoundError(f"unknown document {doc_id!r}")
            not_deleted(document)
            held = lock_state(session, document)
            if held is not None and held.user_id != user.id:
                raise DocumentLockedError(held)

    @staticmethod
    def _check_family(target: _Target, name: str) -> None:
        if target.current is None:
            return
        had = family_of(target.current.filename, target.current.mime)
        new = family_of(name)
        if had is not None and new is not None and had != new:
            raise RefusedInput(
                f"{name}: une nouvelle version doit être du même type que le document "
                f"({_FAMILY_FR[had]}), pas {_FAMILY_FR[new]}"
            )

    @staticmethod
    def _check_new(target: _Target, data: bytes) -> None:
        if target.current is not None and hashlib.sha256(data).hexdigest() == target.current.content_hash:
            raise ConflictError(
                f"identique à la version courante (version {target.current.number}) : rien n'a été ajouté"
            )

    def _ingest(
        self,
        user: User,
        target: _Target,
        name: str,
        data: bytes,
        comment: str | None,
        channel: str,
        action: str,
        restored_from: int | None,
    ) -> VersionResult:
        meta: dict[str, Any] = {"uploaded_by": user.id, "version_of": target.id, "status": target.status}
        if comment:
            meta["comment"] = comment
        if restored_from is not None:
            meta["restored_from"] = restored_from
        item = IngestItem(
            key=f"version:{target.id}:{user.id}:{name}",
            kind="document",
            filename=name,
            data=data,
            org_id=target.org_id,
            owner_user_id=target.owner_user_id,
            visibility=target.visibility,
            doc_type=target.doc_type,
            meta=meta,
        )
        report, entry = ingest_one(self._runner, item, RUN_KIND)
        detail: dict[str, Any] = {
            "filename": name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "restored_from": restored_from,
            "run_id": report["run_id"],
        }
        if entry["status"] != "ok":
            reason = entry["reason"] or "the file could not be read"
            if reason.startswith("indexing failed"):
                self._reindex(target.id)  # the old version's passages were dropped with the failed write
            self._audit(user, channel, action, target.id, {**detail, "status": "failed", "reason": reason})
            raise ExtractionError(f"{name}: {reason}")
        with session_scope(self._sessions) as session:
            document = session.get(Document, target.id)
            assert document is not None
            if document.locked_by_user_id == user.id:  # the holder's version releases the lock
                document.locked_by_user_id, document.locked_until = None, None
            reindex_document(session, self._backend, self._referential(), document)
            row = session.scalar(
                select(DocumentVersion)
                .where(DocumentVersion.document_id == target.id)
                .order_by(DocumentVersion.number.desc())
                .limit(1)
            )
            assert row is not None
            (view,) = version_views(session, [row])
        similar = (
            self._record_similar(target.id, view.number, identity.scope_for(user))
            if self._record_similar
            else []
        )
        found = [{"id": s.id, "score": round(s.score, 4)} for s in similar]
        self._audit(
            user,
            channel,
            action,
            target.id,
            {**detail, "status": "ok", "number": view.number, "similar": found},
        )
        return VersionResult(target.id, view.number, view, restored_from, tuple(similar))

    def _reindex(self, doc_id: str) -> None:
        with session_scope(self._sessions) as session:
            document = session.get(Document, doc_id)
            if document is not None:
                reindex_document(session, self._backend, self._referential(), document)

    def _audit(self, user: User, channel: str, action: str, doc_id: str, detail: dict[str, Any]) -> None:
        audit_document(self._sessions, user, channel, action, doc_id, detail)


def _clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    text = " ".join(clean_text(comment).split())
    if len(text) > MAX_COMMENT:
        raise ValidationError(f"the comment has at most {MAX_COMMENT} characters")
    return text or None
