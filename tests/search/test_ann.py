"""The HNSW graph of large vector tables (search.ann): recall against exact search, the filter applied
inside the walk (a row outside the mask is never returned), rows added, dropped or changed after the
build, the persisted graph reopened without a rebuild, and selective masks searched exactly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from search import ann
from search.embeddings import DIM
from search.vectors import VectorTable

N = 2000  # rows of the test tables; the graph is used from MIN_ROWS vectors instead of 100k
MIN_ROWS = 1000


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)  # type: ignore[no-any-return]


def _table(n: int = N, seed: int = 0, first_key: int = 1) -> VectorTable:
    vectors = _unit(np.random.default_rng(seed), n)
    table = VectorTable()
    table.ann_min_rows = MIN_ROWS
    table.extend([(first_key + i, f"p{i}", f"d{i // 3}", {}, vectors[i]) for i in range(n)])
    return table


def _exact(table: VectorTable, q: np.ndarray, mask: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Brute force over the allowed rows: the reference."""
    allowed = np.nonzero(mask & table.has_vec)[0]
    scores = table.matrix[allowed] @ q
    order = np.argsort(-scores, kind="stable")[:k]
    return allowed[order], scores[order]


@pytest.fixture(autouse=True)
def _small_exact_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ann, "EXACT_ROWS", 200)  # so that a 30% mask of 2,000 rows walks the graph


@pytest.fixture(scope="module")
def built() -> Iterator[VectorTable]:
    table = _table()
    table.top_k(_unit(np.random.default_rng(99), 1)[0], np.ones(N, dtype=bool), 10)  # builds the graph
    assert table.ann is not None
    yield table


def test_recall_at_10_unfiltered_and_with_a_30_percent_mask(built: VectorTable) -> None:
    rng = np.random.default_rng(1)
    for share in (1.0, 0.3):
        recalls = []
        for q in _unit(rng, 40):
            mask = rng.random(N) < share
            rows, scores = built.top_k(q, mask, 10)
            ref, _ = _exact(built, q, mask, 10)
            recalls.append(len(set(rows.tolist()) & set(ref.tolist())) / 10)
            assert np.allclose(scores, built.matrix[rows] @ q)  # exact cosines, best first
            assert (np.diff(scores) <= 0).all()
        assert np.mean(recalls) >= 0.95, (share, np.mean(recalls))


def test_a_row_outside_the_mask_is_never_returned(built: VectorTable) -> None:
    rng = np.random.default_rng(2)
    for trial in range(150):
        share = [0.02, 0.1, 0.3, 0.6, 0.95][trial % 5]
        mask = rng.random(N) < share
        k = int(rng.choice([1, 10, 100, 400]))
        rows, _ = built.top_k(_unit(rng, 1)[0], mask, k)
        assert mask[rows].all()
        assert len(set(rows.tolist())) == len(rows) == min(k, int(mask.sum()))


def test_selective_mask_is_searched_exactly(built: VectorTable) -> None:
    rng = np.random.default_rng(3)
    builds = ann.builds
    for _ in range(20):
        mask = np.zeros(N, dtype=bool)
        mask[rng.choice(N, 150, replace=False)] = True  # under EXACT_ROWS (200) and 5% of 2,000 (100)
        q = _unit(rng, 1)[0]
        rows, scores = built.top_k(q, mask, 50)
        ref_rows, ref_scores = _exact(built, q, mask, 50)
        assert rows.tolist() == ref_rows.tolist()
        assert np.allclose(scores, ref_scores)
    assert ann.builds == builds


def test_below_the_threshold_search_is_exact_and_builds_no_graph(tmp_path: Path) -> None:
    table = _table(n=500)
    q = table.matrix[7].copy()
    rows, _ = table.top_k(q, np.ones(500, dtype=bool), 5)
    assert rows[0] == 7
    table.save(tmp_path)
    assert table.ann is None and not list(tmp_path.glob("ann-*"))


def test_rows_added_after_the_build_are_found() -> None:
    table = _table()
    everything = np.ones(N, dtype=bool)
    table.top_k(table.matrix[0], everything, 10)
    builds = ann.builds
    extra = _unit(np.random.default_rng(4), 100)  # 100 rows: under the 10% that triggers a rebuild
    table.extend([(N + 1 + i, f"new{i}", f"dn{i}", {}, extra[i]) for i in range(100)])
    mask = np.ones(len(table), dtype=bool)
    for i in (0, 42, 99):
        rows, scores = table.top_k(extra[i], mask, 10)
        assert table.ids[rows[0]] == f"new{i}" and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert ann.builds == builds  # searched exactly beside the graph, not rebuilt
    for i in (5, 1500):  # rows of the graph are still found through it
        rows, _ = table.top_k(table.matrix[i], mask, 10)
        assert table.ids[rows[0]] == f"p{i}"


