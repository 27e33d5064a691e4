"""Why a hit is there (issue 11 §2): pure functions every backend calls for the page of hits it returns.

``explain`` builds ``Hit.explanation`` (shape in ``search.types.Hit``) from what the backend already knows:

- ``terms``: the query words, as typed (and the ``SearchQuery.expansions``, listed again in ``expanded``),
  whose analysed terms all occur in the hit's best passage (title and text, as the text field indexes
  them), stemmed or exact: « vins » matches a passage saying « vin », « énergie » one saying « energie ».
  Words the parser treats as syntax are left out: ``AND``/``OR``/``NOT``, a word after ``NOT`` or with a
  leading ``-`` (excluded, so never in a hit), stop words (no term at all);
- ``concepts``: the ``SearchQuery.boosts`` concepts the hit's meta carries (``BOOST_FIELDS``: a sector
  with its ancestors, a country or its zones), as ``{"facet", "id"}``;
- ``lexical``/``lexical_rank``: the best passage's 1-based rank in the BM25 list (``None``: not matched);
- ``meaning``/``vector_rank``: its rank among the vector candidates above the relevance floor (those that
  count in ranking, ``search.fusion``), ``similarity``: its cosine to the query vector (``None`` without).

The analysers are passed in (``Analyze``: text -> terms), so a backend explains with its own chain; the
embedded one passes Tantivy's French chains, stemmed and exact (``search.tantivy_index``). ``ranks_of``
finds the ranks of the page's rows in a backend's lists without building a map of every match.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.types import Passage, SearchQuery

Analyze = Callable[[str], list[str]]

# facet of ``SearchQuery.boosts`` -> the meta fields (passage meta, see ``search.types.Passage``) a hit
# carries the boosted concept in
BOOST_FIELDS: dict[str, tuple[str, ...]] = {
    "sector": ("sectors", "sector_facet"),
    "country": ("countries", "regions"),
    "type": ("doc_type",),
    "org": ("org_id",),
    "language": ("language",),
}
OPERATORS = frozenset({"AND", "OR", "NOT", "IN", "TO"})
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_CHUNK = re.compile(r"\S+")


def query_words(text: str) -> list[str]:
    """The words of a user query, as typed, in order, each once (case-insensitively), without the parser's
    operators and without the words it excludes (``-mot``, ``NOT mot``)."""
    words: list[str] = []
    seen: set[str] = set()
    negate_next = False
    for chunk in _CHUNK.findall(text or ""):
        bare = chunk.strip('"()[]{}')
        if bare in OPERATORS:
            negate_next = bare == "NOT"
            continue
        negated = negate_next or bare.startswith("-") or chunk.startswith("-")
        negate_next = False
        if negated:
            continue
        for word in _WORD.findall(chunk):
            key = word.casefold()
            if key not in seen:
                seen.add(key)
                words.append(word)
    return words


def passage_terms(text: str, analyzers: Sequence[Analyze]) -> list[frozenset[str]]:
    """The terms of one passage under each analyser (same order as ``analyzers``).

    The last ``TERMS_CACHED`` results are kept, keyed by a digest of the text (never the text itself)
    and the analysers: the same passages come back page after page, and analysing a passage costs far
    more than hashing it."""
    key = (hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest(), tuple(analyzers))
    with _TERMS_LOCK:
        cached = _TERMS.get(key)
        if cached is not None:
            _TERMS.move_to_end(key)
            return cached
    terms = [frozenset(analyze(text)) for analyze in analyzers]
    with _TERMS_LOCK:
        _TERMS[key] = terms
        while len(_TERMS) > TERMS_CACHED:
            _TERMS.popitem(last=False)
    return terms


TERMS_CACHED = 2048  # passages whose analysed terms ``passage_terms`` keeps
_TERMS: OrderedDict[tuple[bytes, tuple[Analyze, ...]], list[frozenset[str]]] = OrderedDict()
_TERMS_LOCK = threading.Lock()


def occurs(word: str, terms: Sequence[frozenset[str]], analyzers: Sequence[Analyze]) -> bool:
    """Whether every term of ``word`` occurs in the passage under one of the analysers (a stop word,
    which has no term, never does)."""
    for analyze, found in zip(analyzers, terms, strict=True):
        mine = analyze(word)
        if mine and all(t in found for t in mine):
            return True
    return False


def matched_terms(
    words: Sequence[str],
    expansions: Iterable[tuple[str, float]],
    passage: str,
    analyzers: Sequence[Analyze],
) -> tuple[list[str], list[str]]:
    """(terms, expanded): the query words, then the expansion words, that occur in ``passage``; expanded
    lists the matched expansions (a word typed and also an expansion counts as typed)."""
    terms = passage_terms(passage, analyzers)
    found = [w for w in words if occurs(w, terms, analyzers)]
    typed = {w.casefold() for w in words}
    expanded: list[str] = []
    for word, _weight in expansions:
        key = word.casefold()
        if key in typed or any(key == e.casefold() for e in expanded):
            continue
        if occurs(word, terms, analyzers):
            expanded.append(word)
    return [*found, *expanded], expanded


def _values(meta: Mapping[str, Any], field: str) -> set[str]:
    value = meta.get(field)
    if value is None:
        return set()
    if isinstance(value, list | tuple | set | frozenset):
        return {str(v) for v in value}
    return {str(value)}


def matched_concepts(boosts: Mapping[str, Sequence[str]], meta: Mapping[str, Any]) -> list[dict[str, str]]:
    """The boosted concepts (facet -> concept ids) the hit's meta carries, as ``{"facet", "id"}``."""
    out: list[dict[str, str]] = []
    for facet, ids in boosts.items():
        carried: set[str] = set()
        for field in BOOST_FIELDS.get(facet, (facet,)):
            carried |= _values(meta, field)
        out.extend({"facet": facet, "id": cid} for cid in dict.fromkeys(ids) if cid in carried)
    return out


