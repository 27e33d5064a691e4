"""Value types shared by every search backend and their callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, get_args

import numpy as np

from tfe.core.security.scope import AccessScope

Mode = Literal["hybrid", "bm25", "vector"]
Sort = Literal["relevance", "date", "date_asc"]  # date: newest first; date_asc: oldest first
SORTS: tuple[str, ...] = get_args(Sort)

# Facet name (as in the API) -> passage meta field it counts.
FACET_FIELDS: dict[str, str] = {
    "sector": "sector_facet",
    "country": "countries",
    "type": "doc_type",
    "org": "org_id",
    "language": "language",
    "filiere": "filieres",  # the network's filières, ancestors included
    "signal": "signals",  # watch signals (tenders, investments, ...)
}


@dataclass
class Passage:
    """One indexed passage of a parent (a GED document or a watch item).

    ``meta`` keys every backend indexes (lists are multi-valued keyword fields):
    ``kind`` ("document" | "item"), ``doc_type`` (concept id), ``sectors`` (concept ids with all their
    ancestors, for filtering), ``sector_facet`` (NAF division ids, for counting), ``countries``
    (country concept ids), ``regions`` (M49 region concept ids), ``org_id`` (int or None),
    ``owner_user_id`` (int or None), ``visibility``, ``language``, ``date`` (ISO 8601 string), ``url``.
    """

    id: str  # f"{parent_id}:{position}"
    parent_id: str
    title: str
    text: str
    position: int = 0
    meta: dict[str, Any] = field(default_factory=dict)
    embedding: np.ndarray | None = None


@dataclass
class SearchQuery:
    text: str
    scope: AccessScope
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet name -> accepted values (OR)
    limit: int = 10
    offset: int = 0
    mode: Mode = "hybrid"
    query_embedding: np.ndarray | None = None  # required for "vector"/"hybrid"; caller embeds the query
    sort: Sort = "relevance"  # date / date_asc: the matches ordered by ``meta.date`` (undated last)
    date_from: date | None = None  # ``meta.date`` on or after this day (UTC)
    date_to: date | None = None  # ``meta.date`` on or before this day (UTC)
    # Query understanding (search.understanding, issue 11 §1): never filters, only ranking.
    # facet name (as in FACET_FIELDS: "sector", "country", ...) -> concept ids recognised in the query; a
    # passage whose meta carries one of them (``sectors``/``countries``/``regions`` with ancestors) ranks
    # higher (``search.understanding.BOOST`` on the fused score), one that does not is still found.
    boosts: dict[str, list[str]] = field(default_factory=dict)
    # extra words OR-ed into the text query with a weight below 1: synonyms from the taxonomy's
    # alternative labels and corrections of words absent from the vocabulary ((word, weight) pairs)
    expansions: list[tuple[str, float]] = field(default_factory=list)
    # parents never returned (more like this: the document itself)
    exclude_parents: tuple[str, ...] = ()
    # fill ``Hit.explanation`` for the page of hits (cheap: computed for the returned hits only)
    explain: bool = True
    # only ``SearchResult.total`` is wanted (the counts behind suggestions): a backend may then leave the
    # hits and facets empty and skip the page (passage texts, snippets, explanations)
    totals_only: bool = False


@dataclass
class Hit:
    parent_id: str
    passage_id: str
    title: str
    snippet: str  # HTML-safe text with <mark>…</mark> around matched terms
    score: float
    meta: dict[str, Any] = field(default_factory=dict)
    # Why this hit is here (issue 11 §2), as the backend knows it; the service adds labels:
    # ``terms``: query words (as typed, expansions included) whose analysed terms occur in the hit's best
    # passage; ``expanded``: which of those came from ``SearchQuery.expansions``; ``concepts``:
    # [{"facet", "id"}] boosted concepts the hit carries; ``lexical``: BM25 matched it; ``meaning``: the
    # vector side ranked it among its candidates above the floor; ``similarity``: cosine of the best
    # passage to the query (None without a query vector); ``lexical_rank``/``vector_rank``: 1-based ranks
    # of the best passage in each list (None when absent).
    explanation: dict[str, Any] | None = None


@dataclass
class SearchResult:
    total: int  # distinct parents matching
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]  # facet name -> [(value, count of distinct parents)]
