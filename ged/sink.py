"""The GED side of ingestion: processed files become ``Document`` + ``DocumentVersion`` rows and a blob."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ged.blobs import BlobStore
from ged.models import Document, DocumentVersion
from ingest.components.writer import document_status
from ingest.item import IngestItem, Processed
from ingest.sink import classification_rows
from taxonomy.models import Classification
from tfe.core.db import session_scope
from tfe.core.security.scope import AccessScope

__all__ = ["DEFAULT_VISIBILITY", "DocumentSink"]

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


class DocumentSink:
    """``ContentSink`` for GED documents (``target_kind == "document"``)."""

    target_kind = "document"

    def __init__(self, session_factory: sessionmaker[Session], blob_store: BlobStore) -> None:
        self.session_factory = session_factory
        self.blobs = blob_store

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
        scope = AccessScope.member(item.org_id, item.owner_user_id)
        with session_scope(self.session_factory) as session:
            return session.scalar(
                select(Document.id)
                .join(DocumentVersion, DocumentVersion.document_id == Document.id)
                .where(
                    DocumentVersion.content_hash == content_hash,
                    scope.sql_clause(Document.visibility, Document.org_id, Document.owner_user_id),
                )
                .order_by(Document.created_at)
                .limit(1)
            )

    def save(self, item: IngestItem, processed: Processed) -> str:
        """Store the blob, then the document, its first version and its classifications (one transaction)."""
        data = item.data or (processed.text.encode("utf-8"))
        document_id = uuid.uuid4().hex
        blob_key = self.blobs.put(data, owner=document_id)
        title = (processed.title or item.title or item.filename or item.key)[:500]
        meta: dict[str, Any] = {k: processed.tika_meta[k] for k in _META_KEYS if k in processed.tika_meta}
        meta.update({k: v for k, v in item.meta.items() if isinstance(v, str | int | float | bool)})
        if processed.created_at:
            meta["created_at"] = processed.created_at.isoformat()
        if processed.modified_at:
            meta["modified_at"] = processed.modified_at.isoformat()
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
                )
            )
            classification_rows(session, self.target_kind, document_id, processed)
        return document_id

    def discard(self, target_id: str) -> None:
        """Remove a document saved by ``save`` (its blob stays: it is shared by content and harmless)."""
        with session_scope(self.session_factory) as session:
            session.execute(
                delete(Classification).where(
                    Classification.target_kind == self.target_kind, Classification.target_id == target_id
                )
            )
            session.execute(delete(DocumentVersion).where(DocumentVersion.document_id == target_id))
            session.execute(delete(Document).where(Document.id == target_id))

    def count(self) -> int:
        """Number of documents (for reports and tests)."""
        with session_scope(self.session_factory) as session:
            return int(session.scalar(select(func.count()).select_from(Document)) or 0)
