"""The vector table keeps rows, vectors and keyword values aligned through appends, drops and reloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.embeddings import DIM
from search.vectors import VectorTable


def _vec(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def test_appends_drops_and_reload_stay_aligned(tmp_path: Path) -> None:
    table = VectorTable()
    table.extend([(k, f"p{k}", f"d{k}", {"countries": [f"country:{k}"]}, _vec(k)) for k in range(3)])
    table.extend([(3, "p3", "d3", {}, None)])  # a passage without vector yet
    for k in range(4, 10):  # one-row appends reuse the spare capacity
        table.extend([(k, f"p{k}", f"d{k}", {}, _vec(k))])
    table.drop([table.row_of("p1")])  # type: ignore[list-item]
    table.extend([(10, "p10", "d10", {}, _vec(10))])
    table.set_vector(table.row_of("p3"), _vec(3))  # type: ignore[arg-type]
    table.save(tmp_path)
    loaded = VectorTable.load(tmp_path)
    for t in (table, loaded):
        assert t.ids == ["p0", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10"]
        assert t.matrix.shape == (10, DIM) and bool(t.has_vec.all())
        for row, pid in enumerate(t.ids):
            assert int(np.argmax(t.matrix[row])) == int(pid[1:])
        assert t.fields["countries"][t.row_of("p2")] == ["country:2"]  # type: ignore[index]
