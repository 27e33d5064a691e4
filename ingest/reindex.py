"""Rewrite one target's search passages with new metadata after its rows changed (an edit, a decision).

The metadata is the ingest writer's own rule (``ingest.components.writer.passage_meta``) applied by the
caller to the target's current rows, so an edited document or a decided watch item is indexed exactly as
if it had been ingested with these values. Where the backend can hand back the stored passages
(``PassageReader``: the embedded backend's ``get``) they are rewritten with their text and vectors
unchanged; otherwise they are rebuilt from the target's stored text and their vectors are back-filled
later (``ingest.backfill``), while BM25 finds them at once. ``ged.reindex`` and ``veille.item_index`` use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from ingest.components.splitter import split_passages
from ingest.components.writer import index_passages
from ingest.item import Processed
from search.backend import SearchBackend
from search.types import Passage
from taxonomy.classifications import ClassificationView
from taxonomy.classifier import Scored
from tfe.core.errors import BackendError

__all__ = ["PassageReader", "reindex_passages", "scored", "stored_passages"]

_BATCH = 256


@runtime_checkable
class PassageReader(Protocol):
    """A backend that returns stored passages by id (with their vectors when they have one)."""

    def get(self, ids: list[str]) -> list[Passage]: ...


def stored_passages(reader: PassageReader, parent_id: str) -> list[Passage]:
    """Every stored passage of one parent (ids ``f"{parent_id}:{position}"``, positions from 0)."""
    out: list[Passage] = []
    start = 0
    while True:
        batch = reader.get([f"{parent_id}:{i}" for i in range(start, start + _BATCH)])
        out.extend(batch)
        if len(batch) < _BATCH:
            return out
        start += _BATCH


def scored(views: Sequence[ClassificationView], scheme: str) -> list[Scored]:
    """A target's classifications of one scheme as the writer's ``Scored`` proposals."""
    return [Scored(c.concept_id, c.score, c.evidence) for c in views if c.scheme == scheme]


def reindex_passages(
    backend: SearchBackend,
    record: Processed,
    parent_id: str,
    fresh: dict[str, Any],
    keys: Sequence[str],
    text: str | None,
    *,
    what: str,
) -> int:
    """Give the passages of ``parent_id`` the ``keys`` of ``fresh`` and the record's title; how many written.

    Stored passages keep their text and vectors; without them the passages are rebuilt from ``text``.
    ``BackendError`` when the backend fails (``what`` names the target in the message).
    """
    try:
        passages = stored_passages(backend, parent_id) if isinstance(backend, PassageReader) else []
        if passages:
            for p in passages:
                p.title = record.display_title
                p.meta = {**p.meta, **{k: fresh[k] for k in keys}}
        else:
            record.passages = split_passages(text) if text else []
            passages = index_passages(record, parent_id, fresh)
            backend.delete_parent(parent_id)
        written = backend.write(passages)
        backend.commit()
    except BackendError:
        raise
    except Exception as exc:
        raise BackendError(f"could not re-index {what} {parent_id}: {type(exc).__name__}: {exc}") from exc
    return written
