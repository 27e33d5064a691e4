"""The OpenSearch backend against the conformance mixins of ``search.testing``, on a real server process.

Where it runs: ``osmem-server`` (an in-memory OpenSearch-compatible server from PyPI, started once per
session on loopback) unless ``TFE_OPENSEARCH_URL`` names a real cluster, which then runs everything.
osmem indexes with bleve, whose ``stemmer`` filter breaks our ``tfe_french`` chain, so on osmem the index
uses OpenSearch's built-in ``french`` analyzer (``OpenSearchBackend(analyzer="french")``); a real cluster
gets the production template.

osmem has no kNN search either. So the vector side runs there with ``vector_search="exact"`` (the scoped
vectors read from the cluster and ranked by the backend, the same filter clause, the same fusion), and the
kNN query itself (``{"knn": {..., "filter": ...}}``) runs only against a real cluster. The tests that
exercise the vector side are marked ``opensearch_knn`` (on osmem they test the exact path; on a real
cluster the kNN query). They are exactly:

- ``RetrievalTests``: ``test_user_syntax_never_raises``, ``test_vector_finds_paraphrase``,
  ``test_hybrid_ranks_relevant_first``, ``test_keyword_queries_require_every_term``,
  ``test_results_grouped_per_parent``, ``test_write_replaces_by_id_and_delete_parent``,
  ``test_backfill_embeddings``, and the ``vector``/``hybrid`` cases of ``test_nonsense_finds_nothing``;
- ``FacetTests``: ``test_filters_apply_to_every_mode``;
- ``AccessScopeTests``: the ``vector``/``hybrid`` cases of ``test_scope_inside_every_query`` and
  ``test_other_organisation_never_visible``;
- ``SortAndDateTests``: the ``vector``/``hybrid`` cases of ``test_sort_by_date_newest_and_oldest_first``
  and ``test_date_range_inclusive_whole_days``;
- ``ExplanationTests``: the ``vector``/``hybrid`` cases of ``test_terms_as_typed_stemmed``,
  ``test_meaning_and_similarity``, ``test_hybrid_says_both_sides``,
  ``test_every_hit_explained_and_explain_off``;
- ``MoreLikeThisTests``: ``test_neighbours_by_meaning_without_the_parent``,
  ``test_scope_inside_the_neighbours``, ``test_filters_and_paging``, and the ``vector``/``hybrid`` cases
  of ``test_exclude_parents_in_text_searches``;
- ``UnderstandingTests``: the ``vector``/``hybrid`` cases of
  ``test_boost_multiplies_the_fused_score_and_filters_nothing`` and ``test_boost_ranks_the_concept_first``;
- ``test_knn_query_keeps_the_scope_inside`` (this module): the kNN query on a real cluster, skipped on
  osmem (the only skipped test there).

Everything runs on osmem in CI: BM25, filters and their parity with the reference mask, facets and totals
as engine aggregations, scope, sorting, dates, spelling, snippets, writes, erasure, an unreachable cluster,
and the vector side through the exact path.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opensearchpy import OpenSearch
from opensearchpy.exceptions import RequestError

from search.opensearch import OpenSearchBackend
from search.testdata import MODES
from search.testing import (
    AccessScopeTests,
    ExplanationTests,
    FacetTests,
    FilterParityTests,
    MoreLikeThisTests,
    RetrievalTests,
    SortAndDateTests,
    file_store,
)
from search.testing_understanding import UnderstandingTests

KNN = pytest.mark.opensearch_knn
REAL_CLUSTER = os.environ.get("TFE_OPENSEARCH_URL")
STARTUP_S = 30.0


@pytest.fixture(scope="session")
def cluster() -> Iterator[tuple[str, str]]:
    """(url, analyzer): the real cluster of ``TFE_OPENSEARCH_URL``, else an osmem-server process."""
    if REAL_CLUSTER:
        yield REAL_CLUSTER, "tfe_french"
        return
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False, startup_timeout=STARTUP_S)
    try:
        yield server.url, "french"
    finally:
        server.close()


@pytest.fixture(scope="session")
def knn_supported(cluster: tuple[str, str]) -> bool:
    """Whether the server answers a kNN query (osmem: 400 unsupported_operation_exception)."""
    client = OpenSearch(hosts=[cluster[0]], timeout=10)
    name = f"tfe-knn-probe-{uuid.uuid4().hex[:8]}"
    client.indices.create(
        index=name,
        body={
            "settings": {"knn": True},
            "mappings": {"properties": {"v": {"type": "knn_vector", "dimension": 2}}},
        },
    )
    try:
        client.search(index=name, body={"query": {"knn": {"v": {"vector": [1.0, 0.0], "k": 1}}}})
        return True
    except RequestError:
        return False
    finally:
        client.indices.delete(index=name)
        client.close()


def make_backend(cluster: tuple[str, str], tmp_path: Path, knn: bool, **kw: Any) -> OpenSearchBackend:
    url, analyzer = cluster
    index = f"tfe-test-{uuid.uuid4().hex[:12]}"
    texts = file_store(tmp_path / f"{index}.sqlite3")
    search = "knn" if knn else "exact"
    return OpenSearchBackend(url, texts, index=index, analyzer=analyzer, vector_search=search, **kw)


@pytest.fixture
def backend(cluster: tuple[str, str], knn_supported: bool, tmp_path: Path) -> Iterator[OpenSearchBackend]:
    b = make_backend(cluster, tmp_path, knn_supported)
    yield b
    b.drop()
    b.close()


def knn(test: Callable[..., None]) -> Callable[..., None]:
    """A mixin test that needs kNN search (marked ``opensearch_knn``)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        test(*args, **kwargs)

    wrapper.pytestmark = [*getattr(test, "pytestmark", []), KNN]  # type: ignore[attr-defined]
    return wrapper


