"""Refill the embedded backend's Tantivy index and vector table from the passage store (a derived artefact).

``refill`` runs inside one Tantivy writer transaction: ``delete_all_documents`` and then every stored
passage, so readers see the old index until the commit and the whole new one after it. Each passage keeps
its key (and, with ``keep_vectors``, its vector) when the current table has it; new ones get fresh keys and
no vector (``tfe backfill`` or ``tfe reindex`` embeds them). Passages the table has but the store lacks are
not carried over. The caller commits, saves the table and collects the old segment files
(``EmbeddedBackend.rebuild``), after which no term of a passage that left the store is in any index file:
Tantivy's deletes only mark documents until a merge rewrites their segment, and the Python binding offers
no forced merge, so a full refill is how erasure removes terms (about the cost of indexing the corpus once,
see ``docs/benchmarks.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tantivy

from search import tantivy_index as ti
from search.filters import filter_values
from search.passage_store import PassageStore
from search.vectors import Row, VectorTable

__all__ = ["Refilled", "refill"]


@dataclass
class Refilled:
    table: VectorTable
    passages: int
    vectors_kept: int
    new_keys: int


def refill(
    writer: tantivy.IndexWriter,
    texts: PassageStore,
    old: VectorTable,
    *,
    keep_vectors: bool,
    batch: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> Refilled:
    """Replace every document of ``writer``'s index by the store's passages (uncommitted); the new table."""
    writer.delete_all_documents()
    next_key = old.next_key
    rows: list[Row] = []
    kept = fresh = 0
    for chunk in texts.iter_all(batch):
        for p in chunk:
            row = old.row_of(p.id)
            vec: np.ndarray | None = None
            if row is not None:
                key = int(old.keys[row])
                if keep_vectors and old.has_vec[row]:
                    vec = old.matrix[row]
                    kept += 1
            else:
                key = next_key
                next_key += 1
                fresh += 1
            writer.add_document(ti.to_document(p, key))
            rows.append((key, p.id, p.parent_id, filter_values(p.meta), vec))
        if progress is not None:
            progress(len(chunk))
    rows.sort(key=lambda r: r[0])
    table = VectorTable()
    table.extend(rows)
    table.next_key = max(next_key, table.next_key)
    table.generation = old.generation
    table.ann_min_rows = old.ann_min_rows
    table.coarse_min_rows = old.coarse_min_rows
    return Refilled(table=table, passages=len(rows), vectors_kept=kept, new_keys=fresh)
