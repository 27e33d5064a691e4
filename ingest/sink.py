"""Where processed inputs are persisted: the ``ContentSink`` protocol and the classification rows it writes.

``ingest`` sits below ``ged`` and ``veille``, so the pipeline only knows this protocol;
``ged.sink.DocumentSink`` and ``veille.sink.ItemSink`` implement it and are passed in by the caller.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ingest.item import IngestItem, Processed
from taxonomy.models import Classification, Concept

__all__ = ["ContentSink", "classification_rows"]

log = logging.getLogger(__name__)


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

    Concepts missing from the ``concepts`` table (taxonomy not loaded yet) are skipped with a log line
    rather than failing the input on a foreign key.
    """
    assigned = [*processed.sectors, *processed.countries]
    if processed.doc_type is not None:
        assigned.append(processed.doc_type)
    if not assigned:
        return 0
    wanted = {a.concept_id for a in assigned}
    known = set(session.scalars(select(Concept.id).where(Concept.id.in_(wanted))))
    added = 0
    for a in assigned:
        if a.concept_id not in known:
            log.debug("skip classification target=%s concept=%s (not in taxonomy)", target_id, a.concept_id)
            continue
        session.add(
            Classification(
                target_kind=target_kind,
                target_id=target_id,
                concept_id=a.concept_id,
                score=float(a.score),
                method="rule",
                explanation={"evidence": list(a.evidence)},
            )
        )
        added += 1
    return added
