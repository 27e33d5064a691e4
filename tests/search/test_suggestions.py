"""The relevance floor of the vector side, spelling suggestions from the visible vocabulary, and the
service's « what to try next » when a query finds nothing (the backend contract for the floor and the
scoped spelling is in ``search.testing``: ``RetrievalTests`` and ``AccessScopeTests``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from search import fusion, spelling
from search.embedded import EmbeddedBackend
from search.service import SearchService
from search.testdata import (
    ANONYMOUS,
    corpus_passages,
    parents,
    run,
    shared_embedder,
)


@pytest.fixture
def loaded(tmp_path: Path) -> EmbeddedBackend:
    backend = EmbeddedBackend(tmp_path / "index")
    backend.write([replace(p) for p in corpus_passages()])
    backend.commit()
    return backend


# ---------------------------------------------------------------------- the floor
def test_vector_candidates_below_the_floor_never_count() -> None:
    floor, unmatched = fusion.VECTOR_FLOOR, fusion.VECTOR_FLOOR_UNMATCHED
    assert floor < unmatched
    rows = np.asarray([4, 2, 7], dtype=np.int64)
    scores = np.asarray([unmatched + 0.01, floor + 0.01, floor - 0.01], dtype=np.float32)
    none = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))

    def by_vector(r: np.ndarray, d: int) -> list[int]:
        return list(r.tolist())

    assert fusion.fuse("vector", none, (rows, scores), by_vector, 10, lexical=True).matched.tolist() == [4, 2]
    assert fusion.fuse("vector", none, (rows, scores), by_vector, 10, lexical=False).matched.tolist() == [4]
    # hybrid: no BM25 match means no query word is visible, so the stricter floor holds
    out = fusion.fuse("hybrid", none, (rows[1:], scores[1:]), by_vector, depth=10)
    assert out.matched.tolist() == [] and out.ranked == []
    bm25 = (np.asarray([7], dtype=np.int64), np.asarray([1.5], dtype=np.float32))
    out = fusion.fuse("hybrid", bm25, (rows[1:], scores[1:]), by_vector, depth=10)
    assert out.matched.tolist() == [2, 7]  # 2 reaches the floor; 7 stays as a BM25 match, whatever its cosine


def test_the_floor_keeps_real_queries(loaded: EmbeddedBackend) -> None:
    assert parents(run(loaded, "automobiles électriques", mode="vector"))[0] == "doc-auto"
    assert parents(run(loaded, "voitures à batterie", mode="hybrid"))[0] == "doc-auto"
    assert parents(run(loaded, "vins Allemagne", mode="vector"))[0] == "doc-vin"


def test_facets_count_only_what_passes(loaded: EmbeddedBackend) -> None:
    result = run(loaded, "automobiles électriques", mode="vector", limit=100)
    assert result.total == len(result.hits)
    counted = sum(n for _v, n in result.facets["type"])
    assert counted == result.total  # one type per parent: the facets count exactly the results


# ---------------------------------------------------------------------- spelling
def test_distance_and_best_term() -> None:
    assert spelling.distance("vinz", "vin") == 1
    assert spelling.distance("alemagn", "allemagn") == 1
    assert spelling.distance("ab", "ba") == 1  # a transposition is one edit
    assert spelling.distance("abcdef", "xyz", limit=3) == 3
    vocabulary = [("vin", 5), ("vis", 9), ("vent", 2), ("allemagn", 3)]
    assert spelling.best_term("vinz", vocabulary) == "vin"  # closest first, then most frequent
    assert spelling.best_term("vix", vocabulary) == "vis"
    assert spelling.best_term("zzzqqxx", vocabulary) is None
    assert spelling.best_term("vin", [("vin", 0)]) is None


def test_surface_form_is_the_most_written() -> None:
    texts = ["L'Allemagne importe.", "En Allemagne, les vins.", "allemagne"]
    assert spelling.surface_form("allemagn", texts, lambda w: [w[:8]]) == "Allemagne"
    assert spelling.surface_form("fromag", ["Fromages", "les fromages"], lambda w: [w[:6]]) == "fromages"


# ---------------------------------------------------------------------- the service
@pytest.fixture
def service(loaded: EmbeddedBackend) -> SearchService:
    return SearchService(loaded, shared_embedder(), None)


def test_nonsense_answers_nothing_but_suggests_browsing(service: SearchService) -> None:
    out = service.search("zzzqqxx", ANONYMOUS)
    assert out["total"] == 0 and out["hits"] == []
    assert out["facets"] == {
        "sector": [], "country": [], "type": [], "org": [], "language": [], "filiere": [], "signal": []
    }
    assert out["suggestions"] and {s["kind"] for s in out["suggestions"]} == {"browse"}
    public = service.search("", ANONYMOUS, limit=100)
    for s in out["suggestions"]:
        assert s["total"] > 0 and s["q"] == "" and s["sector"] == [s["label"]]
        assert {"id": s["label"], "label": s["label"], "count": s["total"]} in public["facets"]["sector"]


def test_misspelt_query_is_corrected(service: SearchService) -> None:
    out = service.search("vinz Alemagne", ANONYMOUS)
    spelt = [s for s in out["suggestions"] if s["kind"] == "spelling"]
    assert spelt and spelt[0]["q"] == "vins Allemagne" and spelt[0]["total"] >= 1
    assert service.search("vins Allemagne", ANONYMOUS)["suggestions"] == []


def test_no_result_offers_to_drop_a_filter(service: SearchService) -> None:
    out = service.search("vins", ANONYMOUS, sector=["naf:35"], country=["country:DE"], mode="bm25")
    assert out["total"] == 0
    removals = {s["facet"]: s for s in out["suggestions"] if s["kind"] == "remove_filter"}
    assert set(removals) == {"sector"}  # without the country filter, « vins » in energy still finds nothing
    assert removals["sector"]["sector"] == [] and removals["sector"]["country"] == ["country:DE"]
    assert removals["sector"]["q"] == "vins" and removals["sector"]["total"] >= 1
    several = service.search("vins", ANONYMOUS, sector=["naf:35", "naf:10"], mode="bm25")
    (drop,) = [s for s in several["suggestions"] if s["kind"] == "remove_filter"]
    assert drop["sector"] == [] and drop["label"] == "naf:35 ou naf:10"  # OR-ed values go together


def test_spelling_for_keywords_or_when_nothing_is_found(service: SearchService) -> None:
    short = service.search("vins Alemagne", ANONYMOUS)  # one unknown word: no exact match
    assert short["total"] > 0
    assert [s["q"] for s in short["suggestions"] if s["kind"] == "spelling"] == ["vins Allemagne"]
    question = service.search("les exportations de vinz progressent en Allemagne", ANONYMOUS)
    assert question["total"] > 0 and question["suggestions"] == []  # found: no advice on a long question
    lost = service.search("zzzqqxx vinz en Alemagne", ANONYMOUS, mode="bm25")  # long, and nothing found
    assert lost["total"] == 0
    assert [s["q"] for s in lost["suggestions"] if s["kind"] == "spelling"] == ["zzzqqxx vins en Allemagne"]
