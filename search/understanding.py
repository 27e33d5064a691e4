"""Query understanding (issue 11 §1): the concepts a query names become boosts, their labels and the
corrections of unknown words become expansions; never filters.

``understand`` turns a query's text, the concepts a recogniser found in it (``taxonomy.query_concepts``,
injected into ``search.service.SearchService``) and the backend's spelling correction into:

- ``boosts``: facet -> concept ids (``SearchQuery.boosts``). A backend multiplies the fused score of a
  passage carrying one of a facet's concepts (the facet filter's semantics: ``sectors`` with ancestors,
  ``countries`` or ``regions``) by ``1 + BOOST``, once per facet (``boosted``); the others are still found.
- ``expansions``: (text, weight) pairs (``SearchQuery.expansions``), each parsed like the query text and
  OR-ed into it with its weight below 1 (``text_query``). For a keyword query (all words required) an
  expansion is the whole query with the concept's words replaced by one of its synonyms (« vins
  Allemagne » → « vins allemand »), or with its unknown words corrected (« vins Allemagen » → « vins
  Allemagne »), so an expansion keeps the other words required instead of letting any document that
  mentions « allemand » in; for a longer question (any word matches) it is the synonym or correction
  alone. Synonyms are the recognised concept's labels (``QueryConcept.synonyms``: the preferred label in
  the other language, alternative labels, adjectives) that the query does not already contain.
- what was understood, for the answer (``Understood.public``): concepts, corrections and synonyms.

Weights were checked on PIAF (dev), BM25 mode (docs/benchmarks.md "Query understanding, 2026-12-02").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import tantivy

from search import spelling
from search import tantivy_index as ti
from search.filters import facet_filter

__all__ = [
    "BOOST",
    "CORRECTION_WEIGHT",
    "SYNONYM_WEIGHT",
    "QueryConcept",
    "Recogniser",
    "Understood",
    "boosted",
    "corrections_of",
    "text_query",
    "understand",
]

BOOST = 0.5  # the fused score of a passage carrying a boosted facet's concept is multiplied by 1 + BOOST
SYNONYM_WEIGHT = 0.15  # PIAF (dev) BM25 nDCG@10: 0 -> 0.8255, 0.15 -> 0.8255, 0.3 -> 0.8248
CORRECTION_WEIGHT = 0.8  # PIAF, spelling on every question: 0.5 -> 0.8284, 0.8 -> 0.8289
MAX_EXPANSIONS = 8
BOOSTED_FACETS = ("sector", "country")


class QueryConcept(Protocol):
    """One concept a query names, as a recogniser answers it (``taxonomy.query_concepts.QueryConcept``;
    search and taxonomy are independent, so the service receives the recogniser as a callable)."""

    @property
    def facet(self) -> str: ...  # "sector" | "country"
    @property
    def concept_id(self) -> str: ...
    @property
    def words(self) -> tuple[str, ...]: ...  # the query words that name it, as typed
    @property
    def start(self) -> int: ...  # its character span in the text the recogniser read
    @property
    def end(self) -> int: ...
    @property
    def synonyms(self) -> tuple[str, ...]: ...  # labels to expand the query with
    @property
    def boost_ids(self) -> tuple[str, ...]: ...  # the ids a boost looks for (the concept, its division)


Recogniser = Callable[[str], Sequence[QueryConcept]]


def _key(text: str) -> str:
    """Folded words without a final plural s/x: « Allemandes » and « allemande » are one synonym."""
    bare = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))
    return " ".join(w[:-1] if len(w) > 3 and w[-1] in "sx" else w for w in spelling.WORD.findall(bare))


@dataclass(frozen=True)
class Understood:
    """What a query was understood to mean, and the boosts and expansions that carry it to the backend."""

    concepts: tuple[QueryConcept, ...] = ()
    corrections: tuple[tuple[str, str], ...] = ()  # (word as typed, correction)
    synonyms: tuple[str, ...] = ()
    boosts: dict[str, list[str]] = field(default_factory=dict)
    expansions: list[tuple[str, float]] = field(default_factory=list)

    def public(self, label: Callable[[str], str]) -> dict[str, Any]:
        """The ``understood`` object of the search answer (``label``: concept id -> its label)."""
        return {
            "concepts": [
                {"facet": c.facet, "id": c.concept_id, "label": label(c.concept_id), "words": list(c.words)}
                for c in self.concepts
            ],
            "corrections": [{"word": w, "correction": c} for w, c in self.corrections],
            "synonyms": list(self.synonyms),
        }


def corrections_of(text: str, corrected: str | None) -> list[tuple[str, str]]:
    """The (word, correction) pairs of a spelling correction (``SearchBackend.spelling`` replaces words one
    for one, so the words of both texts align); empty when they do not."""
    if not corrected:
        return []
    before, after = spelling.WORD.findall(text), spelling.WORD.findall(corrected)
    if len(before) != len(after):
        return []
    return [(a, b) for a, b in zip(before, after, strict=True) if a != b]


def _phrase(text: str) -> str:
    return f'"{text}"' if len(spelling.WORD.findall(text)) > 1 else text


def understand(text: str, recognise: Recogniser | None = None, corrected: str | None = None) -> Understood:
    """Boosts, expansions and what was understood for ``text``.

    ``recognise``: the concepts a text names (run on the corrected text, so « Allemagen » still names
    Germany); ``corrected``: the query with its unknown words corrected (``SearchBackend.spelling``)."""
    text = (text or "").strip()
    corrections = corrections_of(text, corrected)
    base = corrected if corrections and corrected else text
    keyword = ti.is_keyword_query(text)
    found = recognise(base) if recognise is not None and base else ()
    concepts = tuple(c for c in found if c.facet in BOOSTED_FACETS)
    boosts: dict[str, list[str]] = {}
    for c in concepts:
        ids = boosts.setdefault(c.facet, [])
        ids += [i for i in (c.boost_ids or (c.concept_id,)) if i not in ids]
    expansions: list[tuple[str, float]] = []
    if corrections:
        words = [base] if keyword else [c for _w, c in corrections]
        expansions += [(w, CORRECTION_WEIGHT) for w in words]
    present = {_key(w) for w in spelling.WORD.findall(base)} | {_key(base)}
    synonyms: list[str] = []
    for c in concepts:
        for synonym in c.synonyms:
            key = _key(synonym)
            if not key or key in present or synonym in synonyms:
                continue
            synonyms.append(synonym)
            alt = f"{base[: c.start]}{_phrase(synonym)}{base[c.end :]}" if keyword else _phrase(synonym)
            expansions.append((alt, SYNONYM_WEIGHT))
    return Understood(
        concepts=concepts,
        corrections=tuple(corrections),
        synonyms=tuple(synonyms),
        boosts=boosts,
        expansions=list(dict.fromkeys(expansions))[:MAX_EXPANSIONS],
    )


# ---------------------------------------------------------------------- applied by the embedded backend
def text_query(
    index: tantivy.Index, text: str, expansions: Sequence[tuple[str, float]], *, conjunction: bool
) -> tantivy.Query:
    """``tantivy_index.text_query`` of ``text`` OR-ed with each expansion, parsed the same way, its score
    weighted (``tantivy.Query.boost_query``)."""
    query = ti.text_query(index, text, conjunction=conjunction)
    extra = [
        (
            tantivy.Occur.Should,
            tantivy.Query.boost_query(ti.text_query(index, alt, conjunction=conjunction), w),
        )
        for alt, w in expansions
        if alt.strip() and w > 0
    ]
    if not extra:
        return query
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, query), *extra])


def boosted(
    ranked: list[tuple[int, float]],
    boosts: dict[str, list[str]],
    mask: Callable[[dict[str, Any]], np.ndarray],
) -> list[tuple[int, float]]:
    """``ranked`` (row, fused score) with the score of each row carrying a boosted facet's concept
    multiplied by ``1 + BOOST`` (per facet), re-sorted, best first (ties keep their order).

    ``mask(filter)``: the boolean row mask of a facet filter (``VectorTable.mask``)."""
    wanted = {facet: ids for facet, ids in boosts.items() if ids}
    if not wanted or not ranked:
        return ranked
    rows = np.fromiter((r for r, _s in ranked), dtype=np.int64, count=len(ranked))
    scores = np.fromiter((s for _r, s in ranked), dtype=np.float64, count=len(ranked))
    for facet, ids in wanted.items():
        flt = facet_filter({facet: list(ids)})
        if flt is not None:
            scores[mask(flt)[rows]] *= 1.0 + BOOST
    order = np.argsort(-scores, kind="stable")
    return [(int(rows[i]), float(scores[i])) for i in order]
