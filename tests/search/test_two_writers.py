"""Two writers on one index (``tfe serve`` uploading while ``tfe ingest`` runs) never lose each other's
passages: each takes the index lock, continues from the other's committed state, then releases it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.embedded import EmbeddedBackend
from search.testdata import file_store
from search.types import Passage, SearchQuery
from tfe.core.security.scope import AccessScope


def _passage(n: int) -> Passage:
    vec = np.zeros(384, dtype=np.float32)
    vec[n] = 1.0
    return Passage(
        id=f"doc{n}:0",
        parent_id=f"doc{n}",
        title=f"Document {n}",
        text=f"exportation numéro{n} commune",
        meta={"visibility": "public", "countries": ["country:DE"]},
        embedding=vec,
    )


def test_interleaved_writers_keep_every_passage(tmp_path: Path) -> None:
    texts = tmp_path / "texts.sqlite3"  # the installation's database: one store, several processes
    first = EmbeddedBackend(tmp_path / "index", file_store(texts))
    second = EmbeddedBackend(tmp_path / "index", file_store(texts))  # opened before the first one writes
    first.write([_passage(1)])
    first.commit()
    second.write([_passage(2)])
    second.commit()
    first.write([_passage(3)])
    first.set_embeddings(["doc1:0"], np.eye(384, dtype=np.float32)[[7]])
    first.commit()

    reader = EmbeddedBackend(tmp_path / "index", file_store(texts))
    query = SearchQuery(text="commune", scope=AccessScope.anonymous(), mode="bm25", limit=10)
    result = reader.search(query)
    assert sorted(h.parent_id for h in result.hits) == ["doc1", "doc2", "doc3"]
    assert sorted(h.title for h in result.hits) == ["Document 1", "Document 2", "Document 3"]
    assert result.facets["country"] == [("country:DE", 3)]
    probe = np.zeros(384, dtype=np.float32)
    probe[2] = 1.0
    vector = reader.search(
        SearchQuery(
            text="commune", scope=AccessScope.anonymous(), mode="vector", query_embedding=probe, limit=1
        )
    )
    assert vector.hits[0].parent_id == "doc2"
    for backend in (first, second, reader):
        backend.close()
