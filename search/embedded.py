"""``EmbeddedBackend``: Tantivy (BM25, French analyzer, meta filters, snippets) + a float32 vector matrix.

Layout under ``index_dir``: ``tantivy/`` (the text index) and ``vectors/`` (see ``search.vectors``); the
passages themselves (title, text, meta) live sealed in a ``search.passage_store.PassageStore`` (the main
database), so the index holds terms and ids but no original text: titles and snippets of a page of hits
come from one store read, and the index is a derived artefact ``rebuild`` recreates from the store
(``tfe reindex``). ``erase_parents`` deletes and then rebuilds, so no term of an erased passage is left in
any index file (a plain delete only marks documents deleted until Tantivy merges their segments).
Safe for one writer process; readers notice a new commit (``vectors/CURRENT`` changes) and reload both
halves before their next search. The access scope and facet filters are one Haystack filter, applied
inside the Tantivy query and as a row mask before vector ranking; totals, facets and snippets are
computed from those scoped matches only. Which candidates each side contributes and how they are fused is
``search.fusion``'s rule (the same for every backend). ``filter_passages`` shows what each filter engine
selects; the Haystack store answers ``filter_documents`` with it, and the parity tests compare them.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import tantivy

from search import engine_counts, explain, fusion, spelling, understanding
from search import tantivy_index as ti
from search.embeddings import DIM
from search.filters import SORT_FIELD, check, combine, date_filter, facet_filter, visible_filter
from search.passage_store import PassageStore
from search.rebuild import refill
from search.tantivy_filters import filter_query
from search.types import FACET_FIELDS, Hit, Passage, SearchQuery, SearchResult
from search.upgrade import upgrade
from search.vectors import Op, VectorTable
from tfe.core.errors import BackendError, ValidationError

log = logging.getLogger(__name__)

WRITER_WAIT_S = 30.0  # how long a write waits for another process to release the index
FILTER_ENGINES = ("tantivy", "vectors")  # the two engines that evaluate one filter (they must agree)
SURFACE_PASSAGES = 20  # visible passages read to learn how a suggested term is written
REBUILD_BATCH = 1000  # passages read from the store at a time by ``rebuild``
SEARCH_THREADS = 4  # threads running a search's vector side and engine counts beside its BM25 read
THREADED_ROWS = 20_000  # rows from which the vector side runs in that pool (below: inline, a few µs)
_pool_state: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _search_pool() -> ThreadPoolExecutor:
    """The process's pool for the parts of a search that run beside its BM25 read: the vector side and
    the engine's aggregation (numpy, faiss and Tantivy release the GIL); a new one after a fork, whose
    child inherits the pool but none of its threads."""
    global _pool_state
    with _pool_lock:
        if _pool_state is None or _pool_state[0] != os.getpid():
            _pool_state = (os.getpid(), ThreadPoolExecutor(SEARCH_THREADS, thread_name_prefix="tfe-search"))
        return _pool_state[1]


def query_filter(query: SearchQuery) -> dict[str, Any] | None:
    """The one filter of a search, validated: the caller's scope, the facet filters and the date range."""
    flt = combine(
        visible_filter(query.scope), facet_filter(query.filters), date_filter(query.date_from, query.date_to)
    )
    if flt is not None:
        check(flt)
    return flt


