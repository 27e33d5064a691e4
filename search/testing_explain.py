"""Conformance mixins for explained hits and more like this (issue 11 §2, §3), re-exported by
``search.testing``; like the others they need a ``backend`` fixture (a fresh, empty ``SearchBackend``).

- ``ExplanationTests``: ``Hit.explanation`` names the query words (stemmed or exact, expansions marked)
  found in the best passage, the boosted concepts the hit carries, and which side (BM25, vectors) ranked it.
- ``MoreLikeThisTests``: ``parent_vector`` and the empty-text vector search: neighbours by meaning in the
  caller's scope and filters, the parent itself (``exclude_parents``) left out, above the floor.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from search.backend import SearchBackend
from search.fusion import SIMILAR_FLOOR
from search.testdata import (
    ANONYMOUS,
    CORPUS,
    MEMBER_ORG1,
    MODES,
    SCOPES,
    SYSTEM,
    corpus_passages,
    parents,
    query_vector,
    run,
    visible,
)
from search.types import Hit, Mode, SearchQuery, SearchResult
from tfe.core.security.scope import AccessScope


class _Loaded:
    @pytest.fixture
    def loaded(self, backend: SearchBackend) -> SearchBackend:
        backend.write([replace(p) for p in corpus_passages()])
        backend.commit()
        return backend


def hit_of(result: SearchResult, parent: str) -> Hit:
    return next(h for h in result.hits if h.parent_id == parent)


def why(result: SearchResult, parent: str) -> dict[str, Any]:
    explanation = hit_of(result, parent).explanation
    assert explanation is not None
    return explanation


def similar(backend: SearchBackend, parent: str, scope: AccessScope = SYSTEM, **kw: Any) -> SearchResult:
    """More like ``parent``, as the API asks it: its mean vector, empty text, vector mode, itself excluded."""
    vec = backend.parent_vector(parent)
    assert vec is not None
    query = SearchQuery(
        text="", scope=scope, mode="vector", query_embedding=vec, exclude_parents=(parent,), **kw
    )
    return backend.search(query)


class ExplanationTests(_Loaded):
    """Every hit says which query words its best passage holds, which boosted concepts it carries, and
    whether BM25 and the vectors ranked it."""

    @pytest.mark.parametrize("mode", MODES)
    def test_terms_as_typed_stemmed(self, loaded: SearchBackend, mode: Mode) -> None:
        explanation = why(run(loaded, "vins Allemagne", scope=ANONYMOUS, mode=mode), "doc-vin")
        assert explanation["terms"] == ["vins", "Allemagne"]  # the passage says « vins », « l'Allemagne »
        assert explanation["expanded"] == [] and explanation["concepts"] == []

    def test_only_terms_of_the_best_passage(self, loaded: SearchBackend) -> None:
        result = run(loaded, "vins Japon", scope=ANONYMOUS, mode="bm25", limit=20)  # no passage has both
        assert why(result, "doc-vin")["terms"] == ["vins"]
        assert why(result, "item-chine")["terms"] == ["vins"]  # « vin », stemmed alike
        assert why(run(loaded, "fromages Japon", scope=SYSTEM, mode="bm25"), "doc-fromage")["terms"] == [
            "fromages",
            "Japon",
        ]

    def test_exact_form_and_accents(self, loaded: SearchBackend) -> None:
        assert why(run(loaded, "ENERGIE", mode="bm25"), "doc-energie")["terms"] == ["ENERGIE"]

    @pytest.mark.parametrize(
        ("text", "terms"),
        [
            ("les vins", ["vins"]),
            ("vins NOT Chine", ["vins"]),
            ("vins -Chine", ["vins"]),
            ("vins OR", ["vins"]),
        ],
    )
    def test_stop_words_and_operators_are_not_terms(
        self, loaded: SearchBackend, text: str, terms: list[str]
    ) -> None:
        result = run(loaded, text, scope=ANONYMOUS, mode="bm25")
        assert "doc-vin" in parents(result)
        assert why(result, "doc-vin")["terms"] == terms

    def test_expansions_marked(self, loaded: SearchBackend) -> None:
        result = run(loaded, "vins", mode="bm25", limit=20, expansions=[("viticole", 0.5), ("vins", 0.5)])
        explanation = why(result, "doc-priv1")  # « Le client viticole souhaite exporter ses vins »
        assert explanation["terms"] == ["vins", "viticole"] and explanation["expanded"] == ["viticole"]
        assert why(result, "doc-vin")["expanded"] == []

    def test_boosted_concepts_the_hit_carries(self, loaded: SearchBackend) -> None:
        boosts = {"sector": ["naf:11.02"], "country": ["country:DE"]}
        result = run(loaded, "vins", scope=ANONYMOUS, mode="bm25", boosts=boosts)
        assert why(result, "doc-vin")["concepts"] == [
            {"facet": "sector", "id": "naf:11.02"},
            {"facet": "country", "id": "country:DE"},
        ]
        assert why(result, "item-chine")["concepts"] == [{"facet": "sector", "id": "naf:11.02"}]
        zone = run(loaded, "vins", scope=ANONYMOUS, mode="bm25", boosts={"country": ["region:150"]})
        assert why(zone, "doc-vin")["concepts"] == [{"facet": "country", "id": "region:150"}]  # a zone of DE

    def test_meaning_and_similarity(self, loaded: SearchBackend) -> None:
        text = "automobiles électriques"
        explanation = why(run(loaded, text, mode="vector"), "doc-auto")
        assert explanation["meaning"] and explanation["vector_rank"] == 1
        assert not explanation["lexical"] and explanation["lexical_rank"] is None
        best = next(p.embedding for p in corpus_passages() if p.parent_id == "doc-auto")
        assert best is not None
        assert explanation["similarity"] == pytest.approx(float(best @ query_vector(text)), abs=1e-3)
        bm25 = why(run(loaded, "voitures", mode="bm25"), "doc-auto")
        assert bm25["lexical"] and bm25["lexical_rank"] == 1
        assert not bm25["meaning"] and bm25["similarity"] is None and bm25["vector_rank"] is None

    def test_hybrid_says_both_sides(self, loaded: SearchBackend) -> None:
        explanation = why(run(loaded, "panneaux photovoltaïques énergie solaire Maroc"), "doc-energie")
        assert explanation["lexical"] and explanation["meaning"]
        assert explanation["lexical_rank"] == 1 and explanation["vector_rank"] == 1
        assert explanation["similarity"] > 0.8
        assert set(explanation["terms"]) == {"énergie", "solaire", "Maroc"}

    def test_every_hit_explained_and_explain_off(self, loaded: SearchBackend) -> None:
        for text in ("vins", ""):
            result = run(loaded, text, limit=50)
            assert result.hits and all(h.explanation is not None for h in result.hits)
        browse = why(run(loaded, "", limit=50), "doc-vin")
        assert browse["terms"] == [] and not browse["lexical"] and not browse["meaning"]
        assert all(h.explanation is None for h in run(loaded, "vins", explain=False).hits)


class MoreLikeThisTests(_Loaded):
    """Neighbours by meaning of one parent, in the caller's scope, the parent itself never among them."""

    def test_parent_vector(self, loaded: SearchBackend) -> None:
        vec = loaded.parent_vector("doc-vin")
        assert vec is not None and vec.shape == (len(query_vector("vin")),)
        assert float(np.linalg.norm(vec)) == pytest.approx(1.0, abs=1e-4)
        passages = [p.embedding for p in corpus_passages() if p.parent_id == "doc-vin"]
        mean = np.mean(np.stack(passages), axis=0)  # type: ignore[arg-type]
        assert np.allclose(vec, mean / np.linalg.norm(mean), atol=1e-4)
        assert loaded.parent_vector("doc-missing") is None

    def test_no_vector_yet(self, backend: SearchBackend) -> None:
        backend.write([replace(p, embedding=None) for p in corpus_passages()])
        backend.commit()
        assert backend.parent_vector("doc-vin") is None

    def test_neighbours_by_meaning_without_the_parent(self, loaded: SearchBackend) -> None:
        result = similar(loaded, "doc-vin", limit=50)
        found = parents(result)
        assert "doc-vin" not in found and len(found) == len(set(found))
        assert found[0] in {"doc-priv1", "item-chine", "doc-priv2", "doc-org1", "doc-org2"}  # wine first
        assert result.total == len(found)
        sims = [h.explanation["similarity"] for h in result.hits if h.explanation]
        assert len(sims) == len(found) and sims == sorted(sims, reverse=True)
        assert all(s >= SIMILAR_FLOOR - 1e-6 for s in sims)
        for hit in result.hits:
            assert hit.explanation and hit.explanation["meaning"] and hit.explanation["terms"] == []
        assert dict(result.facets["sector"]).get("naf:11", 0) == len({*found} & _wine())

    def test_scope_inside_the_neighbours(self, loaded: SearchBackend) -> None:
        for scope in SCOPES:
            result = similar(loaded, "doc-vin", scope=scope, limit=50)
            assert set(parents(result)) <= visible(scope) - {"doc-vin"}, scope
            assert result.total <= len(visible(scope) - {"doc-vin"})
        member = parents(similar(loaded, "doc-priv1", scope=MEMBER_ORG1, limit=50))
        assert not {"doc-org2", "doc-priv2", "doc-priv1"} & set(member)  # another organisation's never

    def test_filters_and_paging(self, loaded: SearchBackend) -> None:
        cheese = similar(loaded, "doc-vin", filters={"sector": ["naf:10"]}, limit=50)
        assert parents(cheese) == ["doc-fromage"]
        everything = parents(similar(loaded, "doc-vin", limit=50))
        assert parents(similar(loaded, "doc-vin", limit=2, offset=1)) == everything[1:3]

    @pytest.mark.parametrize("mode", MODES)
    def test_exclude_parents_in_text_searches(self, loaded: SearchBackend, mode: Mode) -> None:
        full = run(loaded, "vins", mode=mode, limit=50)
        less = run(loaded, "vins", mode=mode, limit=50, exclude_parents=("doc-vin", "item-chine"))
        assert {"doc-vin", "item-chine"} <= set(parents(full))
        assert not {"doc-vin", "item-chine"} & set(parents(less))
        assert less.total == full.total - 2
        browse = run(loaded, "", limit=50, exclude_parents=("doc-vin",))
        assert "doc-vin" not in parents(browse) and browse.total == len(CORPUS) - 1


def _wine() -> set[str]:
    return {p for p, (_t, _x, m) in CORPUS.items() if "naf:11" in m["sector_facet"]}
