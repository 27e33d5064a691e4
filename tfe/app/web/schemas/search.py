"""``GET /api/search``: the query string it takes and the answer (hits and facet counts)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from search.service import MAX_LIMIT, SIMILAR_LIMIT
from tfe.app.web.schemas.common import ConceptRef

__all__ = [
    "ExplanationConceptPublic",
    "ExplanationPublic",
    "FacetCountPublic",
    "SearchFacetsPublic",
    "SearchHitPublic",
    "SearchQuery",
    "SearchResultsPublic",
    "SearchSuggestionPublic",
    "SimilarQuery",
    "SimilarResultsPublic",
    "UnderstoodConceptPublic",
    "UnderstoodCorrectionPublic",
    "UnderstoodPublic",
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
    filiere: list[str] = Field([], description="Filière ids (filiere:agri-agro.vins) or names (repeatable)")
    signal: list[str] = Field([], description="Signal ids (signal:tender) or names (repeatable)")
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


class ExplanationConceptPublic(BaseModel):
    """A taxonomy concept recognised in the query (a ranking boost) that the hit carries."""

    facet: str = Field(description="sector, country (a country or a zone) or type", examples=["sector"])
    id: str = Field(examples=["naf:11.02"])
    label: str = Field(examples=["Fabrication de vins effervescents"])


class ExplanationPublic(BaseModel):
    """Why the hit is there: the words its best passage holds, the query's concepts it carries, and
    whether the keyword ranking (BM25) and the meaning (vectors) ranked it."""

    terms: list[str] = Field(
        description="Query words (as typed) and expansions found in the best passage, stemmed or exact",
        examples=[["vins", "Allemagne"]],
    )
    expanded: list[str] = Field(
        description="Those of terms that are expansions (synonyms, spelling corrections), not typed words"
    )
    concepts: list[ExplanationConceptPublic] = Field(
        description="Concepts recognised in the query that the hit is classified under"
    )
    lexical: bool = Field(description="The keyword ranking (BM25) matched it")
    meaning: bool = Field(description="The meaning (vector similarity, above the relevance floor) ranked it")
    similarity: float | None = Field(
        description="Cosine of the best passage to the query (or, for similar documents, to the "
        "document's mean vector); null without a query vector",
        examples=[0.87],
    )
    lexical_rank: int | None = Field(description="Rank of the best passage in the BM25 list (from 1)")
    vector_rank: int | None = Field(description="Rank of the best passage among the vector candidates")


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
    explanation: ExplanationPublic | None = Field(description="Why the hit is there")


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
    filiere: list[FacetCountPublic] = Field(description="Filières of the network (ancestors counted)")
    signal: list[FacetCountPublic] = Field(description="Watch signals (tenders, investments, ...)")


class SearchSuggestionPublic(BaseModel):
    """Another query worth trying, computed in the caller's scope, with the results it gives."""

    kind: Literal["spelling", "remove_filter", "browse", "filter"] = Field(
        description="spelling: the query with unknown words corrected from the caller's visible documents; "
        "remove_filter: the query without one facet's filters (when nothing matches); "
        "browse: a sector of the caller's documents (when nothing else helps); "
        "filter: a concept the query names applied as a filter, its words left out of q (not offered for "
        "a facet the query already filters)"
    )
    label: str = Field(description="What to show: the corrected query, or the filter or sector label")
    q: str = Field(description="The query text of the suggestion")
    facet: Literal["sector", "country", "type"] | None = Field(
        description="remove_filter: the facet dropped; browse: the facet browsed; filter: the facet "
        "filtered; null for spelling"
    )
    total: int = Field(description="Matching documents and items for the suggestion (always more than 0)")
    url: str = Field(description="The suggestion as a GET /api/search request")


class UnderstoodConceptPublic(BaseModel):
    """A taxonomy concept the query names (its sector or country): documents carrying it rank higher."""

    facet: Literal["sector", "country"] = Field(description="country: a country or a zone")
    id: str = Field(examples=["naf:11.02"])
    label: str = Field(examples=["Production de vin (de raisin)"])
    words: list[str] = Field(description="The query words that name it, as typed", examples=[["vins"]])


class UnderstoodCorrectionPublic(BaseModel):
    """A query word absent from the caller's visible documents and the word also searched for."""

    word: str = Field(examples=["Allemagen"])
    correction: str = Field(examples=["Allemagne"])


class UnderstoodPublic(BaseModel):
    """How the query was understood (``search.understanding``)."""

    concepts: list[UnderstoodConceptPublic] = Field(description="Concepts the query names (ranking boosts)")
    corrections: list[UnderstoodCorrectionPublic] = Field(
        description="Unknown words of a keyword query and the corrections searched for as well"
    )
    synonyms: list[str] = Field(
        description="Labels of those concepts also searched for, with a lower weight",
        examples=[["allemand", "Germany"]],
    )


class SearchResultsPublic(BaseModel):
    """One page of hits, the total number of matches, the facet counts and what to try next."""

    total: int = Field(description="Matching documents and items in the caller's scope")
    hits: list[SearchHitPublic]
    facets: SearchFacetsPublic = Field(description="Counts over the matches only (empty lists when none)")
    suggestions: list[SearchSuggestionPublic] = Field(
        description="Spelling corrections, filters to apply or drop, or sectors to browse (see kind)"
    )
    understood: UnderstoodPublic = Field(
        description="What the query was understood to name; its concepts rank higher, never filter"
    )


class SimilarQuery(BaseModel):
    """The query string of ``GET /api/documents/{id}/similar`` and ``GET /api/items/{id}/similar``."""

    limit: int = Field(10, ge=1, le=SIMILAR_LIMIT, description="Similar documents and items to return")


class SimilarResultsPublic(BaseModel):
    """Documents and watch items nearest one document or item by meaning, in the caller's scope."""

    total: int = Field(description="Similar documents and items found above the similarity floor")
    hits: list[SearchHitPublic] = Field(
        description="Best first; explanation.similarity is the cosine to the document or item"
    )
    reason: str | None = Field(
        description="Why hits is empty when the document or item has no vector yet (« pas encore de "
        "vecteur »: it is searchable by keywords, its vectors are being computed); else null",
        examples=[None],
    )
