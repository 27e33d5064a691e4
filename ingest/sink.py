"""Where processed inputs are persisted: the ``ContentSink`` protocol and the classification rows it writes.

``ingest`` sits below ``ged`` and ``veille``, so the pipeline only knows this protocol;
``ged.sink.DocumentSink`` and ``veille.sink.ItemSink`` implement it and are passed in by the caller.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session

from ingest.item import IngestItem, Processed
from taxonomy.classifications import save_classifications

__all__ = ["ContentSink", "classification_rows"]


@runtime_checkable
class ContentSink(Protocol):
    """Persist processed inputs of one kind ("document" or "item") in the system of record."""

    target_kind: str

    def find_by_hash(self, content_hash: str) -> str | None:
        """The id of an already stored target with this content hash, if any (makes re-runs idempotent)."""

    def find_duplicate(self, item: IngestItem, content_hash: str) -> str | None:
        """The id of a stored target this input duplicates (by hash, or by a source-specific key)."""

    def save(self, item: IngestItem, processed: Processed) -> str:
        """Store the target (rows, versions, blobs, classifications) in one transaction; return its id."""

    def discard(self, target_id: str) -> None:
        """Undo ``save`` (used when indexing fails after the rows were committed)."""


def classification_rows(session: Session, target_kind: str, target_id: str, processed: Processed) -> int:
    """Add one ``Classification`` (method "rule") per assigned concept; returns how many were added.

    The rows are written by ``taxonomy.classifications.save_classifications`` (concepts missing from the
    taxonomy are skipped there rather than failing the input on a foreign key).
    """
    assigned = [*processed.sectors, *processed.countries, *processed.filieres, *processed.signals]
    if processed.doc_type is not None:
        assigned.append(processed.doc_type)
    return save_classifications(session, target_kind, target_id, assigned, method="rule")
