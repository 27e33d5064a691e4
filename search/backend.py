"""The ``SearchBackend`` protocol every backend implements (embedded Tantivy + vectors; OpenSearch later)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from search.types import Passage, SearchQuery, SearchResult


@runtime_checkable
class SearchBackend(Protocol):
    """Index passages and answer scoped queries.

    Every method that reads applies ``query.scope`` *inside* the backend query (results, totals, facet
    counts and snippets alike); nothing is filtered after the fact.
    """

    def write(self, passages: list[Passage]) -> int:
        """Add or replace passages (by ``Passage.id``); returns how many were written."""

    def delete_parent(self, parent_id: str) -> int:
        """Remove every passage of one parent; returns how many were removed."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Ranked parents (grouped passages, best passage as snippet) with facet counts.

        Empty ``query.text`` with ``mode="vector"`` and a ``query_embedding``: parents by meaning alone
        (more like this), ``query.exclude_parents`` left out; other empty texts browse newest first."""

    def spelling(self, query: SearchQuery) -> str | None:
        """``query.text`` with its unknown words corrected from the vocabulary of the passages the query may
        see (scope and filters inside the term lookup); ``None`` when there is nothing to correct."""

    def parent_vector(self, parent_id: str) -> np.ndarray | None:
        """The normalised mean of one parent's passage vectors (more like this), ``None`` when it has no
        vector (not indexed, not embedded yet). Callers check the caller may see the parent first."""

    def count(self) -> int:
        """Number of passages indexed."""

    def set_embeddings(self, ids: list[str], vectors: object) -> None:
        """Back-fill vectors for passages already indexed (rows of a float32 matrix)."""

    def missing_embeddings(self, limit: int = 1000) -> list[Passage]:
        """Passages indexed without a vector yet (for back-filling)."""

    def count_missing_embeddings(self) -> int:
        """How many passages have no vector yet (without reading them)."""

    def commit(self) -> None:
        """Make writes durable and visible to searches."""

    def erase_parents(self, parent_ids: list[str]) -> dict[str, Any]:
        """Erase every passage of these parents (texts, vectors, index entries) and leave none of their
        terms in the index's files (GDPR erasure; commits). Returns counts (``parents``, ``passages``,
        ``passages_left``, ``seconds``)."""

    def rebuild(
        self, *, keep_vectors: bool = True, progress: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        """Recreate the index from the stored passages (``tfe reindex``), keeping existing vectors unless
        told not to; returns counts (``passages``, ``vectors_kept``, ``new_keys``, ``seconds``)."""

    def close(self) -> None:
        """Release files and handles."""


@runtime_checkable
class FilterEngines(Protocol):
    """A backend that evaluates one filter in more than one engine (e.g. its text index and its vectors).

    Searches apply the same filter in each engine before ranking, so the engines must select the same
    passages for every filter; ``search.testing.FilterParityTests`` checks it.
    """

    filter_engines: tuple[str, ...]

    def filter_ids(self, filters: dict[str, Any] | None, engine: str) -> list[str]:
        """Ids of the committed passages matching a Haystack filter in ``engine``, in write order;
        ``tfe.core.errors.ValidationError`` for a filter the backend cannot evaluate."""
