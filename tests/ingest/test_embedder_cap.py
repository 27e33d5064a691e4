"""Long documents: only the first passages are embedded during ingest, the rest wait for back-filling."""

from __future__ import annotations

from ingest.components.embedder import PassageEmbedder
from ingest.components.writer import RecordWriter
from ingest.item import IngestItem, Processed
from search.embeddings import Embedder


class _NoSink:
    target_kind = "document"


def test_only_the_first_passages_get_vectors_inline() -> None:
    record = Processed(item=IngestItem(key="k", filename="long.txt"), content_hash="h")
    record.chunks = [f"Passage numéro {i} sur les vins de Bordeaux." for i in range(5)]
    out = PassageEmbedder(Embedder(), max_passages=2).run(record)["record"]
    assert out.vectors is not None and out.vectors.shape == (2, 384)
    passages = RecordWriter(_NoSink(), backend=None).passages(out, "doc-1")  # type: ignore[arg-type]
    assert [p.embedding is not None for p in passages] == [True, True, False, False, False]
    assert [p.id for p in passages] == [f"doc-1:{i}" for i in range(5)]


def test_disabled_embedder_leaves_every_passage_for_backfill() -> None:
    record = Processed(item=IngestItem(key="k"), content_hash="h", chunks=["un", "deux"])
    assert PassageEmbedder(enabled=False).run(record)["record"].vectors is None
