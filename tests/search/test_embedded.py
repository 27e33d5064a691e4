"""The embedded backend (Tantivy + vector matrix) against every conformance mixin, plus its own specifics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from search.embedded import FILTER_ENGINES, EmbeddedBackend
from search.haystack_store import EmbeddedDocumentStore
from search.testing import (
    ANONYMOUS,
    AccessScopeTests,
    DocumentStoreTests,
    ExplanationTests,
    FacetTests,
    FilterParityTests,
    MoreLikeThisTests,
    RetrievalTests,
    UnderstandingTests,
    corpus_passages,
    file_store,
    parents,
    run,
)


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[EmbeddedBackend]:
    b = EmbeddedBackend(tmp_path / "index", file_store(tmp_path / "texts.sqlite3"))
    yield b
    b.close()


class TestEmbeddedRetrieval(RetrievalTests):
    pass


class TestEmbeddedFacets(FacetTests):
    pass


class TestEmbeddedAccessScope(AccessScopeTests):
    pass


class TestEmbeddedFilterParity(FilterParityTests):
    pass


class TestEmbeddedUnderstanding(UnderstandingTests):
    pass


class TestEmbeddedExplanation(ExplanationTests):
    pass


class TestEmbeddedMoreLikeThis(MoreLikeThisTests):
    pass


class TestEmbeddedDocumentStore(DocumentStoreTests):
    """Haystack's suite (its filter cases included) with ``filter_documents`` answered by each engine."""

    @pytest.fixture(params=FILTER_ENGINES)
    def document_store(self, tmp_path: Path, request: pytest.FixtureRequest) -> EmbeddedDocumentStore:
        return EmbeddedDocumentStore(tmp_path / "store", filter_engine=request.param)


def test_reader_sees_writer_commits_and_survives_reopen(tmp_path: Path) -> None:
    texts = tmp_path / "texts.sqlite3"
    writer = EmbeddedBackend(tmp_path / "index", file_store(texts))
    writer.write([replace(p) for p in corpus_passages()])
    writer.commit()
    reader = EmbeddedBackend(tmp_path / "index", file_store(texts))
    assert reader.count() == writer.count()
    assert "doc-vin" in parents(run(reader, "vins Allemagne", scope=ANONYMOUS, mode="hybrid"))
    writer.delete_parent("doc-vin")
    writer.commit()
    assert "doc-vin" not in parents(run(reader, "vins Allemagne", scope=ANONYMOUS, mode="hybrid", limit=50))
    writer.close()
    reopened = EmbeddedBackend(tmp_path / "index", file_store(texts))
    assert reopened.count() == len(corpus_passages()) - 2
    assert reopened.missing_embeddings() == []


def test_uncommitted_writes_are_invisible(backend: EmbeddedBackend) -> None:
    backend.write([replace(p) for p in corpus_passages()])
    assert backend.count() == 0
    backend.commit()
    assert backend.count() == len(corpus_passages())


def test_document_store_round_trips_its_engine(tmp_path: Path) -> None:
    store = EmbeddedDocumentStore(tmp_path / "store", filter_engine="vectors")
    again = EmbeddedDocumentStore.from_dict(store.to_dict())
    assert again.filter_engine == "vectors" and again.index_dir == store.index_dir
    with pytest.raises(ValueError):
        EmbeddedDocumentStore(tmp_path / "other", filter_engine="python")


@pytest.mark.parametrize(
    "text",
    [
        "vins",
        "Énergie solaire",
        "energie",
        "fromage zzzqqq",
        "zzzqqq",
        "confidentiel",  # only in private passages: visible to their owner, not to others
        "viticole Carnet",
        "le la les",
        "États-Unis",
        "l'origine",
        "U.S. vins",
        "vins AND fromage",
        '"vin rouge"',
        "-vins fromage",
    ],
)
def test_the_word_check_answers_as_the_parsed_query(backend: EmbeddedBackend, text: str) -> None:
    """Vector mode's floor asks whether a query word occurs in a passage the caller may see: the term by
    term look-up gives the parsed query's answer, scope and filters included."""
    import tantivy

    from search import tantivy_index as ti
    from search.embedded import query_filter
    from search.tantivy_filters import filter_query
    from search.testing import MEMBER_ORG1, MEMBER_ORG3, OWNER_ORG1
    from search.types import SearchQuery

    backend.write([replace(p) for p in corpus_passages()])
    backend.commit()
    searcher = backend._index.searcher()
    for scope in (ANONYMOUS, MEMBER_ORG1, MEMBER_ORG3, OWNER_ORG1):
        for filters in ({}, {"sector": ["naf:35"]}):
            query = SearchQuery(text=text, scope=scope, mode="vector", filters=filters)
            fq = filter_query(backend._index, query_filter(query))
            parsed = ti.text_query(backend._index, text, conjunction=False)
            both = tantivy.Query.boolean_query([(tantivy.Occur.Must, parsed), (tantivy.Occur.Must, fq)])
            expected = bool(searcher.search(both, limit=1, count=False).hits)
            assert backend._any_word(searcher, text, fq) is expected, (scope, filters)
