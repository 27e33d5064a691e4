"""The approximate half of ``VectorTable.top_k`` for large tables: an HNSW graph (faiss) over the rows.

Used only once a table holds ``VectorTable.ann_min_rows`` vectors (``ANN_MIN_ROWS``, 500k by default);
smaller tables are searched exactly. The graph holds 8-bit scalar-quantised copies of the vectors
(``IndexHNSWSQ``, 384 bytes a vector instead of 1,536 for ``IndexHNSWFlat``: at 1M passages the float32
matrix is already 1.5 GB of the 4 GB budget) and every candidate it returns is re-scored exactly from the
float32 matrix, so the scores handed to fusion are the true cosines.

The access scope and facet filters are applied *inside* the graph walk: the allowed rows are packed into
a bitmap (``faiss.IDSelectorBitmap``), so a walk only collects allowed rows and never has to over-fetch
and discard. When the filter is selective (fewer than ``EXACT_ROWS`` allowed rows, or fewer than
``EXACT_FRACTION`` of the graph's rows) the graph is not used: the allowed rows are scored exactly, which
is then both faster (a walk would visit many rows it may not return) and exact.

Graph ids are positions in ``rows`` (graph id -> table row). When rows are dropped the table renumbers
them and ``remap`` follows; a dropped row, or a row whose vector changed (``forget``), keeps its node in
the graph but maps to -1, so the selector never lets it through. Rows the graph does not cover (appended
after the build, or forgotten) are scored exactly by the table and merged; once they pass a tenth of the
table they are added to the graph as new nodes (``extend``), and once dead nodes pass a tenth the graph is
built again.
"""

from __future__ import annotations

import os
from pathlib import Path

import faiss
import numpy as np

from search.embeddings import DIM

M = 32  # graph neighbours per node (64 on the bottom layer)
EF_CONSTRUCTION = 80
EF_MIN = 512  # efSearch is max(EF_MIN, 2 k), widened for filters that allow a small share of the rows
EF_MAX = 2048
EXACT_ROWS = 20_000  # a filter allowing fewer rows than this is searched exactly ...
EXACT_FRACTION = 0.05  # ... and so is one allowing less than this share of the graph's rows
TRAIN_ROWS = 50_000  # rows sampled to fit the scalar quantiser (per-dimension ranges)

builds = 0  # graphs built by this process (tests check that a reopen loads instead of rebuilding)
extensions = 0  # graphs extended with rows they missed


def _threads(n: int) -> None:
    faiss.omp_set_num_threads(max(1, n))


def _add(index: faiss.Index, matrix: np.ndarray, rows: np.ndarray) -> None:
    for start in range(0, len(rows), 50_000):  # in chunks: no second float32 copy of the matrix
        index.add(np.ascontiguousarray(matrix[rows[start : start + 50_000]], dtype=np.float32))


