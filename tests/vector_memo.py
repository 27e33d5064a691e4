"""Passage and query vectors computed once per test session, shared by the xdist workers (test
infrastructure only).

Many test files ingest the same fixture documents and feeds, and five build the demo corpus; embedding a
long passage costs up to a second on the CI machine's cores. The real model still computes every vector
(the first test to embed a text pays for it); the others read it back from one SQLite file under the
session's temporary root. Keys are the SHA-256 of the kind and the text exactly as the model sees it
(after ``search.embeddings.truncate``; ``KnownVectors.key``), so a vector is only ever reused for the same
input. The product never
does this: a content-addressed cache of vectors would outlive an erasure.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from search.embeddings import DIM, Embedder
from search.known_vectors import KnownVectors

Encode = Callable[[Embedder, str, list[str]], np.ndarray]


class VectorMemo:
    """Text digest -> float32 vector, in a SQLite file several processes read and write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self.hits = 0
        self.misses = 0

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, v BLOB NOT NULL)")
            self._local.conn = conn
        return conn

    key = staticmethod(KnownVectors.key)  # the digest of (kind, text as the model sees it)

    def get(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        conn, found = self._conn(), {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            for key, blob in conn.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", part):
                found[key] = np.frombuffer(blob, dtype=np.float32).copy()
        return found

    def put(self, items: list[tuple[bytes, np.ndarray]]) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items]
        self._conn().executemany("INSERT OR IGNORE INTO vec (key, v) VALUES (?, ?)", rows)

    def wrap(self, embed: Encode) -> Encode:
        """``Embedder._encode`` (the model's call, on texts already cut) that embeds only the (kind, text)
        pairs this session has not embedded yet: passages, and queries (a story's features embed each
        watch item as one; four test files poll the demo's feeds)."""
        memo = self

        def encode(self: Embedder, kind: str, texts: list[str]) -> np.ndarray:
            if not texts:
                return embed(self, kind, texts)
            keys = [memo.key(kind, t) for t in texts]
            known = memo.get(list(dict.fromkeys(keys)))
            todo = [i for i, k in enumerate(keys) if k not in known]
            memo.hits += len(texts) - len(todo)
            memo.misses += len(todo)
            if todo:
                fresh = embed(self, kind, [texts[i] for i in todo])
                memo.put([(keys[i], fresh[j]) for j, i in enumerate(todo)])
                known.update((keys[i], fresh[j]) for j, i in enumerate(todo))
            out = np.vstack([known[k] for k in keys]).astype(np.float32, copy=False)
            assert out.shape == (len(texts), DIM)
            return np.ascontiguousarray(out)

        return encode
