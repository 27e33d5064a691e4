"""The embedded backend (Tantivy + vector matrix) against every conformance mixin, plus its own specifics."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from search.embedded import EmbeddedBackend
from search.haystack_store import EmbeddedDocumentStore
from search.testing import (
    ANONYMOUS,
    AccessScopeTests,
    DocumentStoreTests,
    FacetTests,
    RetrievalTests,
    corpus_passages,
    parents,
    run,
)


@pytest.fixture
def backend(tmp_path: Path) -> EmbeddedBackend:
    b = EmbeddedBackend(tmp_path / "index")
    yield b  # type: ignore[misc]
    b.close()


class TestEmbeddedRetrieval(RetrievalTests):
    pass


class TestEmbeddedFacets(FacetTests):
    pass


class TestEmbeddedAccessScope(AccessScopeTests):
    pass


class TestEmbeddedDocumentStore(DocumentStoreTests):
    @pytest.fixture
    def document_store(self, tmp_path: Path) -> EmbeddedDocumentStore:
        return EmbeddedDocumentStore(tmp_path / "store")


def test_reader_sees_writer_commits_and_survives_reopen(tmp_path: Path) -> None:
    writer = EmbeddedBackend(tmp_path / "index")
    writer.write([replace(p) for p in corpus_passages()])
    writer.commit()
    reader = EmbeddedBackend(tmp_path / "index")
    assert reader.count() == writer.count()
    assert "doc-vin" in parents(run(reader, "vins Allemagne", scope=ANONYMOUS, mode="hybrid"))
    writer.delete_parent("doc-vin")
    writer.commit()
    assert "doc-vin" not in parents(run(reader, "vins Allemagne", scope=ANONYMOUS, mode="hybrid", limit=50))
    writer.close()
    reopened = EmbeddedBackend(tmp_path / "index")
    assert reopened.count() == len(corpus_passages()) - 2
    assert reopened.missing_embeddings() == []


def test_uncommitted_writes_are_invisible(backend: EmbeddedBackend) -> None:
    backend.write([replace(p) for p in corpus_passages()])
    assert backend.count() == 0
    backend.commit()
    assert backend.count() == len(corpus_passages())
