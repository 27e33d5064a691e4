"""Totals and facets counted inside Tantivy when a result set is larger than what is read
(``search.engine_counts``): forced here on a small corpus by lowering the thresholds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from search import engine_counts, fusion
from search.embedded import EmbeddedBackend
from search.types import Passage, SearchQuery
from tfe.core.security.scope import AccessScope

READER = AccessScope(user_id=1, org_id=1, roles=frozenset({"reader"}))


def _corpus() -> list[Passage]:
    out = []
    for i in range(40):
        parent = f"doc-{i // 4}"
        out.append(
            Passage(
                id=f"{parent}:{i % 4}",
                parent_id=parent,
                title="export vins",
                text=f"export des vins numéro {i}",
                position=i % 4,
                meta={
                    "visibility": "public" if i < 32 else "private",
                    "org_id": 1 + (i // 4) % 3,
                    "owner_user_id": 99,
                    "sector_facet": [f"naf:{10 + (i // 4) % 2}"],
                    "language": "fr",
                },
            )
        )
    return out


@pytest.fixture
def backend(tmp_path: Path) -> EmbeddedBackend:
    b = EmbeddedBackend(tmp_path / "idx")
    b.write(_corpus())
    b.commit()
    return b


def test_engine_counts_agree_with_exact_counts(
    backend: EmbeddedBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = SearchQuery(text="export", scope=READER, mode="bm25", limit=2)
    exact = backend.search(query)
    assert exact.total == 8  # the private parents (doc-8, doc-9) are out of scope
    monkeypatch.setattr(engine_counts, "EXACT_MATCHES", 0)
    monkeypatch.setattr(fusion, "rank_depth", lambda offset, limit: 5)
    counted = backend.search(query)
    assert counted.total == exact.total
    assert [h.parent_id for h in counted.hits] == [h.parent_id for h in exact.hits]
    for name, values in exact.facets.items():
        got = dict(counted.facets[name])
        assert set(got) == {v for v, _ in values}, name  # the same values, none from outside the scope
        for value, count in values:
            assert 1 <= got[value] <= 4 * count  # estimated: never more than the value's passages
    assert dict(counted.facets["language"]) == {"fr": 8}


def test_engine_counts_of_an_empty_match(backend: EmbeddedBackend) -> None:
    from search.tantivy_index import text_query

    searcher = backend._index.searcher()
    got = engine_counts.aggregate(searcher, text_query(backend._index, "zzzqqq"), {"language": "language"})
    assert got.total == 0 and got.facets == {"language": []}


def test_vector_extras_are_added_once_per_parent(backend: EmbeddedBackend) -> None:
    base = engine_counts.Counted(total=3, facets={"language": [("fr", 3)]}, passages=6)
    rows = {"a": np.asarray([0, 1]), "b": np.asarray([2])}
    out = engine_counts.add_extras(
        base,
        {"a": [0, 1], "b": [2]},
        lambda parent: np.zeros(0, dtype=np.int64) if parent == "a" else rows["b"],
        lambda _path, r: {"fr"} if len(r) and int(r[0]) != 2 else ({"en"} if len(r) else set()),
        {"language": "language"},
    )
    assert out.total == 4  # "a" had no BM25 match; "b" had
    assert dict(out.facets["language"]) == {"fr": 4}