class AnnIndex:
    """An HNSW graph over some rows of a ``VectorTable``'s matrix."""

    def __init__(self, index: faiss.Index, rows: np.ndarray, file: str | None = None) -> None:
        self.index = index
        self.rows = rows.astype(np.int64)  # graph id -> table row (-1: dropped or changed since the build)
        self.file = file  # name of the persisted graph (``ann-<generation>.faiss``) once written
        self._covered: np.ndarray | None = None
        self._identity = bool(np.array_equal(self.rows, np.arange(len(self.rows))))  # graph id == row

    # ------------------------------------------------------------------ building and persistence
    @classmethod
    def build(cls, matrix: np.ndarray, has_vec: np.ndarray) -> AnnIndex:
        """A graph over every row of ``matrix`` that has a vector (all cores while building)."""
        global builds
        rows = np.nonzero(has_vec)[0]
        index = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_8bit, M, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
        index.hnsw.efConstruction = EF_CONSTRUCTION
        _threads(os.cpu_count() or 1)
        try:
            rng = np.random.default_rng(0)
            sample = rows if len(rows) <= TRAIN_ROWS else np.sort(rng.choice(rows, TRAIN_ROWS, replace=False))
            index.train(np.ascontiguousarray(matrix[sample], dtype=np.float32))
            _add(index, matrix, rows)
        finally:
            _threads(1)
        builds += 1
        return cls(index, rows)

    def extend(self, matrix: np.ndarray, rows: np.ndarray) -> None:
        """Add table rows the graph misses (new or changed vectors) as new nodes: a tenth of the table
        costs about a tenth of a build. The graph must be written again (``file`` is reset)."""
        global extensions
        _threads(os.cpu_count() or 1)
        try:
            _add(self.index, matrix, rows)
        finally:
            _threads(1)
        self.rows = np.concatenate([self.rows, rows.astype(np.int64)])
        self._covered = None
        self._identity = bool(np.array_equal(self.rows, np.arange(len(self.rows))))
        self.file = None
        extensions += 1

    def write(self, directory: Path, name: str) -> None:
        """Write the graph to ``directory / name`` (atomically); the row map is saved by the table."""
        tmp = directory / (name + ".tmp")
        faiss.write_index(self.index, str(tmp))
        os.replace(tmp, directory / name)
        self.file = name

    @classmethod
    def read(cls, directory: Path, name: str, rows: np.ndarray) -> AnnIndex:
        index = faiss.read_index(str(directory / name))
        return cls(index, rows, file=name)

    # ------------------------------------------------------------------ following the table
    @property
    def size(self) -> int:
        """Graph nodes (live or not)."""
        return len(self.rows)

    def live(self) -> int:
        return int((self.rows >= 0).sum())

    def covered(self, n: int) -> np.ndarray:
        """Per table row (``n`` rows): whether the graph holds its current vector."""
        if self._covered is None or len(self._covered) != n:
            cov = np.zeros(n + 1, dtype=bool)
            cov[self.rows] = True  # -1 lands on the spare last slot
            self._covered = cov[:n]
        return self._covered

    def remap(self, new_of_old: np.ndarray) -> None:
        """The table dropped rows: ``new_of_old[r]`` is the new number of old row ``r`` (-1: dropped)."""
        ext = np.append(new_of_old.astype(np.int64), -1)
        self.rows = ext[self.rows]
        self._covered = None
        self._identity = False

    def forget(self, row: int) -> None:
        """Row ``row`` got a new vector: its node is stale, the table scores it exactly from now on."""
        self.rows[self.rows == row] = -1
        self._covered = None
        self._identity = False

    # ------------------------------------------------------------------ searching
    def search(self, q: np.ndarray, allowed: np.ndarray, k: int, n_allowed: int) -> np.ndarray:
        """Table rows among ``allowed`` (a mask over table rows) near ``q``: up to ``ef`` candidates,
        unordered (the table re-scores them exactly). The filter is applied inside the walk."""
        # graph id -> allowed; usually graph id i is table row i, else dropped and changed rows map to -1,
        # the spare False
        in_graph = allowed[: self.size] if self._identity else np.append(allowed, False)[self.rows]
        bitmap = np.packbits(in_graph, bitorder="little")
        share = n_allowed / max(1, self.size)
        ef = max(EF_MIN, 2 * k)
        if share < 0.5:  # the walk meets fewer allowed rows: look further
            ef = int(ef * min(4.0, 0.5 / max(share, 1e-9)))
        ef = min(EF_MAX, ef)
        sel = faiss.IDSelectorBitmap(len(in_graph), faiss.swig_ptr(bitmap))
        params = faiss.SearchParametersHNSW(sel=sel, efSearch=ef)  # type: ignore[attr-defined]
        _threads(1)
        qv = np.ascontiguousarray(np.asarray(q, dtype=np.float32).reshape(1, DIM))
        _, ids = self.index.search(qv, min(ef, max(k, n_allowed)), params=params)
        ids = ids[0]
        ids = ids[ids >= 0]
        rows = self.rows[ids]
        return rows[rows >= 0]
