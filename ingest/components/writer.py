"""Persistence: the system-of-record rows through a ``ContentSink``, then the passages in the search backend.

The writer assembles the ``Processed`` record from what the other components gave, then saves rows first
(the sink commits document/item, version, blob and classifications in one transaction), then the passages
with the facet/filter metadata every backend indexes (see ``search.types.Passage``), then a backend commit
so the input is searchable when the runner reports it ``ok``. If indexing fails the rows are discarded
again, so a re-run retries the input instead of reporting it as a duplicate. Sector ancestors and regions
come from the referential the ``ReferentialSource`` answers for each item. A new version of a stored
document (``item.meta["version_of"]``: the sink saved it under that document's id) first drops the
document's passages, so the index follows the current version only.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
from haystack import component

from ingest.errors import IngestError
from ingest.item import ExtractedMetadata, IngestItem, Processed
from ingest.sink import ContentSink
from search.backend import SearchBackend
from search.types import Passage
from taxonomy.classifier import Scored
from taxonomy.live import ReferentialSource, StaticReferential
from taxonomy.referential import Referential

__all__ = ["DOCUMENT_STATUSES", "RecordWriter", "document_status", "index_passages", "passage_meta"]

log = logging.getLogger(__name__)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


DOCUMENT_STATUSES = ("draft", "in_review", "validated", "archived")


def document_status(item: IngestItem) -> str:
    """A new document's status: ``item.meta["status"]`` when it is one (an import of reviewed documents),
    else ``draft``; the GED's sink stores the same."""
    status = item.meta.get("status")
    return status if isinstance(status, str) and status in DOCUMENT_STATUSES else "draft"


def _with_ancestors(referential: Referential, ids: list[str]) -> list[str]:
    return _unique([a for cid in ids for a in (cid, *referential.ancestors(cid))])


def passage_meta(
    record: Processed, referential: Referential, *, indexed_at: dt.datetime | None = None
) -> dict[str, Any]:
    """The indexed metadata of every passage of ``record`` (sectors with ancestors, facets, regions, ACL).

    ``indexed_at`` (default: now, UTC) is when the passages entered the index, whatever their ``date``
    says: alerts find new documents by it. Documents also carry their ``status`` (draft, validated,
    archived). A document's re-index (``ged.reindex``) writes its current status, and a fresh
    ``indexed_at`` only when the status changed (validating a document makes it new to alerts).
    """
    item = record.item
    assigned = [s.concept_id for s in record.sectors]
    sectors = _unique([a for sid in assigned for a in (sid, *referential.ancestors(sid))])
    facet = _unique([referential.division_of(sid) or "" for sid in assigned])
    countries = _unique([c.concept_id for c in record.countries])
    regions = _unique([r for cid in countries for r in referential.regions_of(cid)])
    filieres = _with_ancestors(referential, [f.concept_id for f in record.filieres])
    signals = _with_ancestors(referential, [s.concept_id for s in record.signals])
    date = record.date
    return {
        "kind": item.kind,
        "doc_type": record.doc_type.concept_id if record.doc_type else None,
        "sectors": sectors,
        "sector_facet": facet,
        "countries": countries,
        "regions": regions,
        "filieres": filieres,
        "signals": signals,
        "org_id": item.org_id,
        "owner_user_id": item.owner_user_id,
        "visibility": item.visibility,
        "language": record.language,
        "date": date.isoformat() if date else None,
        "url": item.url,
        "indexed_at": (indexed_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(),
        **({"status": document_status(item)} if item.kind == "document" else {}),
    }


def index_passages(record: Processed, parent_id: str, meta: dict[str, Any]) -> list[Passage]:
    """The ``Passage`` objects of a saved record (ids ``f"{parent_id}:{position}"``); passages beyond the
    embedded head get no vector (back-filled later)."""
    vectors = record.embeddings
    out: list[Passage] = []
    for position, text in enumerate(record.passages):
        vector = vectors[position] if vectors is not None and position < len(vectors) else None
        out.append(
            Passage(
                id=f"{parent_id}:{position}",
                parent_id=parent_id,
                title=record.display_title,
                text=text,
                position=position,
                meta=dict(meta),
                embedding=vector,
            )
        )
    return out


@component
class RecordWriter:
    """Save one input through the sink and index its passages; gives the saved record and its id."""

    def __init__(
        self,
        sink: ContentSink,
        backend: SearchBackend,
        referential_source: ReferentialSource | None = None,
        commit: bool = True,
    ) -> None:
        self.sink = sink
        self.backend = backend
        self.commit = commit
        self.referential_source = referential_source or StaticReferential()

    def warm_up(self) -> None:
        """Load the referential now rather than on the first item."""
        self.referential_source.current()

    @component.output_types(record=Processed, target_id=str)
    def run(
        self,
        item: IngestItem,
        metadata: ExtractedMetadata,
        text: str,
        title: str,
        language: str | None,
        sectors: list[Scored],
        countries: list[Scored],
        doc_type: Scored | None,
        passages: list[str],
        embeddings: np.ndarray | None,
        filieres: list[Scored] | None = None,
        signals: list[Scored] | None = None,
    ) -> dict[str, Any]:
        """Assemble, save and index; ``IngestError`` when saving or indexing fails (rows undone)."""
        record = Processed(
            item=item,
            content_hash=metadata.content_hash,
            mime=metadata.mime,
            size=metadata.size,
            text=text,
            title=title,
            author=metadata.author,
            created_at=metadata.created_at,
            modified_at=metadata.modified_at,
            language=language,
            tika_meta=metadata.tika_meta,
            sectors=sectors,
            countries=countries,
            doc_type=doc_type,
            filieres=list(filieres or []),
            signals=list(signals or []),
            passages=passages,
            embeddings=embeddings,
        )
        referential = self.referential_source.current()
        target_id = self._save(record)
        try:
            if item.meta.get("version_of"):  # a new version: its passages replace the document's
                self.backend.delete_parent(target_id)
            record.passages_written = self.backend.write(
                index_passages(record, target_id, passage_meta(record, referential))
            )
            if self.commit:
                self.backend.commit()
        except Exception as exc:
            log.warning("indexing failed target=%s: %s; discarding the saved rows", target_id, exc)
            try:
                self.backend.delete_parent(target_id)
            except Exception:  # the backend is already failing; the discard below matters more
                log.exception("could not remove passages of %s", target_id)
            self.sink.discard(target_id)
            raise IngestError(f"indexing failed: {type(exc).__name__}: {exc}"[:300], step="writer") from exc
        record.target_id = target_id
        return {"record": record, "target_id": target_id}

    def _save(self, record: Processed) -> str:
        try:
            return self.sink.save(record.item, record)
        except IngestError:
            raise
        except Exception as exc:
            raise IngestError(f"could not save: {type(exc).__name__}: {exc}"[:300], step="writer") from exc
