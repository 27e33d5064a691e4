"""Long documents: only the first passages are embedded during ingest, the rest wait for back-filling."""

from __future__ import annotations

from ingest.components.embedder import PassageEmbedder
from ingest.components.writer import index_passages
from ingest.item import IngestItem, Processed
from search.embeddings import Embedder


def test_only_the_first_passages_get_vectors_inline() -> None:
    passages = [f"Passage numéro {i} sur les vins de Bordeaux." for i in range(5)]
    embeddings = PassageEmbedder(Embedder(), max_passages=2).run(passages)["embeddings"]
    assert embeddings is not None and embeddings.shape == (2, 384)
    record = Processed(
        item=IngestItem(key="k", filename="long.txt"),
        content_hash="h",
        passages=passages,
        embeddings=embeddings,
    )
    indexed = index_passages(record, "doc-1", {"kind": "document"})
    assert [p.embedding is not None for p in indexed] == [True, True, False, False, False]
    assert [p.id for p in indexed] == [f"doc-1:{i}" for i in range(5)]
    assert all(p.title == "long.txt" and p.meta == {"kind": "document"} for p in indexed)


def test_disabled_embedder_leaves_every_passage_for_backfill() -> None:
    assert PassageEmbedder(enabled=False).run(["un", "deux"])["embeddings"] is None
    assert PassageEmbedder(Embedder()).run([])["embeddings"] is None
