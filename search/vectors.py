"""The vector half of the embedded backend: a float32 matrix plus the meta columns needed to filter it.

Each row is one passage, linked to its Tantivy document by ``key`` (a per-write, ever-increasing integer
stored as a fast field in Tantivy, so ``keys`` stays sorted and ``searchsorted`` maps key -> row).
Meta values are held per path as CSR columns (``search.columns``: integer codes into each path's distinct
values, no Python object per row), so a Haystack filter becomes a boolean row mask *before* ranking, and
facet counts of distinct parents are a few numpy operations.

Persistence is generational: ``vectors/gen-N.npy`` (the matrix), ``vectors/gen-N.cols.npz`` (keys, vector
flags and each column's row pointers and codes) and ``vectors/gen-N.json`` (ids, parents, each column's
distinct values) are written, then the one-line ``vectors/CURRENT`` file is swapped atomically, so a
reader never sees a matrix from one commit and metadata from another. Generations written before the
columns were stored (``fields``: every row's values as JSON lists) are still read.

From ``coarse_min_rows`` rows (``COARSE_MIN_ROWS``) exact search scans a float16 copy of the matrix for
candidates and scores them exactly (``search.coarse``: the same results, half the bytes read).

Above ``ann_min_rows`` vectors (``ANN_MIN_ROWS``) ``top_k`` walks an HNSW graph (``search.ann``) with the
filter mask applied inside the walk; the graph is built when a generation is saved (or on the first
search of a table that has none), written once as ``vectors/ann-<generation>.faiss`` and referenced by
each later generation with its row map (``gen-N.ann.npy``): rows it does not cover are added to it once
they pass ``ANN_REBUILD_SHARE`` of the table, and it is built again once rows dropped or changed since the
build do.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search import ann as ann_mod
from search.ann import AnnIndex
from search.coarse import CoarseIndex
from search.columns import Column, Columns
from search.embeddings import DIM
from search.filters import Scalar, filter_values
from search.types import Passage

MASK_CACHE = 32  # filter masks kept per table generation (one byte per row each)
ANN_MIN_ROWS = 500_000  # vectors from which top_k uses the HNSW graph (exact below: faster at 100k, no build)
COARSE_MIN_ROWS = 20_000  # rows from which exact search scans a float16 copy first (search.coarse)
ANN_REBUILD_SHARE = 0.10  # rows the graph misses are added past this share; dead nodes past it: a rebuild
FORMAT_VERSION = 2  # 2: every meta path, typed (search.filters.filter_values); 1: keyword fields as strings

# (key, passage id, parent id, meta values by path, vector or None)
Row = tuple[int, str, str, dict[str, list[Scalar]], np.ndarray | None]


@dataclass
class Op:
    """One write of the embedded backend, journaled until its commit applies it to the table."""

    kind: str  # "upsert" | "delete_parent" | "delete_id" | "embed"
    passage: Passage | None = None
    key: int = 0
    target: str = ""
    vector: np.ndarray | None = None


class VectorTable:
    """Rows of (key, passage id, parent id, meta values, optional vector)."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.ids: list[str] = []
        self.parents: list[str] = []
        self.columns: dict[str, Column] = {}  # meta path -> its values of every row (search.columns)
        self.format = FORMAT_VERSION  # of the generation loaded (1: keyword strings only, see search.upgrade)
        self.has_vec = np.zeros(0, dtype=bool)
        self.matrix = np.zeros((0, DIM), dtype=np.float32)
        self.next_key = 1
        self.generation = 0
        self._derived: dict[str, Any] | None = None
        self._lookup: dict[str, Any] | None = None
        self._buf: np.ndarray | None = None  # spare capacity behind ``matrix`` (a view of its first rows)
        self.ann: AnnIndex | None = None  # the HNSW graph (search.ann), above ann_min_rows vectors
        self.ann_min_rows = ANN_MIN_ROWS
        self._ann_file: str | None = None  # graph file the generation this table came from refers to
        self.coarse_min_rows = COARSE_MIN_ROWS
        self.coarse_in_background = True  # build the float16 copy in a thread (searches meanwhile: exact)
        self._coarse: CoarseIndex | None = None  # float16 copy of the matrix (search.coarse), built lazily
        self._coarse_lock = threading.Lock()
        self._coarse_version = 0  # bumped by every change of the matrix: a copy of an older one is dropped
        self._coarse_unusable = -1  # version whose matrix does not fit float16
        self._coarse_builder = 0  # pid of the process whose thread is building the copy (0: none)

    # ------------------------------------------------------------------ size and lookups
    def __len__(self) -> int:
        return len(self.ids)

    def rows_for_keys(self, keys: np.ndarray) -> np.ndarray:
        """Rows of the given Tantivy keys; -1 where a key is unknown (written after the last load)."""
        if len(self.keys) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.searchsorted(self.keys, keys)
        pos = np.minimum(pos, len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, pos, -1)

    def _lookups(self) -> dict[str, Any]:
        """Passage id → row and parent → rows: all that writes need (cheap to rebuild after each commit)."""
        if self._lookup is None:
            by_parent: dict[str, list[int]] = {}
            for i, p in enumerate(self.parents):
                by_parent.setdefault(p, []).append(i)
            self._lookup = {"id_row": {pid: i for i, pid in enumerate(self.ids)}, "by_parent": by_parent}
        return self._lookup

    def _ensure_derived(self) -> dict[str, Any]:
        """Parent codes and meta columns for searching (rebuilt on the first search after a change)."""
        if self._derived is None:
            parent_vocab: dict[str, int] = {}
            parent_codes = np.fromiter(
                (parent_vocab.setdefault(p, len(parent_vocab)) for p in self.parents),
                dtype=np.int64,
                count=len(self.parents),
            )
            self._derived = {
                "parent_codes": parent_codes,
                "parent_names": list(parent_vocab),
                "columns": Columns(None, len(self), self.columns),
            }
        return self._derived

    def values_of(self, path: str, row: int) -> list[Scalar]:
        """The values meta path ``path`` has in ``row`` (``[]`` when none)."""
        col = self.columns.get(path)
        return [] if col is None else col.row_values(row)

    def set_fields(self, fields: dict[str, list[list[Scalar]]]) -> None:
        """Replace every column by ``fields`` (meta path -> the values of each row, in row order)."""
        n = len(self)
        self.columns = {name: Column.build(vals, n) for name, vals in fields.items() if any(vals)}
        self.invalidate()

    def row_of(self, passage_id: str) -> int | None:
        return self._lookups()["id_row"].get(passage_id)  # type: ignore[no-any-return]

    def rows_of_parent(self, parent_id: str) -> list[int]:
        return list(self._lookups()["by_parent"].get(parent_id, []))

    @property
    def parent_codes(self) -> np.ndarray:
        return self._ensure_derived()["parent_codes"]  # type: ignore[no-any-return]

    def parent_name(self, code: int) -> str:
        return self._ensure_derived()["parent_names"][code]  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ filtering and ranking
    def mask(self, node: dict[str, Any] | None) -> np.ndarray:
        """Boolean row mask for a validated Haystack filter (``None`` = every row); see ``search.columns``.

        The last ``MASK_CACHE`` masks are kept (read-only) until the table changes: a user's scope filter
        is the same from one search to the next."""
        derived = self._ensure_derived()
        cache: OrderedDict[str, np.ndarray] = derived.setdefault("masks", OrderedDict())
        key = json.dumps(node, sort_keys=True, default=str)
        mask = cache.get(key)
        if mask is not None:
            cache.move_to_end(key)
            return mask
        mask = derived["columns"].mask(node)
        mask.flags.writeable = False
        cache[key] = mask
        while len(cache) > MASK_CACHE:
            cache.popitem(last=False)
        return mask  # type: ignore[no-any-return]

    def top_k(self, q: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` rows allowed by ``mask`` (scope and facets) closest to ``q`` by cosine, with scores.

        Rows without a vector are left out; the mask is applied before ranking, never after. Above
        ``ann_min_rows`` vectors the HNSW graph is walked with the mask as its selector (approximate), and
        rows the graph does not cover are scored exactly and merged; a selective mask (``search.ann``:
        ``EXACT_ROWS``, ``EXACT_FRACTION``) scores just its allowed rows exactly. Scores are always the
        exact cosines.
        """
        allowed = mask & self.has_vec
        n_allowed = int(allowed.sum())
        if n_allowed == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        qv = np.asarray(q, dtype=np.float32).reshape(-1)
        graph = self._ann_for_search()
        if graph is not None:
            if n_allowed >= max(ann_mod.EXACT_ROWS, ann_mod.EXACT_FRACTION * graph.size):
                near = graph.search(qv, allowed, k, n_allowed)
                tail = np.nonzero(allowed & ~graph.covered(len(self)))[0]
                return self._best(np.sort(np.concatenate([near, tail])), qv, k)
            return self._best(np.nonzero(allowed)[0], qv, k)
        coarse = self._coarse_for_search()
        if coarse is not None:  # a float16 scan picks the candidates, scored exactly (no approximation)
            rows = coarse.candidates(qv, allowed, k, n_allowed)
            if rows is not None:
                return self._best(rows, qv, k)
        scores = self.matrix @ qv
        scores[~allowed] = -np.inf
        k = min(k, int(allowed.sum()))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.isfinite(scores[top])]
        order = top[np.argsort(-scores[top], kind="stable")]
        return order.astype(np.int64), scores[order]

    def _best(self, rows: np.ndarray, qv: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` of ``rows`` (ascending) with the highest exact cosine to ``qv``, best first."""
        scores = self.matrix[rows] @ qv
        if k < len(rows):
            top = np.sort(np.argpartition(-scores, k - 1)[:k])
            rows, scores = rows[top], scores[top]
        order = np.argsort(-scores, kind="stable")
        return rows[order].astype(np.int64), scores[order]

    def _coarse_for_search(self) -> CoarseIndex | None:
        """The float16 copy of the matrix, from ``coarse_min_rows`` rows; ``None`` below, when a component
        does not fit float16, or while the copy of the current matrix is being built: the first search
        after a change starts the build (about 0.5 s at 100k rows) in a thread and is answered exactly."""
        if len(self) < self.coarse_min_rows:
            return None
        with self._coarse_lock:
            coarse, version, matrix = self._coarse, self._coarse_version, self.matrix
            if coarse is not None and coarse.rows == len(matrix):
                return coarse
            if self._coarse_unusable == version or self._coarse_builder == os.getpid():
                return None
            self._coarse_builder = os.getpid()  # a forked child has no builder thread: it builds again
        if not self.coarse_in_background:
            self._build_coarse(matrix, version)
            return self._coarse
        threading.Thread(target=self._build_coarse, args=(matrix, version), daemon=True).start()
        return None

    def _build_coarse(self, matrix: np.ndarray, version: int) -> None:
        coarse = None
        try:
            coarse = CoarseIndex(matrix) if CoarseIndex.usable(matrix) else None
        finally:
            with self._coarse_lock:
                self._coarse_builder = 0
                if version == self._coarse_version:  # the matrix did not change meanwhile
                    self._coarse = coarse
                    if coarse is None:
                        self._coarse_unusable = version

    def _matrix_changed(self) -> None:
        with self._coarse_lock:
            self._coarse_version += 1
            self._coarse = None

    # ------------------------------------------------------------------ the HNSW graph (search.ann)
    def _ann_for_search(self) -> AnnIndex | None:
        """The graph to search, brought up to date first when due; ``None`` below ``ann_min_rows`` vectors.

        Built when missing or when its dead nodes (rows dropped or changed since) pass
        ``ANN_REBUILD_SHARE`` of the table; extended with the rows it misses once they pass that share."""
        if int(self.has_vec.sum()) < self.ann_min_rows:
            return None
        limit = ANN_REBUILD_SHARE * max(1, len(self))
        if self.ann is None or self.ann.size - self.ann.live() > limit:
            self.ann = AnnIndex.build(self.matrix, self.has_vec)
        else:
            missed = np.nonzero(self.has_vec & ~self.ann.covered(len(self)))[0]
            if len(missed) > limit:
                self.ann.extend(self.matrix, missed)
        return self.ann

    def rank(self, q: np.ndarray | None, rows: np.ndarray, depth: int) -> list[int]:
        """``rows`` ordered by cosine to ``q``, best first (rows without a vector are left out)."""
        if q is None or len(rows) == 0:
            return []
        rows = rows[self.has_vec[rows]]
        scores = self.matrix[rows] @ np.asarray(q, dtype=np.float32).reshape(-1)
        return rows[np.argsort(-scores, kind="stable")][:depth].tolist()  # type: ignore[no-any-return]

    def instants(self, path: str, rows: np.ndarray) -> np.ndarray:
        """The instant (microseconds) of the first ISO date of ``path`` in each row; NaN where none."""
        col: Column = self._ensure_derived()["columns"].column(path)
        starts, ends = col.ptr[rows], col.ptr[rows + 1]
        out = np.full(len(rows), np.nan)
        has = ends > starts
        if has.any():
            out[has] = col.when[col.codes[starts[has]]]
        return out

    # ------------------------------------------------------------------ facets and grouping
    def facet_values(self, name: str, rows: np.ndarray) -> set[str]:
        """The distinct values (as facet labels) of meta path ``name`` over ``rows``."""
        col: Column = self._ensure_derived()["columns"].column(name)
        labels = col.labels
        out: set[str] = set()
        for r in np.asarray(rows, dtype=np.int64).tolist():
            out.update(labels[c] for c in col.codes[col.ptr[r] : col.ptr[r + 1]].tolist())
        return out

    def distinct_parents(self, rows: np.ndarray) -> int:
        if len(rows) == 0:
            return 0
        seen = np.zeros(len(self._ensure_derived()["parent_names"]), dtype=bool)
        seen[self.parent_codes[rows]] = True
        return int(seen.sum())

    def facet_counts(self, name: str, rows: np.ndarray) -> list[tuple[str, int]]:
        """(value, number of distinct parents among ``rows`` carrying it), most frequent first."""
        if len(rows) == 0:
            return []
        col: Column = self._ensure_derived()["columns"].column(name)
        starts, ends = col.ptr[rows], col.ptr[rows + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return []
        entry = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) + np.arange(total)
        codes = col.codes[entry].astype(np.int64)
        n_parents = len(self._ensure_derived()["parent_names"])
        pairs = codes * n_parents + np.repeat(self.parent_codes[rows], lengths)
        if len(col.values) * n_parents <= 50_000_000:  # a bitmap of (value, parent) beats hashing
            seen = np.zeros(len(col.values) * n_parents, dtype=bool)
            seen[pairs] = True
            counts = seen.reshape(len(col.values), n_parents).sum(axis=1)
        else:
            counts = np.bincount(np.unique(pairs) // n_parents, minlength=len(col.values))
        nz = np.nonzero(counts)[0]
        labels = col.labels
        out = [(labels[c], int(counts[c])) for c in nz]
        out.sort(key=lambda vc: (-vc[1], vc[0]))
        return out

    # ------------------------------------------------------------------ mutation (writer only)
    def invalidate(self) -> None:
        self._derived = self._lookup = None
        self._matrix_changed()

    def extend(self, rows: list[Row]) -> None:
        """Add rows (keys ascending; the caller removed any previous row of these passage ids)."""
        if not rows:
            return
        n_old = len(self)
        self.keys = np.concatenate([self.keys, np.asarray([r[0] for r in rows], dtype=np.int64)])
        for key, pid, parent, _values, _vec in rows:
            self.ids.append(pid)
            self.parents.append(parent)
            self.next_key = max(self.next_key, key + 1)
        for values in (r[3] for r in rows):
            for name in values:
                if name not in self.columns:
                    self.columns[name] = Column.empty(n_old)
        self.columns = {
            name: col.appended([r[3].get(name, []) for r in rows]) for name, col in self.columns.items()
        }
        self._append_vectors([r[4] for r in rows])
        self._derived = self._lookup = None
        self._matrix_changed()

    def apply(self, ops: list[Op]) -> None:
        """Apply a writer's journal of operations in order (the rows of one commit)."""
        dead: set[int] = set()
        new_rows: dict[str, Row] = {}
        for op in ops:
            if op.kind == "upsert" and op.passage is not None:
                p = op.passage
                row = self.row_of(p.id)
                if row is not None:
                    dead.add(row)
                values = filter_values(p.meta)
                vec = None if p.embedding is None else np.asarray(p.embedding, dtype=np.float32)
                new_rows.pop(p.id, None)
                new_rows[p.id] = (op.key, p.id, p.parent_id, values, vec)
            elif op.kind == "delete_parent":
                dead.update(self.rows_of_parent(op.target))
                for pid in [k for k, v in new_rows.items() if v[2] == op.target]:
                    del new_rows[pid]
            elif op.kind == "delete_id":
                row = self.row_of(op.target)
                if row is not None:
                    dead.add(row)
                new_rows.pop(op.target, None)
            elif op.kind == "embed" and op.vector is not None:
                if op.target in new_rows:
                    new_rows[op.target] = (*new_rows[op.target][:4], op.vector)
                else:
                    row = self.row_of(op.target)
                    if row is not None and row not in dead:
                        self.set_vector(row, op.vector)
        self.drop(sorted(dead))
        self.extend(sorted(new_rows.values(), key=lambda r: r[0]))

    def _append_vectors(self, vectors: list[np.ndarray | None]) -> None:
        block = np.zeros((len(vectors), DIM), dtype=np.float32)
        have = np.zeros(len(vectors), dtype=bool)
        for i, v in enumerate(vectors):
            if v is not None:
                block[i] = np.asarray(v, dtype=np.float32).reshape(DIM)
                have[i] = True
        n_old, n_new = len(self.matrix), len(self.matrix) + len(vectors)
        buf = self._buf
        if buf is None or self.matrix.base is not buf or buf.shape[0] < n_new:
            # grow with headroom so that one-document commits do not copy the whole matrix each time
            buf = np.zeros((max(n_new, int(n_new * 1.25) + 1024), DIM), dtype=np.float32)
            buf[:n_old] = self.matrix
            self._buf = buf
        buf[n_old:n_new] = block
        self.matrix = buf[:n_new]
        self.has_vec = np.concatenate([self.has_vec, have])

    def set_vector(self, row: int, vector: np.ndarray) -> None:
        if self.ann is not None and self.ann.covered(len(self))[row]:
            self.ann.forget(row)  # its node holds the old vector: scored exactly from now on
        self.matrix[row] = np.asarray(vector, dtype=np.float32).reshape(DIM)
        self.has_vec[row] = True
        self._matrix_changed()

    def drop(self, rows: list[int]) -> None:
        """Remove rows (order of the others is kept, so keys stay sorted)."""
        if not rows:
            return
        keep = np.ones(len(self), dtype=bool)
        keep[rows] = False
        idx = np.nonzero(keep)[0]
        if self.ann is not None:  # renumber the graph's rows; dropped ones map to -1, never returned
            self.ann.remap(np.where(keep, np.cumsum(keep) - 1, -1))
        self.keys = self.keys[idx]
        self.ids = [self.ids[i] for i in idx]
        self.parents = [self.parents[i] for i in idx]
        kept = {name: col.taken(keep) for name, col in self.columns.items()}
        self.columns = {name: col for name, col in kept.items() if len(col.codes)}  # paths no row has go
        self.matrix = self.matrix[idx]
        self.has_vec = self.has_vec[idx]
        self._derived = self._lookup = None
        self._matrix_changed()

    # ------------------------------------------------------------------ persistence
    @staticmethod
    def current_path(directory: Path) -> Path:
        return directory / "CURRENT"

    def save(self, directory: Path) -> None:
        """Write a new generation and switch ``CURRENT`` to it atomically; prune older generations."""
        directory.mkdir(parents=True, exist_ok=True)
        gen = self.generation + 1
        npy, meta = directory / f"gen-{gen}.npy", directory / f"gen-{gen}.json"
        with open(str(npy) + ".tmp", "wb") as fh:
            np.save(fh, self.matrix)
        os.replace(str(npy) + ".tmp", npy)
        names = list(self.columns)
        arrays: dict[str, np.ndarray] = {"keys": self.keys, "has_vec": self.has_vec}
        for i, name in enumerate(names):
            arrays[f"ptr_{i}"], arrays[f"codes_{i}"] = self.columns[name].ptr, self.columns[name].codes
        cols = directory / f"gen-{gen}.cols.npz"
        with open(str(cols) + ".tmp", "wb") as fh:
            np.savez(fh, allow_pickle=False, **arrays)
        os.replace(str(cols) + ".tmp", cols)
        graph = self._ann_for_search()
        if graph is None:
            self.ann = None
        else:
            if graph.file is None or not (directory / graph.file).exists():
                graph.write(directory, f"ann-{gen}.faiss")
            with open(directory / f"gen-{gen}.ann.npy.tmp", "wb") as fh:
                np.save(fh, graph.rows)
            os.replace(directory / f"gen-{gen}.ann.npy.tmp", directory / f"gen-{gen}.ann.npy")
        doc = {
            "format": FORMAT_VERSION,
            "next_key": self.next_key,
            "ids": self.ids,
            "parents": self.parents,
            "columns": [[name, self.columns[name].values] for name in names],  # arrays in gen-N.cols.npz
            "ann": None if graph is None else graph.file,
        }
        tmp = str(meta) + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            # json.dumps uses the C encoder; json.dump to a file streams through the pure-Python one
            # (4.6 s against about 0.4 s for the metadata of 100k passages)
            fh.write(json.dumps(doc, separators=(",", ":")))
        os.replace(tmp, meta)
        cur_tmp = directory / "CURRENT.tmp"
        cur_tmp.write_text(str(gen), encoding="utf-8")
        os.replace(cur_tmp, self.current_path(directory))
        self.generation = gen
        for old in directory.glob("gen-*.*"):
            try:
                old_gen = int(old.name.split("-")[1].split(".")[0])
            except ValueError:
                continue
            if old_gen < gen - 1:
                old.unlink(missing_ok=True)
        keep_graphs = {self._ann_file, None if graph is None else graph.file}  # this and the previous gen
        for old in directory.glob("ann-*.faiss"):
            if old.name not in keep_graphs:
                old.unlink(missing_ok=True)
        self._ann_file = None if graph is None else graph.file

    @classmethod
    def load(cls, directory: Path) -> VectorTable:
        """The current generation under ``directory`` (an empty table when there is none yet).

        A generation can be pruned between reading ``CURRENT`` and opening it (a rebuild or an erasure
        saves twice to drop every older one): then ``CURRENT`` is read again."""
        for attempt in range(5):
            try:
                return cls._load(directory)
            except FileNotFoundError:
                if attempt == 4:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    @classmethod
    def _load(cls, directory: Path) -> VectorTable:
        table = cls()
        current = cls.current_path(directory)
        if not current.exists():
            return table
        gen = int(current.read_text(encoding="utf-8").strip())
        with open(directory / f"gen-{gen}.json", encoding="utf-8") as fh:
            doc = json.load(fh)
        table.generation = gen
        table.next_key = int(doc["next_key"])
        table.ids = list(doc["ids"])
        table.parents = list(doc["parents"])
        table.format = int(doc.get("format", 1))
        n = len(table.ids)
        if "columns" in doc:
            with np.load(directory / f"gen-{gen}.cols.npz") as arrays:
                table.keys = arrays["keys"].astype(np.int64)
                table.has_vec = arrays["has_vec"].astype(bool)
                columns = {
                    name: Column.from_arrays(values, arrays[f"ptr_{i}"], arrays[f"codes_{i}"])
                    for i, (name, values) in enumerate(doc["columns"])
                }
            table.columns = {name: col for name, col in columns.items() if col.rows == n}
        else:  # a generation written before the columns were stored: every row's values in the JSON
            table.keys = np.asarray(doc["keys"], dtype=np.int64)
            table.has_vec = np.asarray(doc["has_vec"], dtype=bool)
            table.set_fields({name: vals for name, vals in doc["fields"].items() if len(vals) == n})
        table.matrix = np.load(directory / f"gen-{gen}.npy")
        if table.matrix.shape != (len(table.ids), DIM):
            table.matrix = np.zeros((len(table.ids), DIM), dtype=np.float32)
            table.has_vec[:] = False
        graph_file = doc.get("ann")
        if graph_file:
            try:  # a missing graph (pruned meanwhile) is rebuilt on the first search, not an error
                rows = np.load(directory / f"gen-{gen}.ann.npy")
                table.ann = AnnIndex.read(directory, graph_file, rows)
                table._ann_file = graph_file
            except (FileNotFoundError, RuntimeError):
                table.ann = None
        return table
