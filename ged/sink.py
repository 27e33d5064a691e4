"""The GED side of ingestion: processed files become ``Document`` + ``DocumentVersion`` rows and a blob.

An item with ``meta["version_of"]`` (``ged.versions``) is a new version of that stored document: the sink
adds version N+1 under the document's id (the writer then replaces the document's passages), takes the
new text's automatic classifications in place of the old ones and keeps every curator row (kept or
rejected). ``discard`` of such a save removes that version only and puts the previous automatic
classifications back.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ged.blobs import BlobStore
from ged.models import Document, DocumentVersion
from ingest.components.writer import document_status
from ingest.errors import IngestError
from ingest.item import IngestItem, Processed
from ingest.sink import classification_rows
from taxonomy.classifications import CURATOR, save_classifications
from taxonomy.models import Classification
from tfe.core.db import session_scope, utcnow
from tfe.core.security.scope import AccessScope

__all__ = ["DEFAULT_VISIBILITY", "VERSION_META_KEYS", "DocumentSink", "version_of"]

DEFAULT_VISIBILITY = "organisation"
_META_KEYS = (
    "dc:title",
    "dc:creator",
    "dcterms:created",
    "dcterms:modified",
    "dc:language",
    "Content-Type",
    "meta:page-count",
    "xmpTPg:NPages",
    "dc:subject",
    "meta:keyword",
    "dc:publisher",
)
# item.meta keys that describe the upload itself, not the file: kept out of the version's metadata
VERSION_META_KEYS = ("version_of", "comment")
_UNDO_KEEP = 256  # pending undo records (a discard follows its save at once; older ones are never used)


def version_of(item: IngestItem) -> str | None:
    """The stored document this item is a new version of (``item.meta["version_of"]``), else ``None``."""
    value = item.meta.get("version_of")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class _Undo:
    """What ``discard`` needs to undo a new version: its row and the automatic rows it replaced."""

    version_id: int
    classifications: list[tuple[str, float, str, dict[str, Any]]]


class DocumentSink:
    """``ContentSink`` for GED documents (``target_kind == "document"``)."""

    target_kind = "document"

    def __init__(self, session_factory: sessionmaker[Session], blob_store: BlobStore) -> None:
        self.session_factory = session_factory
        self.blobs = blob_store
        self._undo: OrderedDict[str, _Undo] = OrderedDict()
        self._undo_lock = threading.Lock()

    def find_by_hash(self, content_hash: str) -> str | None:
        with session_scope(self.session_factory) as session:
            return session.scalar(
                select(DocumentVersion.document_id)
                .where(DocumentVersion.content_hash == content_hash)
                .limit(1)
            )

    def find_duplicate(self, item: IngestItem, content_hash: str) -> str | None:
        """A stored document with these bytes that the item's uploader may see, else ``None``.

        De-duplication is scoped: the same file uploaded by another organisation, where this one cannot
        see it, is stored again as this organisation's own document, so the answer never discloses that
        someone else holds it.
        """
        if version_of(item) is not None:
            return None  # a new version is checked against its document by ``ged.versions``, not here
        scope = AccessScope.member(item.org_id, item.owner_user_id)
        with session_scope(self.session_factory) as session:
            return session.scalar(
                select(Document.id)
                .join(DocumentVersion, DocumentVersion.document_id == Document.id)
                .where(
                    DocumentVersion.content_hash == content_hash,
                    scope.sql_clause(  # a read's rules: not another organisation's draft, not the trash
                        Document.visibility,
                        Document.org_id,
                        Document.owner_user_id,
                        status=Document.status,
                        deleted_at=Document.deleted_at,
                    ),
                )
                .order_by(Document.created_at)
                .limit(1)
            )

    def save(self, item: IngestItem, processed: Processed) -> str:
        """Store the blob, then the document, its first version and its classifications (one transaction);
        for a new version (``version_of``), the next version of that document (``_save_version``)."""
        data = item.data or (processed.text.encode("utf-8"))
        existing = version_of(item)
        document_id = existing or uuid.uuid4().hex
        blob_key = self.blobs.put(data, owner=document_id)
        title = (processed.title or item.title or item.filename or item.key)[:500]
        meta: dict[str, Any] = {k: processed.tika_meta[k] for k in _META_KEYS if k in processed.tika_meta}
        meta.update(
            {
                k: v
                for k, v in item.meta.items()
                if isinstance(v, str | int | float | bool) and k not in VERSION_META_KEYS
            }
        )
        if processed.created_at:
            meta["created_at"] = processed.created_at.isoformat()
        if processed.modified_at:
            meta["modified_at"] = processed.modified_at.isoformat()
        if existing is not None:
            self._save_version(existing, item, processed, blob_key, len(data), meta)
            return existing
        with session_scope(self.session_factory) as session:
            session.add(
                Document(
                    id=document_id,
                    title=title,
                    doc_type=processed.doc_type.concept_id if processed.doc_type else None,
                    org_id=item.org_id,
                    owner_user_id=item.owner_user_id,
                    visibility=item.visibility or DEFAULT_VISIBILITY,
                    status=document_status(item),  # the status the writer indexes
                    language=processed.language,
                    author=(processed.author or item.author or "")[:300] or None,
                    source_uri=item.url or item.meta.get("path") or item.key,
                )
            )
            session.flush()
            session.add(
                DocumentVersion(
                    document_id=document_id,
                    number=1,
                    content_hash=processed.content_hash,
                    filename=(item.filename or title)[:500],
                    mime=processed.mime[:200],
                    size=processed.size or len(data),
                    blob_key=blob_key,
                    text=processed.text,
                    meta=meta,
                    comment=_comment(item),
                    created_by_user_id=_uploader(item),
                )
            )
            classification_rows(session, self.target_kind, document_id, processed)
        return document_id

    def _save_version(
        self,
        document_id: str,
        item: IngestItem,
        processed: Processed,
        blob_key: str,
        size: int,
        meta: dict[str, Any],
    ) -> None:
        """Version N+1 of ``document_id`` and its new automatic classifications, in one transaction.

        The document row is locked (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers) so two
        uploads at once get distinct numbers. ``IngestError`` if the document is gone meanwhile."""
        with session_scope(self.session_factory) as session:
            document = session.scalar(select(Document).where(Document.id == document_id).with_for_update())
            if document is None:
                raise IngestError(f"document {document_id} no longer exists", step="writer")
            last = session.scalar(
                select(func.max(DocumentVersion.number)).where(DocumentVersion.document_id == document_id)
            )
            version = DocumentVersion(
                document_id=document_id,
                number=int(last or 0) + 1,
                content_hash=processed.content_hash,
                filename=(item.filename or document.title)[:500],
                mime=processed.mime[:200],
                size=processed.size or size,
                blob_key=blob_key,
                text=processed.text,
                meta=meta,
                comment=_comment(item),
                created_by_user_id=_uploader(item),
            )
            session.add(version)
            automatic = [
                c
                for c in session.scalars(
                    select(Classification).where(
                        Classification.target_kind == self.target_kind,
                        Classification.target_id == document_id,
                        Classification.method != CURATOR,
                    )
                )
            ]
            previous = [(c.concept_id, c.score, c.method, dict(c.explanation or {})) for c in automatic]
            for row in automatic:
                session.delete(row)
            session.flush()
            classification_rows(session, self.target_kind, document_id, processed)
            if processed.language:
                document.language = processed.language
            if document.doc_type is None and processed.doc_type is not None:  # typed by the new text
                document.doc_type = processed.doc_type.concept_id
            document.updated_at = utcnow()
            session.flush()
            undo = _Undo(version.id, previous)
        with self._undo_lock:
            self._undo[document_id] = undo
            self._undo.move_to_end(document_id)
            while len(self._undo) > _UNDO_KEEP:
                self._undo.popitem(last=False)

    def discard(self, target_id: str) -> None:
        """Remove a document saved by ``save`` (its blobs are shredded: they are sealed under its own key).

        After a new version, only that version goes, and the automatic classifications it replaced come
        back; a document with several versions is never removed whole here."""
        with self._undo_lock:
            undo = self._undo.pop(target_id, None)
        with session_scope(self.session_factory) as session:
            versions = list(
                session.scalars(
                    select(DocumentVersion)
                    .where(DocumentVersion.document_id == target_id)
                    .order_by(DocumentVersion.number)
                )
            )
            if undo is not None or len(versions) > 1:
                self._discard_version(session, target_id, versions, undo)
                return
            session.execute(
                delete(Classification).where(
                    Classification.target_kind == self.target_kind, Classification.target_id == target_id
                )
            )
            session.execute(delete(DocumentVersion).where(DocumentVersion.document_id == target_id))
            session.execute(delete(Document).where(Document.id == target_id))
        self.blobs.shred(target_id)

    def _discard_version(
        self, session: Session, target_id: str, versions: list[DocumentVersion], undo: _Undo | None
    ) -> None:
        doomed = [v for v in versions if undo is not None and v.id == undo.version_id] or versions[-1:]
        for version in doomed:
            session.delete(version)
        if undo is None:
            return
        session.execute(
            delete(Classification).where(
                Classification.target_kind == self.target_kind,
                Classification.target_id == target_id,
                Classification.method != CURATOR,
            )
        )
        session.flush()
        by_method: dict[str, list[_Restored]] = {}
        for concept_id, score, method, explanation in undo.classifications:
            evidence = explanation.get("evidence", [])
            by_method.setdefault(method, []).append(
                _Restored(concept_id, score, evidence if isinstance(evidence, list) else [])
            )
        for method, rows in by_method.items():
            save_classifications(session, self.target_kind, target_id, rows, method=method)

    def count(self) -> int:
        """Number of documents (for reports and tests)."""
        with session_scope(self.session_factory) as session:
            return int(session.scalar(select(func.count()).select_from(Document)) or 0)


@dataclass(frozen=True)
class _Restored:
    """An automatic classification put back by ``discard`` (shaped like ``taxonomy.classifier.Scored``)."""

    concept_id: str
    score: float
    evidence: list[str]


def _comment(item: IngestItem) -> str | None:
    value = item.meta.get("comment")
    return value if isinstance(value, str) and value else None


def _uploader(item: IngestItem) -> int | None:
    value = item.meta.get("uploaded_by")
    return value if isinstance(value, int) and not isinstance(value, bool) else item.owner_user_id