def ranks_of(rows: np.ndarray, wanted: Iterable[int]) -> dict[int, int]:
    """1-based rank of each wanted row in ``rows`` (a list, best first); rows absent are left out. One
    pass over ``rows`` for the few wanted rows of a page."""
    wanted = list(dict.fromkeys(int(r) for r in wanted))
    rows = np.asarray(rows)
    if not wanted or len(rows) == 0:
        return {}
    out: dict[int, int] = {}
    for i in np.flatnonzero(np.isin(rows, np.asarray(wanted, dtype=rows.dtype))).tolist():
        out.setdefault(int(rows[i]), i + 1)
    return out


def explain(
    *,
    words: Sequence[str],
    expansions: Iterable[tuple[str, float]],
    boosts: Mapping[str, Sequence[str]],
    passage: str,
    meta: Mapping[str, Any],
    analyzers: Sequence[Analyze],
    lexical_rank: int | None,
    vector_rank: int | None,
    similarity: float | None,
) -> dict[str, Any]:
    """One hit's explanation (``search.types.Hit.explanation``); ``passage``: its best passage's indexed
    text (title and text), ``words``: ``query_words`` of the query."""
    terms, expanded = matched_terms(words, expansions, passage, analyzers) if words else ([], [])
    return {
        "terms": terms,
        "expanded": expanded,
        "concepts": matched_concepts(boosts, meta),
        "lexical": lexical_rank is not None,
        "meaning": vector_rank is not None,
        "similarity": None if similarity is None else round(float(similarity), 4),
        "lexical_rank": lexical_rank,
        "vector_rank": vector_rank,
    }


@dataclass(frozen=True)
class Lists:
    """The two ranked lists of one search (rows, best first): every BM25 match, and the vector candidates
    above the relevance floor (``search.fusion``). Empty arrays for a side that did not run."""

    lexical: np.ndarray
    vector: np.ndarray


def page(
    query: SearchQuery,
    hits: Sequence[tuple[int, Passage]],
    lists: Lists | None,
    cosines: Callable[[list[int]], list[float | None]],
    analyzers: Sequence[Analyze],
) -> dict[int, dict[str, Any]]:
    """The explanation of each (row, best passage) of one page, by row. ``cosines(rows)``: each row's
    cosine to ``query.query_embedding`` (``None`` for a row without a vector); ``lists``: ``None`` when
    nothing was ranked (browsing)."""
    rows = [row for row, _p in hits]
    lexical = ranks_of(lists.lexical, rows) if lists is not None else {}
    vector = ranks_of(lists.vector, rows) if lists is not None else {}
    sims = cosines(rows) if query.query_embedding is not None and rows else [None] * len(rows)
    words = query_words(query.text)
    return {
        row: explain(
            words=words,
            expansions=query.expansions,
            boosts=query.boosts,
            passage="\n".join(part for part in (p.title, p.text) if part),
            meta=p.meta,
            analyzers=analyzers,
            lexical_rank=lexical.get(row),
            vector_rank=vector.get(row),
            similarity=sim,
        )
        for (row, p), sim in zip(hits, sims, strict=True)
    }


FACET_WORDS_FR = {"sector": "secteur", "country": "pays", "type": "type", "org": "organisation"}


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f"« {w} »" for w in words)


def why_fr(explanation: Mapping[str, Any] | None) -> str:
    """One French line saying why a hit is there, for the result list and the CLI, e.g. « Pourquoi : mots
    « vins », « Allemagne » · secteur Fabrication de vins · sens proche (0,87) »; empty when nothing
    explains it (browsing). Concepts show their ``label`` when the service added one."""
    if not explanation:
        return ""
    parts: list[str] = []
    expanded = {w.casefold() for w in explanation.get("expanded", [])}
    typed = [w for w in explanation.get("terms", []) if w.casefold() not in expanded]
    extra = [w for w in explanation.get("terms", []) if w.casefold() in expanded]
    if typed:
        parts.append(f"{'mots' if len(typed) > 1 else 'mot'} {_quoted(typed)}")
    if extra:
        parts.append(f"{'variantes' if len(extra) > 1 else 'variante'} {_quoted(extra)}")
    for concept in explanation.get("concepts", []):
        cid = str(concept.get("id", ""))
        word = "zone" if cid.startswith("region:") else FACET_WORDS_FR.get(str(concept.get("facet")), "")
        parts.append(f"{word} {concept.get('label') or cid}".strip())
    similarity = explanation.get("similarity")
    if explanation.get("meaning") and similarity is not None:
        parts.append(f"sens proche ({float(similarity):.2f})".replace(".", ","))
    return "Pourquoi : " + " · ".join(parts) if parts else ""
