"""Lookups of ``search.opensearch.OpenSearchBackend`` beside ranked searches: spelling suggestions from the
visible vocabulary, and the filter parity reads.

Spelling (``search.spelling``'s rule): a word is known when a visible passage writes it so (the unstemmed
``text_exact`` field, with the scope and filters in the query) or writes another form of it (the light
stemmer conflates more than Snowball: « Alemagne » and « Allemagne » share a stem there, yet the first is
a typo); otherwise a fuzzy query in the same scope finds the passages with close terms, which are read
from the store and analysed here, and the closest term is shown as those passages write it. OpenSearch's
suggesters cannot take the scope filter, hence the queries.

``filter_ids`` answers the parity tests (``search.testing.FilterParityTests``): the cluster's filter
query, or the reference mask (``search.columns``, the embedded vector side's evaluator) over the stored
meta of the same passages.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from search import opensearch_query as q
from search import opensearch_snippets as snip
from search import spelling as sp
from search.columns import Columns
from search.filters import Scalar, check, filter_values
from search.opensearch_search import query_filter
from search.types import Passage, SearchQuery
from tfe.core.errors import ValidationError

if TYPE_CHECKING:
    from search.opensearch import OpenSearchBackend

SURFACE_PASSAGES = 20  # visible passages read to learn candidate terms and how a term is written


def spelling(backend: OpenSearchBackend, query: SearchQuery) -> str | None:
    """Unknown words (no visible passage has them) replaced by the closest term of the visible passages
    that a fuzzy query finds (``search.spelling``'s rule); ``None`` when nothing changes."""
    text = (query.text or "").strip()
    if not text:
        return None
    where = query_filter(query)
    changed = False

    def visible(match: dict[str, Any], size: int) -> list[Passage]:
        res = backend.search_raw(
            {"query": q.combined(match, where), "size": size, "_source": False}, "spelling"
        )
        ids = [h["_id"] for h in res["hits"]["hits"]]
        stored = backend.texts.get(ids)
        return [stored[i] for i in ids if i in stored]

    def fix(m: re.Match[str]) -> str:
        nonlocal changed
        word = m.group(0)
        terms = snip.analyze(word)
        if not sp.correctable(word) or not terms:
            return word
        if visible({"match": {"text_exact": {"query": word}}}, 1):  # written so in a visible passage
            return word
        near = visible(
            {"match": {"text": {"query": word, "fuzziness": 2, "prefix_length": 1}}}, SURFACE_PASSAGES
        )
        counts: dict[str, int] = {}
        for p in near:
            for t in set(snip.analyze(f"{p.title}\n{p.text}")):
                if t[:1] == terms[0][:1]:
                    counts[t] = counts.get(t, 0) + 1
        if terms[0] in counts:  # another form of a visible word (the light stemmer conflates more)
            return word
        better = sp.best_term(terms[0], counts.items())
        if better is None:
            return word
        shown = sp.surface_form(better, [t for p in near for t in (p.title, p.text)], snip.analyze)
        if shown is None:
            return word
        changed = True
        return shown

    corrected = sp.WORD.sub(fix, text)
    return corrected if changed else None


def filter_ids(backend: OpenSearchBackend, filters: dict[str, Any] | None, engine: str) -> list[str]:
    if engine not in ("opensearch", "reference"):
        raise ValidationError(f"unknown filter engine {engine!r}")
    filters = filters or None
    if filters is not None:
        check(filters)
    if engine == "opensearch":
        return backend.ids_where(q.filter_dsl(filters))
    ids = backend.ids_where(q.MATCH_ALL)
    stored = backend.texts.get(ids)
    present = [i for i in ids if i in stored]
    fields: dict[str, list[list[Scalar]]] = {}
    for row, pid in enumerate(present):
        for path, vals in filter_values(stored[pid].meta).items():
            col = fields.setdefault(path, [])
            col.extend([] for _ in range(row - len(col)))
            col.append(vals)
    mask = Columns(fields, len(present)).mask(filters)
    return [pid for pid, keep in zip(present, mask.tolist(), strict=True) if keep]
