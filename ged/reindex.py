"""Keep a document's search passages in step with its rows after an edit (title, type, ACL, concepts, status).

The metadata is computed by the ingest writer's own rule (``ingest.components.writer.passage_meta``), so
an edited document is indexed exactly as if it had been ingested with these values. Where the backend can
hand back the stored passages they are rewritten with their text and vectors unchanged; otherwise the
passages are rebuilt from the stored text of the latest version (``ingest.reindex.reindex_passages``).

The passages always carry the document's current ``status``; when it has just changed they also get a
fresh ``indexed_at``, so that alerts (``veille.alerts.matching.document_candidates``, validated documents
by ``indexed_at``) send a document once it is validated, and other edits do not send it again.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from ged.field_schema import schema_for
from ged.models import Document, DocumentVersion
from ingest.components.writer import passage_meta
from ingest.item import IngestItem, Processed
from ingest.reindex import reindex_passages, scored
from search.backend import SearchBackend
from taxonomy.classifications import classifications_of
from taxonomy.classifier import Scored
from taxonomy.referential import Referential

__all__ = ["EDITABLE_META", "STATUS_META", "reindex_document"]

log = logging.getLogger(__name__)

# The passage meta keys an edit can change; the others (date, language, url, kind) stay as indexed.
EDITABLE_META = (
    "doc_type",
    "sectors",
    "sector_facet",
    "countries",
    "regions",
    "filieres",
    "signals",
    "org_id",
    "owner_user_id",
    "visibility",
    "status",
    "fields",  # the typed fields' filterable values (``ged.field_schema.TypeSchema.index_values``)
)
# Added to the rewritten keys when the status changed: the document enters the alerts' window now.
STATUS_META = ("indexed_at",)


def _date(meta: dict[str, object], key: str) -> dt.datetime | None:
    value = meta.get(key)
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _record(session: Session, document: Document, version: DocumentVersion | None) -> Processed:
    """The document as the writer would have seen it with its current rows (no text or vectors yet)."""
    views = classifications_of(session, "document", document.id)
    meta = version.meta if version is not None else {}
    item = IngestItem(
        key=document.id,
        kind="document",
        filename=version.filename if version is not None else "",
        org_id=document.org_id,
        owner_user_id=document.owner_user_id,
        visibility=document.visibility,
        meta={"status": document.status},  # the writer's ``document_status`` reads it
        url=document.source_uri if (document.source_uri or "").startswith(("http://", "https://")) else None,
    )
    return Processed(
        item=item,
        content_hash=version.content_hash if version is not None else "",
        title=document.title,
        language=document.language,
        created_at=_date(meta, "created_at"),
        modified_at=_date(meta, "modified_at"),
        sectors=scored(views, "naf"),
        countries=scored(views, "country"),
        filieres=scored(views, "filiere"),
        signals=scored(views, "signal"),
        doc_type=Scored(document.doc_type, 1.0) if document.doc_type else None,
    )


def reindex_document(
    session: Session,
    backend: SearchBackend,
    referential: Referential,
    document: Document,
    *,
    status_changed: bool = False,
) -> int:
    """Rewrite the document's passages with its current title and metadata; how many were written.

    ``status_changed``: the status was just changed, so the passages also get a fresh ``indexed_at``.

    ``BackendError`` when the backend fails (the caller's transaction then rolls back the edit).
    """
    version = session.scalar(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    )
    record = _record(session, document, version)
    fresh = passage_meta(record, referential)
    fresh["fields"] = schema_for(document.doc_type).index_values(document.fields or {})
    text = version.text if version is not None else None
    keys = EDITABLE_META + STATUS_META if status_changed else EDITABLE_META
    written = reindex_passages(backend, record, document.id, fresh, keys, text, what="document")
    log.info("reindexed document=%s passages=%d status=%s", document.id, written, document.status)
    return written
