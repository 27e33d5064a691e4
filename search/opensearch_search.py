"""Searches of ``search.opensearch.OpenSearchBackend``, with the embedded backend's result-set semantics.

One search is at most four requests, each with the scoped filter (access scope, facets, dates, excluded
parents) in the ``filter`` clause of its bool query:

1. BM25: the text query, top ``fusion.rank_depth`` passages (keyword queries of up to three words require
   every word, then fall back to any word), with the totals and facet aggregations attached;
2. kNN (``vector``/``hybrid``): the top ``fusion.vector_k`` passages by the ``knn_vector`` field with the
   filter inside the kNN query (OpenSearch's efficient filtering, not post-filtering); their cosines are
   computed here from the returned vectors, so the floors of ``search.fusion`` mean the same thing as in
   the embedded backend whatever the cluster's score scale. ``vector_search="exact"`` (a cluster without
   the k-NN plugin, such as osmem-server) reads every scoped vector instead and ranks them here: exact,
   but linear in the scoped passages, for small indexes and tests only;
3. the two lists are numbered locally (``fusion.fuse`` takes integer candidates) and fused by
   ``fusion.fuse`` exactly as the embedded backend does; when vector-only candidates join a hybrid result
   set (or in vector mode), the aggregations run again over that set (text query OR those ids);
4. date sorts order every matched passage by ``sort_instant`` in the cluster (undated last).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from search import explain, fusion
from search import opensearch_query as q
from search import opensearch_snippets as snip
from search import tantivy_index as ti
from search.filters import check, combine, date_filter, facet_filter, visible_filter
from search.opensearch_mapping import KEYWORD_FIELDS, facet_field
from search.opensearch_rows import Rows, boosted
from search.types import Hit, SearchQuery, SearchResult
from tfe.core.errors import ValidationError

if TYPE_CHECKING:
    from search.opensearch import OpenSearchBackend

log = logging.getLogger(__name__)

_VEC_SOURCE = ["parent_id", "embedding", *(facet_field(f) for f in KEYWORD_FIELDS)]
_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def query_filter(query: SearchQuery) -> dict[str, Any]:
    """The filter clause of a search: the scope, facets and dates (validated), less excluded parents."""
    flt = combine(
        visible_filter(query.scope), facet_filter(query.filters), date_filter(query.date_from, query.date_to)
    )
    if flt is not None:
        check(flt)
    return q.scoped(q.filter_dsl(flt), tuple(query.exclude_parents))


def search(backend: OpenSearchBackend, query: SearchQuery) -> SearchResult:
    if query.mode not in ("bm25", "vector", "hybrid"):
        raise ValidationError(f"unknown search mode {query.mode!r}")
    if query.limit < 0 or query.offset < 0:
        raise ValidationError("limit and offset must be non-negative")
    where = query_filter(query)
    text = (query.text or "").strip()
    depth = fusion.rank_depth(query.offset, query.limit)
    rows = Rows()
    source = ["parent_id", "embedding"] if fusion.settings()[0] == "rrf" else ["parent_id"]
    if any(query.boosts.values()):
        source += [facet_field(f) for f in KEYWORD_FIELDS]
    if not text and query.mode == "vector" and query.query_embedding is not None:
        return _similar(backend, query, rows, where, depth)
    if not text:  # browse: every scoped passage, newest (or oldest) first
        body = _sorted_body(q.combined(None, where), query, depth, ["parent_id"])
        body["aggs"] = q.aggregations()
        res = backend.search_raw(body)
        ranked = [(rows.add(h), 0.0) for h in res["hits"]["hits"]]
        total, facets = q.read_aggregations(res.get("aggregations", {}))
        return _page(backend, query, rows, ranked, total, facets, None)
    want_vec = query.mode in ("vector", "hybrid")
    qvec = query.query_embedding
    if want_vec and qvec is None:
        raise ValidationError(f"mode {query.mode!r} needs a query embedding")
    keyword = ti.is_keyword_query(text)
    scoring = q.text_dsl(text, conjunction=keyword, expansions=query.expansions)
    bm25, aggs = _EMPTY, None
    if query.mode in ("bm25", "hybrid") and scoring is not None:
        bm25, aggs = _bm25(backend, rows, scoring, where, depth, source)
        if keyword and len(bm25[0]) == 0:  # no passage has every word: any word will do
            scoring = q.text_dsl(text, conjunction=False, expansions=query.expansions)
            assert scoring is not None
            bm25, aggs = _bm25(backend, rows, scoring, where, depth, source)
    vec = _EMPTY
    if want_vec and qvec is not None:
        vec = _knn(backend, rows, np.asarray(qvec, dtype=np.float32), where, query)
    lexical = None
    if query.mode == "vector":
        words = q.any_word_dsl(text)
        lexical = words is not None and bool(
            backend.search_raw(
                {"query": q.combined(words, where), "size": 0, "terminate_after": 1, "track_total_hits": 1}
            )["hits"]["total"]["value"]
        )
    qv = None if qvec is None else np.asarray(qvec, dtype=np.float32)

    def by_vector(cands: np.ndarray, k: int) -> list[int]:
        sims = rows.cosines(qv, cands.tolist())
        scored = [(int(r), s) for r, s in zip(cands.tolist(), sims, strict=True) if s is not None]
        return [r for r, _s in sorted(scored, key=lambda rs: -rs[1])[:k]]

    fused = fusion.fuse(query.mode, bm25, vec, by_vector, depth, lexical=lexical)
    extra = [rows.ids[r] for r in np.setdiff1d(fused.matched, bm25[0]).tolist()]
    matched_q = _matched_query(scoring if query.mode != "vector" else None, extra, where)
    if aggs is None or extra or query.mode == "vector":
        aggs = backend.search_raw(
            {"query": matched_q, "size": 0, "aggs": q.aggregations(), "track_total_hits": False},
            "aggregations",
        )["aggregations"]
    total, facets = q.read_aggregations(aggs)
    ranked = boosted(query, rows, fused.ranked)
    if query.sort != "relevance" and total:
        scores = dict(ranked)
        res = backend.search_raw(_sorted_body(matched_q, query, depth, ["parent_id"]))
        ranked = [(r, scores.get(r, 0.0)) for r in (rows.add(h) for h in res["hits"]["hits"])]
    lists = explain.Lists(
        lexical=bm25[0],
        vector=fusion.above_floor(*vec, lexical=lexical if lexical is not None else len(bm25[0]) > 0)[0],
    )
    return _page(backend, query, rows, ranked, total, facets, lists)


def _similar(
    backend: OpenSearchBackend, query: SearchQuery, rows: Rows, where: dict[str, Any], depth: int
) -> SearchResult:
    """More like this (empty text, vector mode, a query vector): the scoped neighbours at or above
    ``fusion.SIMILAR_FLOOR``, the excluded parents left out (they are in ``where``)."""
    assert query.query_embedding is not None
    found, sims = fusion.similar(
        _knn(backend, rows, np.asarray(query.query_embedding, np.float32), where, query)
    )
    ranked = list(zip(found.tolist(), sims.tolist(), strict=True))
    matched_q = _matched_query(None, [rows.ids[r] for r in found.tolist()], where)
    aggs = backend.search_raw({"query": matched_q, "size": 0, "aggs": q.aggregations()}, "aggregations")
    total, facets = q.read_aggregations(aggs.get("aggregations", {}))
    if query.sort != "relevance" and total:
        scores = dict(ranked)
        res = backend.search_raw(_sorted_body(matched_q, query, depth, ["parent_id"]))
        ranked = [(r, scores.get(r, 0.0)) for r in (rows.add(h) for h in res["hits"]["hits"])]
    lists = explain.Lists(lexical=np.zeros(0, dtype=np.int64), vector=found)
    return _page(backend, query, rows, ranked, total, facets, lists)


def _bm25(
    backend: OpenSearchBackend,
    rows: Rows,
    scoring: dict[str, Any],
    where: dict[str, Any],
    depth: int,
    source: list[str],
) -> tuple[tuple[np.ndarray, np.ndarray], dict[str, Any]]:
    body = {
        "query": q.combined(scoring, where),
        "size": depth,
        "_source": source,
        "aggs": q.aggregations(),
        "track_total_hits": False,
    }
    res = backend.search_raw(body, "bm25")
    hits = res["hits"]["hits"]
    found = np.asarray([rows.add(h) for h in hits], dtype=np.int64)
    scores = np.asarray([h["_score"] or 0.0 for h in hits], dtype=np.float32)
    return (found, scores), res.get("aggregations", {})


def _knn(
    backend: OpenSearchBackend, rows: Rows, qvec: np.ndarray, where: dict[str, Any], query: SearchQuery
) -> tuple[np.ndarray, np.ndarray]:
    k = fusion.vector_k(query.offset, query.limit)
    if backend.vector_search == "exact":  # no k-NN plugin: every scoped vector, ranked here
        scope = {"bool": {"filter": [where, {"term": {"has_vec": True}}]}}
        hits = backend.hits_where(scope, _VEC_SOURCE)
    else:
        knn = {"knn": {"embedding": {"vector": qvec.tolist(), "k": k, "filter": where}}}
        body = {"query": knn, "size": k, "_source": _VEC_SOURCE}
        hits = backend.search_raw(body, "knn")["hits"]["hits"]
    found = [rows.add(h) for h in hits]
    sims = rows.cosines(qvec, found)
    pairs = sorted(((r, s) for r, s in zip(found, sims, strict=True) if s is not None), key=lambda p: -p[1])[
        :k
    ]
    return (
        np.asarray([r for r, _s in pairs], dtype=np.int64),
        np.asarray([s for _r, s in pairs], dtype=np.float32),
    )


def _matched_query(
    scoring: dict[str, Any] | None, extra_ids: list[str], where: dict[str, Any]
) -> dict[str, Any]:
    """The result set: the text query's matches or the vector candidates that joined, in the scope."""
    parts = ([scoring] if scoring is not None else []) + (
        [{"ids": {"values": extra_ids}}] if extra_ids else []
    )
    if not parts:
        return q.MATCH_NONE
    return {"bool": {"filter": [where, {"bool": {"should": parts, "minimum_should_match": 1}}]}}


