"""``EmbeddedBackend``: Tantivy (BM25, French analyzer, keyword filters, snippets) + a float32 vector matrix.

Layout under ``index_dir``: ``tantivy/`` (the text index) and ``vectors/`` (see ``search.vectors``).
Safe for one writer process; readers notice a new commit (``vectors/CURRENT`` changes) and reload both
halves before their next search. The access scope and facet filters are one Haystack filter, applied
inside the Tantivy query and as a row mask before vector ranking; totals, facets and snippets are
computed from those scoped matches only.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from search import tantivy_index as ti
from search.embeddings import DIM
from search.filters import KEYWORD_FIELDS, check, combine, facet_filter, keyword_values
from search.fusion import reciprocal_rank_fusion
from search.types import FACET_FIELDS, Hit, Passage, SearchQuery, SearchResult
from search.vectors import VectorTable
from tfe.core.errors import BackendError, ValidationError

log = logging.getLogger(__name__)

VECTOR_CANDIDATES = 100  # passages the vector side contributes (at least; grows with offset + limit)
WRITER_WAIT_S = 30.0  # how long a write waits for another process to release the index
VECTOR_MARGIN = 0.03  # hybrid: vector-only candidates within this cosine of the best one join the results
VECTOR_EXTRA = 5  # ... and at most this many of them
RANK_DEPTH = 1000  # passages of each list that are fused and grouped (all matches still count for facets)


@dataclass
class _Op:
    kind: str  # "upsert" | "delete_parent" | "delete_id" | "embed"
    passage: Passage | None = None
    key: int = 0
    target: str = ""
    vector: np.ndarray | None = None


class EmbeddedBackend:
    """The zero-configuration search backend (implements ``search.backend.SearchBackend``)."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._vec_dir = self.index_dir / "vectors"
        self._lock = threading.RLock()
        self._index = ti.open_index(self.index_dir / "tantivy")
        self._schema = self._index.schema
        self._writer: tantivy.IndexWriter | None = None
        self._ops: list[_Op] = []
        self._table = VectorTable.load(self._vec_dir)
        self._next_key = self._table.next_key
        self._seen_current = self._current_stamp()

    # ------------------------------------------------------------------ lifecycle
    def _current_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(VectorTable.current_path(self._vec_dir))
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _maybe_reload(self) -> None:
        """Pick up another process's commit (readers only; the writer already holds the latest state)."""
        stamp = self._current_stamp()
        if stamp == self._seen_current:
            return
        self._seen_current = stamp
        if VectorTable.current_path(self._vec_dir).exists():
            text = VectorTable.current_path(self._vec_dir).read_text(encoding="utf-8").strip()
            if text and int(text) != self._table.generation:
                self._table = VectorTable.load(self._vec_dir)
                self._next_key = max(self._next_key, self._table.next_key)
        self._index.reload()

    def _w(self) -> tantivy.IndexWriter:
        """The index writer, held from the first write until ``commit``.

        Tantivy's writer lock makes this process the only writer (``tfe serve`` and ``tfe ingest`` may run
        side by side): wait for it a while, then pick up what the previous writer committed, so that our
        vector table and passage keys continue from its state instead of overwriting it.
        """
        if self._writer is None:
            deadline = time.monotonic() + WRITER_WAIT_S
            while True:
                try:
                    self._writer = self._index.writer(heap_size=128_000_000, num_threads=0)
                    break
                except ValueError as e:
                    if time.monotonic() >= deadline:
                        raise BackendError(f"search index is locked by another writer: {e}") from e
                    time.sleep(0.1)
            self._maybe_reload()
        return self._writer

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                if self._ops:
                    log.warning("closing search backend with %d uncommitted operations", len(self._ops))
                self._writer.rollback() if self._ops else None
                self._writer = None

    # ------------------------------------------------------------------ writes
    def write(self, passages: list[Passage]) -> int:
        with self._lock:
            writer = self._w()
            for p in passages:
                if p.embedding is not None and np.asarray(p.embedding).size != DIM:
                    raise ValidationError(f"passage {p.id}: embedding must have {DIM} dimensions")
                key = self._next_key
                self._next_key += 1
                writer.delete_documents_by_term("id", p.id)
                writer.add_document(ti.to_document(p, key))
                self._ops.append(_Op("upsert", passage=p, key=key))
            return len(passages)

    def _live_ids(self, parent_id: str) -> set[str]:
        ids = {self._table.ids[r] for r in self._table.rows_of_parent(parent_id)}
        for op in self._ops:
            if op.kind == "upsert" and op.passage is not None:
                if op.passage.parent_id == parent_id:
                    ids.add(op.passage.id)
                else:
                    ids.discard(op.passage.id)
            elif op.kind == "delete_parent" and op.target == parent_id:
                ids.clear()
            elif op.kind == "delete_id":
                ids.discard(op.target)
        return ids

    def delete_parent(self, parent_id: str) -> int:
        with self._lock:
            n = len(self._live_ids(parent_id))
            self._w().delete_documents_by_term("parent_id", parent_id)
            self._ops.append(_Op("delete_parent", target=parent_id))
            return n

    def delete(self, ids: list[str]) -> None:
        """Remove passages by id (unknown ids are ignored)."""
        with self._lock:
            writer = self._w()
            for pid in ids:
                writer.delete_documents_by_term("id", pid)
                self._ops.append(_Op("delete_id", target=pid))

    def set_embeddings(self, ids: list[str], vectors: object) -> None:
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        with self._lock:
            self._w()  # the vector table is shared state: take the writer lock as for any write
            for pid, vec in zip(ids, matrix, strict=True):
                self._ops.append(_Op("embed", target=pid, vector=vec.copy()))

    def commit(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.commit()
                self._writer.wait_merging_threads()
            self._index.reload()
            if self._ops:
                self._apply_ops()
                self._table.next_key = max(self._table.next_key, self._next_key)
                self._table.save(self._vec_dir)
            self._seen_current = self._current_stamp()
            self._writer = None  # release the index lock only once the vectors are saved too

    def _apply_ops(self) -> None:
        table = self._table
        dead: set[int] = set()
        new_rows: dict[str, tuple[int, str, str, dict[str, list[str]], np.ndarray | None]] = {}
        for op in self._ops:
            if op.kind == "upsert" and op.passage is not None:
                p = op.passage
                row = table.row_of(p.id)
                if row is not None:
                    dead.add(row)
                values = {f: keyword_values(p.meta, f) for f in KEYWORD_FIELDS}
                vec = None if p.embedding is None else np.asarray(p.embedding, dtype=np.float32)
                new_rows.pop(p.id, None)
                new_rows[p.id] = (op.key, p.id, p.parent_id, values, vec)
            elif op.kind == "delete_parent":
                dead.update(table.rows_of_parent(op.target))
                for pid in [k for k, v in new_rows.items() if v[2] == op.target]:
                    del new_rows[pid]
            elif op.kind == "delete_id":
                row = table.row_of(op.target)
                if row is not None:
                    dead.add(row)
                new_rows.pop(op.target, None)
            elif op.kind == "embed" and op.vector is not None:
                if op.target in new_rows:
                    new_rows[op.target] = (*new_rows[op.target][:4], op.vector)
                else:
                    row = table.row_of(op.target)
                    if row is not None and row not in dead:
                        table.set_vector(row, op.vector)
        table.drop(sorted(dead))
        table.extend(sorted(new_rows.values(), key=lambda r: r[0]))
        self._ops = []

    # ------------------------------------------------------------------ reads
    def count(self) -> int:
        with self._lock:
            self._maybe_reload()
            return int(self._index.searcher().num_docs)

    def missing_embeddings(self, limit: int = 1000) -> list[Passage]:
        with self._lock:
            self._maybe_reload()
            rows = np.nonzero(~self._table.has_vec)[0][:limit]
            return self.get([self._table.ids[r] for r in rows])

    def get(self, ids: list[str]) -> list[Passage]:
        """Stored passages by id, in the order given (unknown ids are skipped)."""
        if not ids:
            return []
        searcher = self._index.searcher()
        q = tantivy.Query.term_set_query(self._schema, "id", list(ids))
        found = {}
        for _score, addr in searcher.search(q, limit=len(ids) + 1, count=False).hits:
            p = ti.from_document(searcher.doc(addr))
            found[p.id] = p
        out = [found[i] for i in ids if i in found]
        for p in out:
            row = self._table.row_of(p.id)
            if row is not None and self._table.has_vec[row]:
                p.embedding = self._table.matrix[row].copy()
        return out

    def iter_passages(self) -> Iterator[Passage]:
        """Every committed passage, in write order (used by the Haystack document store)."""
        with self._lock:
            self._maybe_reload()
            searcher = self._index.searcher()
            n = int(searcher.num_docs)
            if n == 0:
                return iter(())
            hits = searcher.search(
                tantivy.Query.all_query(), limit=n, count=False, order_by_field="key", order=tantivy.Order.Asc
            ).hits
            passages = [ti.from_document(searcher.doc(addr)) for _k, addr in hits]
        return iter(passages)

    def search(self, query: SearchQuery) -> SearchResult:
        if query.mode not in ("bm25", "vector", "hybrid"):
            raise ValidationError(f"unknown search mode {query.mode!r}")
        if query.limit < 0 or query.offset < 0:
            raise ValidationError("limit and offset must be non-negative")
        flt = combine(query.scope.haystack_filter(), facet_filter(query.filters))
        if flt is not None:
            check(flt)
        with self._lock:
            self._maybe_reload()
            return self._search(query, flt)

    def _search(self, query: SearchQuery, flt: dict[str, Any] | None) -> SearchResult:
        table = self._table
        searcher = self._index.searcher()
        text = (query.text or "").strip()
        keyword = ti.is_keyword_query(text)
        tq = ti.text_query(self._index, text, conjunction=keyword) if text else None
        fq = ti.filter_query(self._schema, flt, table.matching_values)
        if tq is None:
            return self._browse(query, searcher, fq)
        want_vec = query.mode in ("vector", "hybrid")
        if want_vec and query.query_embedding is None:
            raise ValidationError(f"mode {query.mode!r} needs a query embedding")
        bm25_rows = np.zeros(0, dtype=np.int64)
        bm25_scores = np.zeros(0, dtype=np.float32)
        addr_of: dict[int, tantivy.DocAddress] = {}
        if query.mode in ("bm25", "hybrid"):
            bm25_rows, bm25_scores, addr_of = self._bm25(searcher, tq, fq)
            if keyword and len(bm25_rows) == 0:  # no passage has every term: any term will do
                tq = ti.text_query(self._index, text, conjunction=False)
                bm25_rows, bm25_scores, addr_of = self._bm25(searcher, tq, fq)
        vec_rows = np.zeros(0, dtype=np.int64)
        vec_scores = np.zeros(0, dtype=np.float32)
        if want_vec and query.query_embedding is not None:
            k = max(VECTOR_CANDIDATES, 5 * (query.offset + query.limit))
            vec_rows, vec_scores = self._vector(query.query_embedding, table.mask(flt), k)

        depth = max(RANK_DEPTH, 10 * (query.offset + query.limit))
        ranked: list[tuple[int, float]]
        if query.mode == "bm25":
            ranked = list(zip(bm25_rows[:depth].tolist(), bm25_scores[:depth].tolist(), strict=True))
            matched = bm25_rows
        elif query.mode == "vector":
            ranked = list(zip(vec_rows.tolist(), vec_scores.tolist(), strict=True))
            matched = vec_rows
        else:
            # The result set is every BM25 match plus the few vector candidates close to the best one
            # (semantic recall without flooding totals and facets); both lists rank that same set.
            close = (
                vec_rows[vec_scores >= vec_scores[0] - VECTOR_MARGIN][:VECTOR_EXTRA]
                if len(vec_rows)
                else vec_rows
            )
            matched = np.union1d(bm25_rows, close)
            by_vector = self._rank_by_vector(query.query_embedding, matched, depth)
            ranked = reciprocal_rank_fusion([bm25_rows[:depth].tolist(), by_vector])
        return self._grouped(query, searcher, tq, ranked, matched, addr_of)

    def _bm25(
        self, searcher: tantivy.Searcher, tq: tantivy.Query, fq: tantivy.Query
    ) -> tuple[np.ndarray, np.ndarray, dict[int, tantivy.DocAddress]]:
        """Every scoped BM25 match (rows and scores, best first): totals and facets need all of them."""
        q = tantivy.Query.boolean_query([(tantivy.Occur.Must, tq), (tantivy.Occur.Must, fq)])
        n = int(searcher.num_docs)
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), {}
        hits = searcher.search(q, limit=n, count=False).hits
        if not hits:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), {}
        scores_t, addrs_t = zip(*hits, strict=True)
        addrs = list(addrs_t)
        keys = np.asarray(searcher.fast_field_values("key", addrs), dtype=np.int64)
        rows = self._table.rows_for_keys(keys)
        scores = np.asarray(scores_t, dtype=np.float32)
        ok = rows >= 0
        rows, scores = rows[ok], scores[ok]
        kept = [a for a, good in zip(addrs, ok.tolist(), strict=True) if good] if not ok.all() else addrs
        addr_of = dict(zip(rows[:RANK_DEPTH].tolist(), kept[:RANK_DEPTH], strict=True))
        return rows, scores, addr_of

    def _rank_by_vector(self, q: np.ndarray | None, rows: np.ndarray, depth: int) -> list[int]:
        """``rows`` ordered by cosine to the query (rows without a vector are left out)."""
        if q is None or len(rows) == 0:
            return []
        table = self._table
        rows = rows[table.has_vec[rows]]
        scores = table.matrix[rows] @ np.asarray(q, dtype=np.float32).reshape(-1)
        return rows[np.argsort(-scores, kind="stable")][:depth].tolist()

    def _vector(self, q: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k cosine among rows allowed by ``mask`` (scope and facets) that have a vector."""
        table = self._table
        allowed = mask & table.has_vec
        if not allowed.any():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        qv = np.asarray(q, dtype=np.float32).reshape(-1)
        scores = table.matrix @ qv
        scores[~allowed] = -np.inf
        n_allowed = int(allowed.sum())
        k = min(k, n_allowed)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.isfinite(scores[top])]
        order = top[np.argsort(-scores[top], kind="stable")]
        return order.astype(np.int64), scores[order]

    def _browse(self, query: SearchQuery, searcher: tantivy.Searcher, fq: tantivy.Query) -> SearchResult:
        """Empty query text: every scoped passage, parents newest first (by ``meta.date``)."""
        n = int(searcher.num_docs)
        hits = (
            searcher.search(fq, limit=n, count=False, order_by_field="date", order=tantivy.Order.Desc).hits
            if n
            else []
        )
        addrs = [a for _s, a in hits]
        keys = np.asarray(searcher.fast_field_values("key", addrs), dtype=np.int64) if addrs else np.zeros(0)
        rows = self._table.rows_for_keys(keys.astype(np.int64))
        ok = rows >= 0
        depth = max(RANK_DEPTH, 10 * (query.offset + query.limit))
        kept = [a for a, good in zip(addrs, ok.tolist(), strict=True) if good]
        rows = rows[ok]
        addr_of = dict(zip(rows[:depth].tolist(), kept[:depth], strict=True))
        ranked = [(r, 0.0) for r in rows[:depth].tolist()]
        return self._grouped(query, searcher, None, ranked, rows, addr_of)

    def _grouped(
        self,
        query: SearchQuery,
        searcher: tantivy.Searcher,
        tq: tantivy.Query | None,
        ranked: list[tuple[int, float]],
        matched: np.ndarray,
        addr_of: dict[int, tantivy.DocAddress],
    ) -> SearchResult:
        """Group ranked passages per parent (best passage first), paginate parents, count facets."""
        table = self._table
        codes = table.parent_codes
        best: dict[int, tuple[int, float]] = {}
        wanted = query.offset + query.limit
        for row, score in ranked:
            code = int(codes[row])
            if code not in best:
                best[code] = (row, score)
                if len(best) >= wanted:
                    break
        page = list(best.values())[query.offset : query.offset + query.limit]
        matched = np.asarray(matched, dtype=np.int64)
        facets = {name: table.facet_counts(fld, matched) for name, fld in FACET_FIELDS.items()}
        gen = ti.make_snippet_generator(searcher, tq, self._schema)
        hits = []
        for row, score in page:
            addr = addr_of.get(row) or self._address(searcher, table.ids[row])
            if addr is None:
                continue
            doc = searcher.doc(addr)
            p = ti.from_document(doc)
            hits.append(
                Hit(
                    parent_id=p.parent_id,
                    passage_id=p.id,
                    title=p.title,
                    snippet=ti.snippet_html(gen, doc, p.text),
                    score=float(score),
                    meta=p.meta,
                )
            )
        return SearchResult(total=table.distinct_parents(matched), hits=hits, facets=facets)

    def _address(self, searcher: tantivy.Searcher, passage_id: str) -> tantivy.DocAddress | None:
        res = searcher.search(tantivy.Query.term_query(self._schema, "id", passage_id), limit=1, count=False)
        return res.hits[0][1] if res.hits else None
