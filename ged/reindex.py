"""Keep a document's search passages in step with its rows after an edit (title, type, ACL, concepts).

The metadata is computed by the ingest writer's own rule (``ingest.components.writer.passage_meta``), so
an edited document is indexed exactly as if it had been ingested with these values. Where the backend can
hand back the stored passages (``PassageReader``: the embedded backend's ``get``) they are rewritten with
their text and vectors unchanged; otherwise the passages are rebuilt from the stored text of the latest
version and their vectors are back-filled later (``ingest.backfill``), while BM25 finds them at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ged.models import Document, DocumentVersion
from ingest.components.splitter import split_passages
from ingest.components.writer import index_passages, passage_meta
from ingest.item import IngestItem, Processed
from search.backend import SearchBackend
from search.types import Passage
from taxonomy.classifications import classifications_of
from taxonomy.classifier import Scored
from taxonomy.referential import Referential
from tfe.core.errors import BackendError

__all__ = ["EDITABLE_META", "PassageReader", "reindex_document"]

log = logging.getLogger(__name__)

# The passage meta keys an edit can change; the others (date, language, url, kind) stay as indexed.
EDITABLE_META = (
    "doc_type",
    "sectors",
    "sector_facet",
    "countries",
    "regions",
    "org_id",
    "owner_user_id",
    "visibility",
)
_BATCH = 256


@runtime_checkable
class PassageReader(Protocol):
    """A backend that returns stored passages by id (with their vectors when they have one)."""

    def get(self, ids: list[str]) -> list[Passage]: ...


def _stored(reader: PassageReader, parent_id: str) -> list[Passage]:
    """Every stored passage of one parent (ids ``f"{parent_id}:{position}"``, positions from 0)."""
    out: list[Passage] = []
    start = 0
    while True:
        batch = reader.get([f"{parent_id}:{i}" for i in range(start, start + _BATCH)])
        out.extend(batch)
        if len(batch) < _BATCH:
            return out
        start += _BATCH


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
        url=document.source_uri if (document.source_uri or "").startswith(("http://", "https://")) else None,
    )
    return Processed(
        item=item,
        content_hash=version.content_hash if version is not None else "",
        title=document.title,
        language=document.language,
        created_at=_date(meta, "created_at"),
        modified_at=_date(meta, "modified_at"),
        sectors=[Scored(c.concept_id, c.score, c.evidence) for c in views if c.scheme == "naf"],
        countries=[Scored(c.concept_id, c.score, c.evidence) for c in views if c.scheme == "country"],
        doc_type=Scored(document.doc_type, 1.0) if document.doc_type else None,
    )


def reindex_document(
    session: Session, backend: SearchBackend, referential: Referential, document: Document
) -> int:
    """Rewrite the document's passages with its current title and metadata; how many were written.

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
    try:
        passages = _stored(backend, document.id) if isinstance(backend, PassageReader) else []
        if passages:
            for p in passages:
                p.title = record.display_title
                p.meta = {**p.meta, **{k: fresh[k] for k in EDITABLE_META}}
        else:
            record.passages = split_passages(version.text) if version is not None and version.text else []
            passages = index_passages(record, document.id, fresh)
            backend.delete_parent(document.id)
        written = backend.write(passages)
        backend.commit()
    except BackendError:
        raise
    except Exception as exc:
        raise BackendError(f"could not re-index document {document.id}: {type(exc).__name__}: {exc}") from exc
    log.info("reindexed document=%s passages=%d", document.id, written)
    return written
