"""Exact vector search through the float16 first pass (search.coarse) finds what the float32 product does."""

from __future__ import annotations

import time

import numpy as np

from search.coarse import CoarseIndex
from search.embeddings import DIM
from search.vectors import VectorTable

ROWS = 3000


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    m = rng.standard_normal((n, DIM)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def _table(matrix: np.ndarray) -> VectorTable:
    table = VectorTable()
    rows = [(k + 1, f"p{k}", f"d{k // 3}", {"org_id": [k % 4]}, matrix[k]) for k in range(len(matrix))]
    table.extend(rows)  # type: ignore[arg-type]
    table.coarse_min_rows = 1000
    table.coarse_in_background = False
    return table


def _both(table: VectorTable, q: np.ndarray, mask: np.ndarray, k: int) -> tuple[tuple, tuple]:
    coarse = table.top_k(q, mask, k)
    assert table._coarse is not None  # the first pass ran
    table.coarse_min_rows = 10**9
    try:
        exact = table.top_k(q, mask, k)
    finally:
        table.coarse_min_rows = 1000
    return coarse, exact


def _same(coarse: tuple, exact: tuple) -> None:
    assert set(coarse[0].tolist()) == set(exact[0].tolist())
    np.testing.assert_allclose(coarse[1], exact[1], rtol=0, atol=1e-6)
    assert np.all(np.diff(coarse[1]) <= 0)  # best first


def test_same_top_k_as_the_float32_product_under_masks() -> None:
    rng = np.random.default_rng(11)
    table = _table(_unit(rng, ROWS))
    masks = [np.ones(ROWS, dtype=bool), table.mask({"field": "meta.org_id", "operator": "==", "value": 2})]
    masks.append(rng.random(ROWS) < 0.02)  # about 60 rows allowed: fewer than the fetch
    for q in _unit(rng, 40):
        for mask in masks:
            for k in (1, 10, 100):
                coarse, exact = _both(table, q, mask, k)
                assert len(coarse[0]) == min(k, int(mask.sum()))
                assert bool(mask[coarse[0]].all())
                _same(coarse, exact)


def test_near_ties_fall_back_or_stay_exact() -> None:
    """Hundreds of rows within float16 rounding of each other: the proof fails and the product decides."""
    rng = np.random.default_rng(5)
    base = _unit(rng, 1)[0]
    matrix = _unit(rng, ROWS)
    noise = rng.standard_normal((400, DIM)).astype(np.float32) * 1e-6
    matrix[:400] = (base + noise) / np.linalg.norm(base + noise, axis=1, keepdims=True)
    table = _table(matrix)
    coarse, exact = _both(table, base, np.ones(ROWS, dtype=bool), 10)
    _same(coarse, exact)
    assert set(coarse[0].tolist()) <= set(range(400))


def test_the_copy_follows_writes() -> None:
    """A changed vector, dropped rows and appended rows are searched from the new matrix, not a stale copy."""
    rng = np.random.default_rng(3)
    table = _table(_unit(rng, ROWS))
    q = _unit(rng, 1)[0]
    everything = np.ones(ROWS, dtype=bool)
    table.top_k(q, everything, 5)
    table.set_vector(7, q)
    rows, scores = table.top_k(q, everything, 5)
    assert rows[0] == 7 and abs(scores[0] - 1.0) < 1e-5
    table.drop([7])
    rows, _ = table.top_k(q, np.ones(len(table), dtype=bool), 5)
    assert table.ids[int(rows[0])] != "p7"
    table.extend([(ROWS + 1, "new", "dnew", {}, q)])  # type: ignore[list-item]
    rows, _ = table.top_k(q, np.ones(len(table), dtype=bool), 5)
    assert table.ids[int(rows[0])] == "new"


def test_slack_bounds_the_float16_error() -> None:
    rng = np.random.default_rng(8)
    matrix = _unit(rng, 2000) * 3.0  # not unit rows: the bound scales with the norms
    index = CoarseIndex(matrix)
    for q in _unit(rng, 20) * 2.0:
        scores, ids = index.index.search(q.reshape(1, -1), 2000)
        exact = matrix[ids[0]] @ q
        assert float(np.max(np.abs(scores[0] - exact))) <= index.slack(q)
    assert not CoarseIndex.usable(np.full((2, DIM), 70_000.0, dtype=np.float32))


def test_built_in_the_background_then_used() -> None:
    """The first search after a change is answered by the product while a thread builds the copy."""
    rng = np.random.default_rng(4)
    table = _table(_unit(rng, ROWS))
    table.coarse_in_background = True
    q = _unit(rng, 1)[0]
    everything = np.ones(ROWS, dtype=bool)
    first = table.top_k(q, everything, 10)
    deadline = time.monotonic() + 30
    while table._coarse is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert table._coarse is not None
    again = table.top_k(q, everything, 10)
    _same(again, first)
    table.set_vector(0, q)  # a change drops the copy; the next search builds one of the new matrix
    assert table._coarse is None
    rows, _ = table.top_k(q, everything, 1)
    assert int(rows[0]) == 0
