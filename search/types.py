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


@dataclass
class Hit:
    parent_id: str
    passage_id: str
    title: str
    snippet: str  # HTML-safe text with <mark>…</mark> around matched terms
    score: float
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchResult:
    total: int  # distinct parents matching
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]  # facet name -> [(value, count of distinct parents)]
