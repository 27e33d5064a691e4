"""Move an installation's search index onto an OpenSearch cluster (``tfe reindex --backend opensearch``).

The passages are read from the passage store (the main database, which both backends share) in id order,
their vectors from the embedded index (``EmbeddedBackend.get``), and written to the cluster in bulk,
batch by batch. It is resumable: a passage the cluster already holds, with a vector when the embedded
index has one, is not written again, so a run cut short (or repeated) continues where the last one
stopped. Passages the embedded index never embedded arrive without a vector (``tfe backfill`` embeds
them on the cluster). Afterwards the installation sets ``TFE_SEARCH_BACKEND=opensearch``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from search.opensearch import OpenSearchBackend
from search.passage_store import PassageStore
from search.types import Passage

BATCH = 500


class Source(Protocol):
    texts: PassageStore

    def get(self, ids: list[str]) -> list[Passage]: ...


def migrate(
    source: Source,
    target: OpenSearchBackend,
    *,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Copy every stored passage and its vector to ``target``; returns ``{"passages", "written",
    "skipped", "vectors", "seconds"}`` (``skipped``: already on the cluster, from an earlier run)."""
    t0 = time.perf_counter()
    target.ensure_index()
    seen = written = vectors = 0
    for chunk in source.texts.iter_all(batch):
        ids = [p.id for p in chunk]
        with_vectors = {p.id: p.embedding for p in source.get(ids)}
        for p in chunk:
            p.embedding = with_vectors.get(p.id)
        hits = target.hits_where({"ids": {"values": ids}}, ["has_vec"], limit=len(ids))
        there = {h["_id"]: bool(h["_source"].get("has_vec")) for h in hits}
        todo = [p for p in chunk if there.get(p.id) is None or (p.embedding is not None and not there[p.id])]
        target.index_passages(todo)
        seen += len(chunk)
        written += len(todo)
        vectors += sum(p.embedding is not None for p in chunk)
        if progress is not None:
            progress(len(chunk))
    with target.calling("refresh"):
        target.client.indices.refresh(index=target.index)
    return {
        "passages": seen,
        "written": written,
        "skipped": seen - written,
        "vectors": vectors,
        "seconds": round(time.perf_counter() - t0, 3),
    }