def test_dropped_and_changed_rows_are_never_returned() -> None:
    table = _table()
    table.top_k(table.matrix[0], np.ones(N, dtype=bool), 10)
    builds = ann.builds
    rng = np.random.default_rng(5)
    gone = sorted(rng.choice(N, 150, replace=False).tolist())
    gone_vectors = table.matrix[gone].copy()
    gone_ids = {f"p{i}" for i in gone}
    table.drop(gone)  # the rows after each dropped one are renumbered
    changed = table.row_of("p10")
    assert changed is not None
    old_vector = table.matrix[changed].copy()
    new_vector = _unit(rng, 1)[0]
    table.set_vector(changed, new_vector)
    mask = np.ones(len(table), dtype=bool)
    for v in gone_vectors[:30]:
        rows, _ = table.top_k(v, mask, 50)
        assert not gone_ids & {table.ids[r] for r in rows.tolist()}
    rows, scores = table.top_k(new_vector, mask, 10)  # its new vector finds it, with its new score
    assert table.ids[rows[0]] == "p10" and scores[0] == pytest.approx(1.0, abs=1e-5)
    rows, scores = table.top_k(old_vector, mask, 10)  # its old vector no longer scores it as before
    assert not (table.ids[rows[0]] == "p10" and scores[0] > 0.99)
    for pid in ("p0", "p1500", "p1999"):  # survivors map to their renumbered rows
        row = table.row_of(pid)
        if row is not None:
            rows, _ = table.top_k(table.matrix[row], mask, 5)
            assert table.ids[rows[0]] == pid
    assert ann.builds == builds  # followed the renumbering instead of rebuilding


def test_the_persisted_graph_is_reopened_without_a_rebuild(tmp_path: Path) -> None:
    table = _table()
    table.save(tmp_path)  # builds the graph and writes it beside the generation
    graph_file = tmp_path / "ann-1.faiss"
    assert graph_file.exists()
    builds = ann.builds
    loaded = VectorTable.load(tmp_path)
    loaded.ann_min_rows = MIN_ROWS
    rng = np.random.default_rng(6)
    mask = rng.random(N) < 0.5
    for q in _unit(rng, 10):
        assert loaded.top_k(q, mask, 10)[0].tolist() == table.top_k(q, mask, 10)[0].tolist()
    assert ann.builds == builds
    # later generations refer to the same graph file (written once) with their own row map
    loaded.drop([0, 1, 2])
    loaded.save(tmp_path)
    assert ann.builds == builds and sorted(p.name for p in tmp_path.glob("ann-*")) == ["ann-1.faiss"]
    again = VectorTable.load(tmp_path)
    again.ann_min_rows = MIN_ROWS
    rows, _ = again.top_k(again.matrix[0], np.ones(len(again), dtype=bool), 5)
    assert again.ids[rows[0]] == "p3" and ann.builds == builds
    # past 10% of rows missing from the graph, the next save adds them to it and writes it again; older
    # graph files go
    extensions = ann.extensions
    extra = _unit(rng, 400)
    again.extend([(N + 1 + i, f"new{i}", f"dn{i}", {}, extra[i]) for i in range(400)])
    again.save(tmp_path)
    again.save(tmp_path)
    assert ann.builds == builds and ann.extensions == extensions + 1
    assert again.ann is not None and bool(again.ann.covered(len(again)).all())
    assert sorted(p.name for p in tmp_path.glob("ann-*")) == ["ann-3.faiss"]
    reopened = VectorTable.load(tmp_path)
    reopened.ann_min_rows = MIN_ROWS
    rows, _ = reopened.top_k(extra[7], np.ones(len(again), dtype=bool), 5)
    assert again.ids[rows[0]] == "new7" and ann.builds == builds


def test_past_a_tenth_of_dropped_rows_the_graph_is_built_again() -> None:
    table = _table()
    table.top_k(table.matrix[0], np.ones(N, dtype=bool), 10)
    builds = ann.builds
    table.drop(list(range(0, 2 * N // 10, 2))[:150])  # 150 dead nodes: under a tenth, kept
    table.top_k(table.matrix[0], np.ones(len(table), dtype=bool), 10)
    assert ann.builds == builds
    table.drop(list(range(100)))  # 250 dead nodes of 1,750 rows: rebuilt without them
    rows, _ = table.top_k(table.matrix[0], np.ones(len(table), dtype=bool), 10)
    assert ann.builds == builds + 1 and table.ann is not None and table.ann.live() == table.ann.size
    assert rows[0] == 0