def _sorted_body(query: dict[str, Any], sq: SearchQuery, depth: int, source: list[str]) -> dict[str, Any]:
    order = "asc" if sq.sort == "date_asc" else "desc"
    sort = [{"sort_instant": {"order": order, "missing": "_last"}}, "_score", {"seq": "asc"}]
    return {"query": query, "size": depth, "_source": source, "sort": sort, "track_total_hits": False}


def _page(
    backend: OpenSearchBackend,
    query: SearchQuery,
    rows: Rows,
    ranked: list[tuple[int, float]],
    total: int,
    facets: dict[str, list[tuple[str, int]]],
    lists: explain.Lists | None,
) -> SearchResult:
    best: dict[str, tuple[int, float]] = {}
    for row, score in ranked:
        best.setdefault(rows.parent[row], (row, score))
        if len(best) >= query.offset + query.limit:
            break
    page = list(best.values())[query.offset : query.offset + query.limit]
    stored = backend.texts.get([rows.ids[r] for r, _s in page])
    words = [w for w in explain.query_words(query.text)] + [w for w, _x in query.expansions]
    terms = snip.query_terms(words)
    pairs = [(r, stored[rows.ids[r]]) for r, _s in page if rows.ids[r] in stored]
    why: dict[int, dict[str, Any]] = {}
    if query.explain and pairs:
        qv = query.query_embedding
        why = explain.page(
            query, pairs, lists, lambda rs: rows.cosines(qv, rs), [snip.analyze, snip.analyze_exact]
        )
    hits = []
    for row, score in page:
        p = stored.get(rows.ids[row])
        if p is None:
            log.warning("passage %s is indexed without a stored text; run `tfe reindex`", rows.ids[row])
            continue
        hits.append(
            Hit(
                parent_id=p.parent_id,
                passage_id=p.id,
                title=p.title,
                snippet=snip.snippet(p.text, terms),
                score=float(score),
                meta=p.meta,
                explanation=why.get(row),
            )
        )
    return SearchResult(total=total, hits=hits, facets=facets)