def knn_modes(test: Callable[..., None]) -> Callable[..., None]:
    """A mixin test parametrized by ``mode``: its ``vector`` and ``hybrid`` cases need kNN search."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        test(*args, **kwargs)

    own = getattr(test, "pytestmark", [])
    marks = [m for m in own if not (m.name == "parametrize" and m.args[0] == "mode")]
    listed = next((list(m.args[1]) for m in own if m.name == "parametrize" and m.args[0] == "mode"), MODES)
    modes = [pytest.param(m, marks=() if m == "bm25" else KNN, id=m) for m in listed]
    wrapper.pytestmark = [*marks, pytest.mark.parametrize("mode", modes)]  # type: ignore[attr-defined]
    return wrapper


class _Gate:
    """The vector side's tests say which path they took (``-rA`` shows it)."""

    @pytest.fixture(autouse=True)
    def _vector_path(self, request: pytest.FixtureRequest, knn_supported: bool) -> None:
        if request.node.get_closest_marker("opensearch_knn"):
            request.node.user_properties.append(("vector_search", "knn" if knn_supported else "exact"))


class TestOpenSearchRetrieval(_Gate, RetrievalTests):
    test_user_syntax_never_raises = knn(RetrievalTests.test_user_syntax_never_raises)
    test_vector_finds_paraphrase = knn(RetrievalTests.test_vector_finds_paraphrase)
    test_hybrid_ranks_relevant_first = knn(RetrievalTests.test_hybrid_ranks_relevant_first)
    test_nonsense_finds_nothing = knn_modes(RetrievalTests.test_nonsense_finds_nothing)
    test_keyword_queries_require_every_term = knn(RetrievalTests.test_keyword_queries_require_every_term)
    test_results_grouped_per_parent = knn(RetrievalTests.test_results_grouped_per_parent)
    test_write_replaces_by_id_and_delete_parent = knn(
        RetrievalTests.test_write_replaces_by_id_and_delete_parent
    )
    test_backfill_embeddings = knn(RetrievalTests.test_backfill_embeddings)


class TestOpenSearchFacets(_Gate, FacetTests):
    test_filters_apply_to_every_mode = knn(FacetTests.test_filters_apply_to_every_mode)


class TestOpenSearchAccessScope(_Gate, AccessScopeTests):
    test_scope_inside_every_query = knn_modes(AccessScopeTests.test_scope_inside_every_query)
    test_other_organisation_never_visible = knn(AccessScopeTests.test_other_organisation_never_visible)


class TestOpenSearchSortAndDates(_Gate, SortAndDateTests):
    test_sort_by_date_newest_and_oldest_first = knn_modes(
        SortAndDateTests.test_sort_by_date_newest_and_oldest_first
    )
    test_date_range_inclusive_whole_days = knn_modes(SortAndDateTests.test_date_range_inclusive_whole_days)


class TestOpenSearchExplanations(_Gate, ExplanationTests):
    test_terms_as_typed_stemmed = knn_modes(ExplanationTests.test_terms_as_typed_stemmed)
    test_meaning_and_similarity = knn(ExplanationTests.test_meaning_and_similarity)
    test_hybrid_says_both_sides = knn(ExplanationTests.test_hybrid_says_both_sides)
    test_every_hit_explained_and_explain_off = knn(ExplanationTests.test_every_hit_explained_and_explain_off)


class TestOpenSearchMoreLikeThis(_Gate, MoreLikeThisTests):
    test_neighbours_by_meaning_without_the_parent = knn(
        MoreLikeThisTests.test_neighbours_by_meaning_without_the_parent
    )
    test_scope_inside_the_neighbours = knn(MoreLikeThisTests.test_scope_inside_the_neighbours)
    test_filters_and_paging = knn(MoreLikeThisTests.test_filters_and_paging)
    test_exclude_parents_in_text_searches = knn_modes(MoreLikeThisTests.test_exclude_parents_in_text_searches)


class TestOpenSearchUnderstanding(_Gate, UnderstandingTests):
    test_boost_multiplies_the_fused_score_and_filters_nothing = knn_modes(
        UnderstandingTests.test_boost_multiplies_the_fused_score_and_filters_nothing
    )
    test_boost_ranks_the_concept_first = knn_modes(UnderstandingTests.test_boost_ranks_the_concept_first)


class TestOpenSearchFilterParity(FilterParityTests):
    """The cluster's filter query against the reference mask (``search.columns``) on the stored meta."""


@KNN
def test_knn_query_keeps_the_scope_inside(
    cluster: tuple[str, str], knn_supported: bool, tmp_path: Path
) -> None:
    """The kNN query with the filter inside answers as the exact path does (a real cluster only)."""
    if not knn_supported:
        pytest.skip("needs kNN search: osmem-server has none; set TFE_OPENSEARCH_URL to a real cluster")
    from dataclasses import replace

    from search.testdata import ANONYMOUS, corpus_passages, parents, run, visible

    b = make_backend(cluster, tmp_path, knn=True)
    try:
        b.write([replace(p) for p in corpus_passages()])
        b.commit()
        found = run(b, "stratégie confidentielle organisation deux", scope=ANONYMOUS, mode="vector", limit=50)
        assert set(parents(found)) <= visible(ANONYMOUS)
        assert parents(run(b, "automobiles électriques", scope=ANONYMOUS, mode="vector"))[0] == "doc-auto"
        exact = OpenSearchBackend(b.url, b.texts, index=b.index, analyzer=b.analyzer, vector_search="exact")
        for text in ("vins Allemagne", "énergie solaire"):
            assert parents(run(b, text, mode="hybrid")) == parents(run(exact, text, mode="hybrid"))
    finally:
        b.drop()
        b.close()