class EmbeddedBackend:
    """The zero-configuration search backend (implements ``search.backend.SearchBackend``)."""

    filter_engines = FILTER_ENGINES

    def __init__(self, index_dir: Path, texts: PassageStore | None = None) -> None:
        """``texts``: where the passages live (the database's store in an installation); without one, a
        private in-memory store that lives as long as this object (temporary indexes, tests)."""
        self.index_dir = Path(index_dir)
        self._vec_dir = self.index_dir / "vectors"
        self.texts = texts if texts is not None else PassageStore.in_memory()
        upgrade(self.index_dir, self.texts, persistent=texts is not None)
        self._lock = threading.RLock()
        self._index = ti.open_index(self.index_dir / "tantivy")
        self._schema = self._index.schema
        self._writer: tantivy.IndexWriter | None = None
        self._ops: list[Op] = []
        self._table = VectorTable.load(self._vec_dir)
        self._next_key = self._table.next_key
        self._seen_current = self._current_stamp()
        self._analyzer = ti.french_analyzer()
        # explanations (search.explain): the text fields' two chains, stemmed and exact
        self._explainers = (self._analyzer.analyze, ti.french_analyzer(stem=False).analyze)

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
                self._ops.append(Op("upsert", passage=p, key=key))
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
            self._ops.append(Op("delete_parent", target=parent_id))
            return n

    def delete(self, ids: list[str]) -> None:
        """Remove passages by id (unknown ids are ignored)."""
        with self._lock:
            writer = self._w()
            for pid in ids:
                writer.delete_documents_by_term("id", pid)
                self._ops.append(Op("delete_id", target=pid))

    def set_embeddings(self, ids: list[str], vectors: object) -> None:
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        with self._lock:
            self._w()  # the vector table is shared state: take the writer lock as for any write
            for pid, vec in zip(ids, matrix, strict=True):
                self._ops.append(Op("embed", target=pid, vector=vec.copy()))

    def _store_ops(self) -> None:
        """Apply the journal's net effect to the passage store (one transaction), before the index commits:
        every committed index entry then has its text."""
        puts: dict[str, Passage] = {}
        dead_ids: set[str] = set()
        dead_parents: set[str] = set()
        for op in self._ops:
            if op.kind == "upsert" and op.passage is not None:
                puts.pop(op.passage.id, None)
                puts[op.passage.id] = op.passage
            elif op.kind == "delete_parent":
                dead_parents.add(op.target)
                for pid in [k for k, p in puts.items() if p.parent_id == op.target]:
                    del puts[pid]
            elif op.kind == "delete_id":
                puts.pop(op.target, None)
                dead_ids.add(op.target)
        self.texts.write(list(puts.values()), delete_ids=dead_ids, delete_parents=dead_parents)

    def commit(self) -> None:
        with self._lock:
            if self._ops:
                self._store_ops()
            if self._writer is not None:
                self._writer.commit()
                self._writer.wait_merging_threads()
            self._index.reload()
            if self._ops:
                self._table.apply(self._ops)
                self._ops = []
                self._table.next_key = max(self._table.next_key, self._next_key)
                self._table.save(self._vec_dir)
            self._seen_current = self._current_stamp()
            self._writer = None  # release the index lock only once the vectors are saved too

    # ------------------------------------------------------------------ rebuild and erasure
    def rebuild(
        self, *, keep_vectors: bool = True, progress: Callable[[int], None] | None = None
    ) -> dict[str, Any]:
        """Recreate the Tantivy index and the vector table from the passage store, in one commit.

        ``keep_vectors``: passages the table already has keep their vector (else every passage is left to
        be embedded). Older vector generations and index files are removed afterwards, so nothing that
        left the store survives in ``index_dir``. Returns ``{"passages", "vectors_kept", "new_keys",
        "seconds"}``. Uncommitted writes are refused (``BackendError``).
        """
        t0 = time.perf_counter()
        with self._lock:
            if self._ops:
                raise BackendError("the search index has uncommitted writes: commit them before a rebuild")
            writer = self._w()
            try:
                done = refill(
                    writer,
                    self.texts,
                    self._table,
                    keep_vectors=keep_vectors,
                    batch=REBUILD_BATCH,
                    progress=progress,
                )
                writer.commit()
            except BaseException:
                writer.rollback()
                self._writer = None
                raise
            table = done.table
            table.save(self._vec_dir)
            table.save(self._vec_dir)  # a second generation: the save prunes every one older than the last
            self._table, self._next_key = table, table.next_key
            self._seen_current = self._current_stamp()
            writer.garbage_collect_files()
            writer.wait_merging_threads()
            self._writer = None
            self._collect_garbage()
            self._index.reload()
        log.info("search index rebuilt from the passage store: %d passages", done.passages)
        return {
            "passages": done.passages,
            "vectors_kept": done.vectors_kept,
            "new_keys": done.new_keys,
            "seconds": round(time.perf_counter() - t0, 3),
        }

    def _collect_garbage(self) -> None:
        """Remove index files no commit uses any more (segments merged away after the last commit)."""
        writer = self._w()
        try:
            writer.garbage_collect_files()
        finally:
            writer.rollback()
            self._writer = None

    def erase_parents(self, parent_ids: list[str]) -> dict[str, Any]:
        """Erase every passage of these parents from the store, the vectors and the index, and leave no
        term of theirs in any index file (GDPR erasure): delete and commit, then ``rebuild`` with the
        remaining passages (their vectors kept). Returns ``{"parents", "passages", "passages_left",
        "seconds"}`` (``passages``: how many passages of these parents were stored or indexed)."""
        t0 = time.perf_counter()
        parents = list(dict.fromkeys(str(p) for p in parent_ids))
        with self._lock:
            if self._ops:
                self.commit()
            self._w()
            erased = set(self.texts.ids_of_parents(parents))
            for parent in parents:
                erased.update(self._table.ids[r] for r in self._table.rows_of_parent(parent))
                self.delete_parent(parent)
            self.commit()
            stats = self.rebuild(keep_vectors=True)
        log.info("erased %d passages of %d parents from the search index", len(erased), len(parents))
        return {
            "parents": len(parents),
            "passages": len(erased),
            "passages_left": stats["passages"],
            "seconds": round(time.perf_counter() - t0, 3),
        }

    # ------------------------------------------------------------------ reads
    def parent_vector(self, parent_id: str) -> np.ndarray | None:
        with self._lock:
            self._maybe_reload()
            table = self._table
            rows = [r for r in table.rows_of_parent(parent_id) if table.has_vec[r]]
            if not rows:
                return None
            mean = table.matrix[rows].mean(axis=0)
            norm = float(np.linalg.norm(mean))
            return (mean / norm).astype(np.float32) if norm > 0 else None

    def count(self) -> int:
        with self._lock:
            self._maybe_reload()
            return int(self._index.searcher().num_docs)

    def missing_embeddings(self, limit: int = 1000) -> list[Passage]:
        with self._lock:
            self._maybe_reload()
            rows = np.nonzero(~self._table.has_vec)[0][:limit]
            return self.get([self._table.ids[r] for r in rows])

    def count_missing_embeddings(self) -> int:
        with self._lock:
            self._maybe_reload()
            return int((~self._table.has_vec).sum())

    def get(self, ids: list[str]) -> list[Passage]:
        """Indexed passages by id (text from the store, vector from the table), in the order given;
        unknown ids are skipped."""
        if not ids:
            return []
        with self._lock:
            self._maybe_reload()
            table = self._table
            indexed = [i for i in ids if table.row_of(i) is not None]
            found = self.texts.get(indexed)
            out = [found[i] for i in indexed if i in found]
            for p in out:
                row = table.row_of(p.id)
                if row is not None and table.has_vec[row]:
                    p.embedding = table.matrix[row].copy()
            return out

    def filter_passages(self, filters: dict[str, Any] | None, engine: str = "tantivy") -> list[Passage]:
        """Committed passages matching a Haystack filter, in write order, as one engine selects them.

        ``tantivy`` runs the filter as the Tantivy query, ``vectors`` as the vector table's row mask (the
        passages are then read from Tantivy by id); searches use both, so both must select the same.
        """
        with self._lock:
            self._maybe_reload()
            keys = self._filter_keys(filters, engine)
            return self._by_keys(keys)

    def filter_ids(self, filters: dict[str, Any] | None, engine: str = "tantivy") -> list[str]:
        """Ids of ``filter_passages`` (for parity checks between the engines)."""
        return [p.id for p in self.filter_passages(filters, engine)]

    def _filter_keys(self, filters: dict[str, Any] | None, engine: str) -> list[int]:
        if engine not in FILTER_ENGINES:
            raise ValidationError(f"unknown filter engine {engine!r}")
        filters = filters or None  # Haystack: an empty filter is no filter
        if filters is not None:
            check(filters)
        if engine == "vectors":
            return self._table.keys[self._table.mask(filters)].tolist()  # type: ignore[no-any-return]
        searcher = self._index.searcher()
        n = int(searcher.num_docs)
        if n == 0:
            return []
        hits = searcher.search(filter_query(self._index, filters), limit=n, count=False).hits
        keys = searcher.fast_field_values("key", [a for _s, a in hits]) if hits else []
        return sorted(int(k) for k in keys if k is not None)

    def _by_keys(self, keys: list[int]) -> list[Passage]:
        """The passages of these keys (ascending), read from the store in one query per chunk."""
        if not keys:
            return []
        rows = self._table.rows_for_keys(np.asarray(sorted(keys), dtype=np.int64))
        ids = [self._table.ids[r] for r in rows.tolist() if r >= 0]
        found = self.texts.get(ids)
        return [found[i] for i in ids if i in found]

    def search(self, query: SearchQuery) -> SearchResult:
        if query.mode not in ("bm25", "vector", "hybrid"):
            raise ValidationError(f"unknown search mode {query.mode!r}")
        if query.limit < 0 or query.offset < 0:
            raise ValidationError("limit and offset must be non-negative")
        flt = query_filter(query)
        with self._lock:
            self._maybe_reload()
            return self._search(query, flt)

    def _search(self, query: SearchQuery, flt: dict[str, Any] | None) -> SearchResult:
        table = self._table
        searcher = self._index.searcher()
        text = (query.text or "").strip()
        keyword = ti.is_keyword_query(text)
        expansions = query.expansions
        tq = understanding.text_query(self._index, text, expansions, conjunction=keyword) if text else None
        fq = _excluding(self._schema, filter_query(self._index, flt), query.exclude_parents)
        if tq is None and query.mode == "vector" and query.query_embedding is not None:
            return self._similar(query, searcher, flt, query.query_embedding)
        if tq is None:
            return self._browse(query, searcher, fq)
        want_vec = query.mode in ("vector", "hybrid")
        if want_vec and query.query_embedding is None:
            raise ValidationError(f"mode {query.mode!r} needs a query embedding")
        bm25_rows = np.zeros(0, dtype=np.int64)
        bm25_scores = np.zeros(0, dtype=np.float32)
        # relevance ranks the first rank_depth BM25 matches (counts come from the engine beyond those);
        # sorting by date orders every match, so it reads them all
        depth = fusion.rank_depth(query.offset, query.limit) if query.sort == "relevance" else None
        cut: tantivy.Query | None = None  # the scoped BM25 query when it has more matches than were read
        aggregated: engine_counts.Counted | None = None  # the engine's totals and facets of ``cut``
        vec_rows = np.zeros(0, dtype=np.int64)
        vec_scores = np.zeros(0, dtype=np.float32)
        qvec = query.query_embedding
        lexical = None  # hybrid: whether BM25 found anything
        vector: Future[tuple[np.ndarray, np.ndarray]] | None = None
        if want_vec and qvec is not None:  # the vector side runs in a thread while Tantivy answers here
            k = fusion.vector_k(query.offset, query.limit)
            mask = self._mask(flt, query.exclude_parents)
            if len(table) < THREADED_ROWS:  # a small table: handing it to a thread costs more than it saves
                vec_rows, vec_scores = table.top_k(qvec, mask, k)
            else:
                vector = _search_pool().submit(table.top_k, qvec, mask, k)
        try:
            if query.mode in ("bm25", "hybrid"):
                bm25_rows, bm25_scores, cut, aggregated = self._bm25(searcher, tq, fq, depth)
                if keyword and len(bm25_rows) == 0:  # no passage has every term: any term will do
                    tq = understanding.text_query(self._index, text, expansions, conjunction=False)
                    bm25_rows, bm25_scores, cut, aggregated = self._bm25(searcher, tq, fq, depth)
        finally:
            if vector is not None:  # never leave the lock while the thread still reads the table
                vec_rows, vec_scores = vector.result()
        if query.mode == "vector":  # which floor applies, asked only when it changes the candidates
            asked = fusion.floor_depends_on_words(vec_scores)
            lexical = self._any_word(searcher, text, fq) if asked else True
        fused = fusion.fuse(
            query.mode,
            (bm25_rows, bm25_scores),
            (vec_rows, vec_scores),
            lambda rows, depth: table.rank(qvec, rows, depth),
            fusion.rank_depth(query.offset, query.limit),
            lexical=lexical,
        )
        # concepts the query names rank higher (search.understanding), never filter
        ranked: Iterable[tuple[int, float]] = understanding.boosted(fused.ranked, query.boosts, table.mask)
        if query.sort != "relevance":
            ranked = self._by_date(fused.ranked, fused.matched, newest_first=query.sort == "date")
        floored = fusion.above_floor(vec_rows, vec_scores, len(bm25_rows) > 0 if lexical is None else lexical)
        lists = explain.Lists(lexical=bm25_rows, vector=floored[0])
        counted = None
        if cut is not None and aggregated is not None:
            counted = self._counted(searcher, cut, aggregated, fused.matched, bm25_rows)
        return self._grouped(query, searcher, tq, ranked, fused.matched, lists, counted)

    def _similar(
        self, query: SearchQuery, searcher: tantivy.Searcher, flt: dict[str, Any] | None, qvec: np.ndarray
    ) -> SearchResult:
        """Empty text, ``mode="vector"``, a query vector (more like this): the scoped passages nearest it
        above ``fusion.SIMILAR_FLOOR``, ``query.exclude_parents`` left out, grouped per parent."""
        k = fusion.vector_k(query.offset, query.limit)
        top = self._table.top_k(qvec, self._mask(flt, query.exclude_parents), k)
        rows, scores = fusion.similar(top)
        ranked: Iterable[tuple[int, float]] = list(zip(rows.tolist(), scores.tolist(), strict=True))
        if query.sort != "relevance":
            ranked = self._by_date(list(ranked), rows, newest_first=query.sort == "date")
        lists = explain.Lists(lexical=np.zeros(0, dtype=np.int64), vector=rows)
        return self._grouped(query, searcher, None, ranked, rows, lists)

    def _mask(self, flt: dict[str, Any] | None, exclude: tuple[str, ...]) -> np.ndarray:
        """The vector rows a query may rank: the filter's mask less the excluded parents' rows."""
        mask = self._table.mask(flt)
        if exclude:
            mask = mask.copy()
            for parent in exclude:
                mask[self._table.rows_of_parent(parent)] = False
        return mask

    def _by_date(
        self, ranked: list[tuple[int, float]], matched: np.ndarray, *, newest_first: bool
    ) -> Iterator[tuple[int, float]]:
        """Every matched row ordered by its ``meta.date`` instant (undated rows last), equal dates in
        relevance order; the fused score is kept where the row was ranked (else 0). One numpy sort over
        the matches (the same rows totals and facets count), consumed lazily by the grouping."""
        rows = np.asarray(matched, dtype=np.int64)
        if len(rows) == 0:
            return iter(())
        scores = dict(ranked)
        first = np.fromiter((r for r, _s in ranked), dtype=np.int64, count=len(ranked))
        rest = np.setdiff1d(rows, first, assume_unique=False)
        rows = np.concatenate([first[np.isin(first, rows)], rest])
        when = self._table.instants(SORT_FIELD, rows)
        key = np.where(np.isnan(when), np.inf, -when if newest_first else when)
        ordered = rows[np.argsort(key, kind="stable")]
        return ((int(r), scores.get(int(r), 0.0)) for r in ordered)

    def _any_word(self, searcher: tantivy.Searcher, text: str, fq: tantivy.Query) -> bool:
        """Whether any word of ``text`` occurs in a passage ``fq`` selects (``search.fusion``'s floors).

        Text of plain words (letters, digits, spaces: what the parser turns into one term query per word
        and field) is looked up one term at a time, rarest first (``doc_freq``, a dictionary read), each
        intersected with the filter without scoring: the parsed query's answer, without scoring every
        match of a common word (76 ms at a million passages). Other text (operators, signs inside a word,
        which the parser makes a phrase) goes through the parser."""
        if not ti.plain_words_only(text):
            tq = ti.text_query(self._index, text, conjunction=False)
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, tq), (tantivy.Occur.Must, fq)])
            return bool(searcher.search(q, limit=1, count=False).hits)
        stemmed, exact = (set(analyze(text)) for analyze in self._explainers)  # the fields' two chains
        fields = [(field, term) for field in ti.TEXT_FIELDS for term in stemmed]
        present = sorted(
            (df, field, term)
            for field, term in [*fields, *((ti.EXACT_FIELD, term) for term in exact)]
            if (df := int(searcher.doc_freq(field, term))) > 0
        )
        for _df, field, term in present:
            has = tantivy.Query.term_query(self._schema, field, term)
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, has), (tantivy.Occur.Must, fq)])
            if searcher.search(tantivy.Query.const_score_query(q, 0.0), limit=1, count=False).hits:
                return True
        return False

    def _bm25(
        self, searcher: tantivy.Searcher, tq: tantivy.Query, fq: tantivy.Query, depth: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, tantivy.Query | None, engine_counts.Counted | None]:
        """The scoped BM25 matches (rows and scores, best first): the first ``depth`` (``None``: all), or
        all of them when there are at most ``engine_counts.EXACT_MATCHES`` (totals and facets are then
        exact); the third value is the scoped query when more matches exist than were read (totals and
        facets are then the engine's, ``_counted``), else ``None``, and the fourth the engine's
        aggregation over it (``engine_counts.aggregate``), run in a thread beside the read (its cost
        follows the number of matches, so it is cheap when it is not needed)."""
        # the filter selects without scoring: its term clauses would otherwise add their BM25 to the text's
        scoreless = tantivy.Query.const_score_query(fq, 0.0)
        q = tantivy.Query.boolean_query([(tantivy.Occur.Must, tq), (tantivy.Occur.Must, scoreless)])
        n = int(searcher.num_docs)
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), None, None
        if n == 0:
            return empty
        cut = None
        aggregation: Future[engine_counts.Counted] | None = None
        if depth is not None and n > max(depth, engine_counts.EXACT_MATCHES):  # the engine may have to count
            aggregation = _search_pool().submit(engine_counts.aggregate, searcher, q, FACET_FIELDS)
        try:
            # counting the matches in the same pass costs no more than reading the top ones (Tantivy)
            found = searcher.search(q, limit=n if depth is None else min(n, depth), count=depth is not None)
        finally:
            counted_by_engine = aggregation.result() if aggregation is not None else None
        hits = found.hits
        if depth is not None and len(hits) >= depth:  # perhaps more: the engine counted them
            counted = getattr(found, "count", None)  # tantivy-py has it; its type stub does not
            total = int(counted) if counted is not None else engine_counts.matches(searcher, q)
            if total <= engine_counts.EXACT_MATCHES:
                hits = searcher.search(q, limit=n, count=False).hits if total > len(hits) else hits
            else:
                cut = q
        if not hits:
            return empty
        scores_t, addrs_t = zip(*hits, strict=True)
        addrs = list(addrs_t)
        keys = np.asarray(searcher.fast_field_values("key", addrs), dtype=np.int64)
        rows = self._table.rows_for_keys(keys)
        scores = np.asarray(scores_t, dtype=np.float32)
        ok = rows >= 0
        if cut is not None and counted_by_engine is None:  # a page as deep as the index: none was started
            counted_by_engine = engine_counts.aggregate(searcher, cut, FACET_FIELDS)
        return rows[ok], scores[ok], cut, counted_by_engine if cut is not None else None

    def _counted(
        self,
        searcher: tantivy.Searcher,
        scoped: tantivy.Query,
        counted: engine_counts.Counted,
        matched: np.ndarray,
        read: np.ndarray,
    ) -> engine_counts.Counted:
        """Totals and facets of a result set larger than what was read: ``counted``, the engine's
        aggregation over the scoped BM25 query, plus the vector-only rows of ``matched`` (not in ``read``)."""
        table = self._table
        extras: dict[str, list[int]] = {}
        for row in np.setdiff1d(matched, read).tolist():
            extras.setdefault(table.parents[row], []).append(row)
        if not extras:
            return counted

        def matched_rows_of(parent: str) -> np.ndarray:
            own = tantivy.Query.term_query(self._schema, "parent_id", parent)
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, scoped), (tantivy.Occur.Must, own)])
            addrs = [a for _s, a in searcher.search(q, limit=10_000, count=False).hits]
            keys = np.asarray(searcher.fast_field_values("key", addrs), dtype=np.int64) if addrs else None
            rows = table.rows_for_keys(keys) if keys is not None else np.zeros(0, dtype=np.int64)
            return rows[rows >= 0]

        return engine_counts.add_extras(counted, extras, matched_rows_of, table.facet_values, FACET_FIELDS)

    def _browse(self, query: SearchQuery, searcher: tantivy.Searcher, fq: tantivy.Query) -> SearchResult:
        """Empty query text: every scoped passage, parents newest first (by ``meta.date``, Tantivy's order
        on the ``date`` fast field), oldest first with ``sort="date_asc"``."""
        n = int(searcher.num_docs)
        order = tantivy.Order.Asc if query.sort == "date_asc" else tantivy.Order.Desc
        depth = fusion.rank_depth(query.offset, query.limit)
        # the first rank_depth in date order are grouped; beyond them, the engine counts (``_bm25``)
        limit = min(n, depth)
        counted = None
        if n > depth and engine_counts.matches(searcher, fq) > engine_counts.EXACT_MATCHES:
            counted = engine_counts.aggregate(searcher, fq, FACET_FIELDS)
        elif n > depth:
            limit = n
        hits = (
            searcher.search(fq, limit=limit, count=False, order_by_field=SORT_FIELD, order=order).hits
            if n
            else []
        )
        addrs = [a for _s, a in hits]
        keys = np.asarray(searcher.fast_field_values("key", addrs), dtype=np.int64) if addrs else np.zeros(0)
        rows = self._table.rows_for_keys(keys.astype(np.int64))
        rows = rows[rows >= 0]
        ranked = [(r, 0.0) for r in rows[:depth].tolist()]
        return self._grouped(query, searcher, None, ranked, rows, counted=counted)

    def _grouped(
        self,
        query: SearchQuery,
        searcher: tantivy.Searcher,
        tq: tantivy.Query | None,
        ranked: Iterable[tuple[int, float]],
        matched: np.ndarray,
        lists: explain.Lists | None = None,
        counted: engine_counts.Counted | None = None,
    ) -> SearchResult:
        """Group ranked passages per parent (best passage first), paginate parents, count facets; the
        page's titles, texts (for snippets) and meta are one read of the passage store; ``lists``: the
        ranked lists the page's explanations cite (``search.explain``); ``counted``: totals and facets
        computed by the engine (``_counted``) when ``matched`` holds only the rows that were read."""
        table = self._table
        matched = np.asarray(matched, dtype=np.int64)
        if query.totals_only:  # a count: no page, no facets
            total = table.distinct_parents(matched) if counted is None else counted.total
            return SearchResult(total=total, hits=[], facets={})
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
        if counted is None:
            facets = {name: table.facet_counts(fld, matched) for name, fld in FACET_FIELDS.items()}
            total = table.distinct_parents(matched)
        else:
            facets, total = counted.facets, counted.total
        gen = ti.make_snippet_generator(searcher, tq, self._schema)
        stored = self.texts.get([table.ids[row] for row, _score in page])
        found = [(row, stored[table.ids[row]]) for row, _score in page if table.ids[row] in stored]
        why = (
            explain.page(query, found, lists, self._cosines(query), self._explainers) if query.explain else {}
        )
        hits = []
        for row, score in page:
            p = stored.get(table.ids[row])
            if p is None:  # indexed but not in the store (an interrupted write): `tfe reindex` repairs it
                log.warning("passage %s is indexed without a stored text; run `tfe reindex`", table.ids[row])
                continue
            hits.append(
                Hit(
                    parent_id=p.parent_id,
                    passage_id=p.id,
                    title=p.title,
                    snippet=ti.snippet_html(gen, p.text),
                    score=float(score),
                    meta=p.meta,
                    explanation=why.get(row),
                )
            )
        return SearchResult(total=total, hits=hits, facets=facets)

    def _cosines(self, query: SearchQuery) -> Callable[[list[int]], list[float | None]]:
        """Each row's cosine to the query vector (``None`` for a row without a vector)."""
        table, qvec = self._table, query.query_embedding

        def cosines(rows: list[int]) -> list[float | None]:
            if qvec is None or not rows:
                return [None] * len(rows)
            scores = table.matrix[rows] @ np.asarray(qvec, dtype=np.float32).reshape(-1)
            return [
                float(s) if table.has_vec[r] else None for r, s in zip(rows, scores.tolist(), strict=True)
            ]

        return cosines

    # ------------------------------------------------------------------ suggestions
    def spelling(self, query: SearchQuery) -> str | None:
        """``query.text`` with every word unknown to the passages the query may see replaced by the closest
        term they contain (``search.spelling``); ``None`` when every word is known or nothing is close.

        The vocabulary is that of the passages ``query.scope`` and ``query.filters`` select (the same
        filter as the search, inside the term walk), so a word from an invisible document never shows.
        """
        text = (query.text or "").strip()
        if not text:
            return None
        flt = query_filter(query)
        with self._lock:
            self._maybe_reload()
            searcher = self._index.searcher()
            if int(searcher.num_docs) == 0:
                return None
            fq = filter_query(self._index, flt)
            changed = False

            def fix(match: re.Match[str]) -> str:
                nonlocal changed
                word = match.group(0)
                if not spelling.correctable(word):
                    return word
                terms = self._analyzer.analyze(word)
                if not terms or any(self._visible(searcher, term, fq) for term in terms):
                    return word  # a stop word, or a word the visible passages contain
                better = self._closest(searcher, terms[0], fq)
                if better is None:
                    return word
                changed = True
                return better

            corrected = spelling.WORD.sub(fix, text)
            return corrected if changed else None

    def _visible(self, searcher: tantivy.Searcher, term: str, fq: tantivy.Query) -> bool:
        return any(
            found == term and count > 0
            for field in ti.TEXT_FIELDS
            for found, count in searcher.terms_with_prefix(field, term, filter_query=fq)
        )

    def _closest(self, searcher: tantivy.Searcher, term: str, fq: tantivy.Query) -> str | None:
        """The visible term nearest ``term`` (sharing its first letter), as the visible passages write it."""
        counts: dict[str, int] = {}
        for field in ti.TEXT_FIELDS:
            for found, count in searcher.terms_with_prefix(field, term[0], filter_query=fq):
                counts[found] = max(counts.get(found, 0), int(count))
        best = spelling.best_term(term, counts.items())
        if best is None:
            return None
        has_term = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, f, best)) for f in ti.TEXT_FIELDS]
        )
        q = tantivy.Query.boolean_query([(tantivy.Occur.Must, has_term), (tantivy.Occur.Must, fq)])
        addrs = [a for _score, a in searcher.search(q, limit=SURFACE_PASSAGES, count=False).hits]
        keys = np.asarray(searcher.fast_field_values("key", addrs), dtype=np.int64) if addrs else np.zeros(0)
        rows = self._table.rows_for_keys(keys.astype(np.int64))
        stored = self.texts.get([self._table.ids[r] for r in rows.tolist() if r >= 0])
        texts = [t for p in stored.values() for t in (p.title, p.text)]
        return spelling.surface_form(best, texts, self._analyzer.analyze)


def _excluding(schema: tantivy.Schema, fq: tantivy.Query, parents: tuple[str, ...]) -> tantivy.Query:
    """The filter query less the passages of ``parents`` (``SearchQuery.exclude_parents``)."""
    if not parents:
        return fq
    clauses = [(tantivy.Occur.Must, fq)]
    clauses += [(tantivy.Occur.MustNot, tantivy.Query.term_query(schema, "parent_id", p)) for p in parents]
    return tantivy.Query.boolean_query(clauses)
