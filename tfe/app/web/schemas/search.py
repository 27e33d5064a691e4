"""``GET /api/search``: the query string it takes and the answer (hits and facet counts)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from search.service import MAX_LIMIT
from tfe.app.web.schemas.common import ConceptRef

__all__ = [
    "FacetCountPublic",
    "SearchFacetsPublic",
    "SearchHitPublic",
    "SearchQuery",
    "SearchResultsPublic",
    "SearchSuggestionPublic",
]

DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
Day = Annotated[str, Field(pattern=DAY_PATTERN, json_schema_extra={"format": "date"})]
"""An ISO day (``YYYY-MM-DD``); an impossible one (2024-02-30) is refused by the search service (400)."""

MAX_OFFSET = 10_000
"""Deepest page a client may ask for (also keeps every integer far inside SQLite's 64-bit range)."""


class SearchQuery(BaseModel):
    """The query string of a search; ``sector``, ``country`` and ``type`` are repeatable (OR within)."""

    q: str = Field("", max_length=500, description="Free text (French or English)")
    sector: list[str] = Field([], description="Sector concept ids or NAF codes (repeatable)")
    country: list[str] = Field([], description="Country concept ids or ISO codes (repeatable)")
    type: list[str] = Field([], description="Document type concept ids (repeatable)")
    limit: int = Field(10, ge=1, le=MAX_LIMIT, description="Hits per page")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Hits to skip")
    mode: Literal["hybrid", "bm25", "vector"] = Field(
        "hybrid", description="BM25 fused with vector similarity, or one of them alone"
    )
    group: Literal["stories"] | None = Field(
        None,
        description="stories: the watch hits of one story collapse into its best-ranked hit (with "
        "story_size); documents are unaffected; total then counts the groups",
    )
    include_archived: bool = Field(
        False, description="Also find archived documents (they leave default searches)"
    )
    sort: Literal["relevance", "date", "date_asc"] = Field(
        "relevance",
        description="relevance (default); date: newest first; date_asc: oldest first (by the document's or "
        "item's date; undated ones last)",
    )
    date_from: Day | None = Field(
        None,
        description="Only documents and items dated on or after this day (YYYY-MM-DD)",
    )
    date_to: Day | None = Field(
        None,
        description="Only documents and items dated on or before this day (YYYY-MM-DD; after date_from)",
    )
    org: list[str] = Field(
        [], max_length=50, description="Organisation slugs or ids (repeatable; unknown ones are a 400)"
    )
    language: list[str] = Field(
        [], max_length=20, description="Language codes (ISO 639, such as fr or en; repeatable)"
    )
    status: list[Literal["draft", "in_review", "validated", "archived"]] = Field(
        [],
        max_length=4,
        description="Document statuses (repeatable; archived implies include_archived; watch items, which "
        "have no status, are then left out)",
    )


class SearchHitPublic(BaseModel):
    """One document or watch item, its best passage as a snippet, and its concepts."""

    id: str = Field(description="Document or item id")
    title: str
    snippet: str = Field(description="HTML-escaped text with <mark> around matched terms")
    score: float = Field(description="Fused rank score (higher is better; not comparable across queries)")
    type: ConceptRef | None = Field(description="Document type concept")
    sectors: list[ConceptRef]
    countries: list[ConceptRef]
    url: str = Field(description="Page of the hit in this application (/documents/{id} or /items/{id})")
    source_url: str | None = Field(
        description="A watch item's original article (http or https), if any; null for documents"
    )
    kind: str = Field(description="document or item", examples=["document"])
    story_id: str | None = Field(
        description="A watch item's story (GET /api/stories/{id}); null for documents and lone items"
    )
    story_size: int | None = Field(
        description="With group=stories: the items of the hit's story the caller sees; else null"
    )
    expired: bool = Field(description="A document past its validity end (valid_until); false for items")
    date: str | None = Field(description="The document's or item's date (ISO 8601), if known")
    language: str | None = Field(description="Detected language (ISO 639 code), if known")


class FacetCountPublic(BaseModel):
    """How many matching documents and items carry one value (a concept, an organisation, a language)."""

    id: str
    label: str
    count: int


class SearchFacetsPublic(BaseModel):
    """Facet counts over every match in the caller's scope (not only the page)."""

    sector: list[FacetCountPublic]
    country: list[FacetCountPublic]
    type: list[FacetCountPublic]
    org: list[FacetCountPublic] = Field(
        description="Organisations (id: slug, label: name) of the matches the caller may see"
    )
    language: list[FacetCountPublic] = Field(description="Languages (id: ISO 639 code)")


class SearchSuggestionPublic(BaseModel):
    """Another query worth trying, computed in the caller's scope, with the results it gives."""

    kind: Literal["spelling", "remove_filter", "browse"] = Field(
        description="spelling: the query with unknown words corrected from the caller's visible documents; "
        "remove_filter: the query without one facet's filters (when nothing matches); "
        "browse: a sector of the caller's documents (when nothing else helps)"
    )
    label: str = Field(description="What to show: the corrected query, or the filter or sector label")
    q: str = Field(description="The query text of the suggestion")
    facet: Literal["sector", "country", "type"] | None = Field(
        description="remove_filter: the facet dropped; browse: the facet browsed; null for spelling"
    )
    total: int = Field(description="Matching documents and items for the suggestion (always more than 0)")
    url: str = Field(description="The suggestion as a GET /api/search request")


class SearchResultsPublic(BaseModel):
    """One page of hits, the total number of matches, the facet counts and what to try next."""

    total: int = Field(description="Matching documents and items in the caller's scope")
    hits: list[SearchHitPublic]
    facets: SearchFacetsPublic = Field(description="Counts over the matches only (empty lists when none)")
    suggestions: list[SearchSuggestionPublic] = Field(
        description="Spelling corrections, filters to drop or sectors to browse (see kind)"
    )
