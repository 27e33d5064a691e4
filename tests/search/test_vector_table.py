"""The vector table keeps rows, vectors and keyword values aligned through appends, drops and reloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.embeddings import DIM
from search.filters import Scalar
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
        assert t.values_of("countries", t.row_of("p2")) == ["country:2"]  # type: ignore[arg-type]


def _per_row(table: VectorTable, path: str) -> list[list[Scalar]]:
    return [table.values_of(path, row) for row in range(len(table))]


def test_columns_follow_random_appends_and_drops_like_per_row_lists(tmp_path: Path) -> None:
    """The CSR columns hold exactly the values a plain list per row would, through appends, drops, a
    save and a load; masks and facet counts agree with those computed from the lists."""
    rng = np.random.default_rng(3)
    table = VectorTable()
    reference: list[tuple[str, dict[str, list[Scalar]]]] = []  # (passage id, values by path) per row
    key = 1
    for _round in range(30):
        if reference and rng.random() < 0.3:
            victims = sorted({int(r) for r in rng.integers(0, len(reference), size=int(rng.integers(1, 4)))})
            table.drop(victims)
            reference = [row for i, row in enumerate(reference) if i not in victims]
            continue
        rows = []
        for _ in range(int(rng.integers(1, 6))):
            values: dict[str, list[Scalar]] = {}
            if rng.random() < 0.7:
                values["countries"] = [
                    f"country:{int(c)}" for c in rng.integers(0, 4, size=int(rng.integers(1, 3)))
                ]
            if rng.random() < 0.5:
                values["org_id"] = [int(rng.integers(1, 4))]
            rows.append((key, f"p{key}", f"d{key % 7}", values, _vec(key % DIM)))
            reference.append((f"p{key}", values))
            key += 1
        table.extend(rows)  # type: ignore[arg-type]
    table.save(tmp_path)
    for t in (table, VectorTable.load(tmp_path)):
        assert t.ids == [pid for pid, _v in reference]
        for path in ("countries", "org_id"):
            assert _per_row(t, path) == [v.get(path, []) for _pid, v in reference]
        wanted = [i for i, (_pid, v) in enumerate(reference) if "country:2" in v.get("countries", [])]
        mask = t.mask({"field": "meta.countries", "operator": "==", "value": "country:2"})
        assert np.nonzero(mask)[0].tolist() == wanted
        assert np.nonzero(t.mask({"field": "meta.org_id", "operator": ">=", "value": 2}))[0].tolist() == [
            i for i, (_pid, v) in enumerate(reference) if int(v.get("org_id", [0])[0]) >= 2
        ]
        counted = dict(t.facet_counts("countries", np.arange(len(t))))
        parents: dict[str, set[str]] = {}
        for row, (_pid, v) in enumerate(reference):
            for c in v.get("countries", []):
                parents.setdefault(str(c), set()).add(t.parents[row])
        assert counted == {c: len(ps) for c, ps in parents.items()}


def test_a_generation_written_with_per_row_values_still_loads(tmp_path: Path) -> None:
    """Generations saved before the columns were stored kept every row's values as JSON lists."""
    import json

    table = VectorTable()
    table.extend(
        [(k, f"p{k}", f"d{k}", {"countries": [f"country:{k}"], "org_id": [k]}, _vec(k)) for k in (1, 2)]
    )
    table.save(tmp_path)
    meta = tmp_path / f"gen-{table.generation}.json"
    doc = json.loads(meta.read_text(encoding="utf-8"))
    del doc["columns"]
    doc |= {
        "keys": [1, 2],
        "has_vec": [1, 1],
        "fields": {"countries": [["country:1"], ["country:2"]], "org_id": [[1], [2]]},
    }
    meta.write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / f"gen-{table.generation}.cols.npz").unlink()
    loaded = VectorTable.load(tmp_path)
    assert loaded.keys.tolist() == [1, 2] and bool(loaded.has_vec.all())
    assert _per_row(loaded, "countries") == [["country:1"], ["country:2"]]
    assert _per_row(loaded, "org_id") == [[1], [2]]
    assert np.nonzero(loaded.mask({"field": "meta.org_id", "operator": "==", "value": 2}))[0].tolist() == [1]
