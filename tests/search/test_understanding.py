"""Query understanding: the recogniser (taxonomy.query_concepts), boosts and expansions
(search.understanding) and the service's ``understood`` answer and filter suggestions."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from search.embedded import EmbeddedBackend
from search.service import SearchService
from search.testdata import SYSTEM, shared_embedder
from search.testing_understanding import understanding_passages
from search.understanding import CORRECTION_WEIGHT, SYNONYM_WEIGHT, corrections_of, understand
from taxonomy.query_concepts import recognise, recogniser_for
from taxonomy.referential import Referential

REF = Referential.load()


def found(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.facet, c.concept_id, c.words) for c in recognise(REF, text)]


def test_vins_allemagne() -> None:
    assert found("vins Allemagne") == [
        ("sector", "naf:11.02", ("vins",)),
        ("country", "country:DE", ("Allemagne",)),
    ]
    assert found("vin") == [("sector", "naf:11.02", ("vin",))]


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Turkey", "country:TR"),
        ("marché allemand", "country:DE"),
        ("German wine", "country:DE"),
        ("exporter aux États-Unis", "country:US"),
        ("Afrique subsaharienne", "region:202"),  # the longest name, not « Afrique »
        ("fabrication de bière", "naf:11.05"),
        ("boissons", "naf:11.0"),  # division 11 and group 11.0 share the label: the most specific
    ],
)
def test_names_demonyms_zones_and_labels(text: str, concept: str) -> None:
    assert concept in [cid for _f, cid, _w in found(text)]


@pytest.mark.parametrize(
    "text", ["turkey", "information sur le marché", "mode de paiement", "formation des vendeurs", "Maurice"]
)
def test_no_concept_for_common_or_ambiguous_words(text: str) -> None:
    assert found(text) == []


def test_recogniser_built_once_per_referential() -> None:
    assert recogniser_for(REF) is recogniser_for(REF)
    assert recogniser_for(Referential.from_files()) is not recogniser_for(REF)


def test_understand_boosts_synonyms_and_corrections() -> None:
    u = understand("vins Allemagen", partial(recognise, REF), "vins Allemagne")
    assert u.boosts == {"sector": ["naf:11.02", "naf:11"], "country": ["country:DE"]}
    assert u.corrections == (("Allemagen", "Allemagne"),)
    assert ("vins Allemagne", CORRECTION_WEIGHT) in u.expansions  # a keyword query: the whole query
    assert ("vins allemand", SYNONYM_WEIGHT) in u.expansions and "Germany" in u.synonyms
    assert "Allemagne" not in u.synonyms  # already in the query
    question = understand("Quel est le premier client des vins de France ?", partial(recognise, REF))
    assert ("française", SYNONYM_WEIGHT) in question.expansions  # a question: the synonym alone
    assert corrections_of("a b", "a b c") == []  # words that do not align are no correction
    assert understand("", partial(recognise, REF)).boosts == {}


@pytest.fixture
def service(tmp_path: Path) -> SearchService:
    backend = EmbeddedBackend(tmp_path / "index")
    backend.write([replace(p) for p in understanding_passages()])
    backend.commit()
    return SearchService(
        backend, shared_embedder(), REF.label, REF.resolve, recogniser=partial(recognise, REF)
    )


def test_service_boosts_german_wine_and_still_finds_french(service: SearchService) -> None:
    out = service.search("vins Allemagne", SYSTEM, mode="bm25")
    ids = [h["id"] for h in out["hits"]]
    assert ids.index("u-vins-de") < ids.index("u-vins-fr")
    assert "u-allemand" in ids  # found by the synonym « allemand »
    assert "u-auto" not in ids  # a keyword query's synonyms keep the other words required
    assert out["understood"]["concepts"] == [
        {"facet": "sector", "id": "naf:11.02", "label": REF.label("naf:11.02"), "words": ["vins"]},
        {"facet": "country", "id": "country:DE", "label": "Allemagne", "words": ["Allemagne"]},
    ]
    plain = SearchService(service.backend, None).search("vins Allemagne", SYSTEM, mode="bm25")
    assert plain["hits"][0]["id"] == "u-vins-fr"  # without understanding


def test_typo_query_finds_the_german_wine(service: SearchService) -> None:
    out = service.search("vins Allemagen", SYSTEM, mode="bm25")
    assert out["understood"]["corrections"] == [{"word": "Allemagen", "correction": "Allemagne"}]
    ids = [h["id"] for h in out["hits"]]
    assert ids[0] in {"u-vins-de", "u-allemand"} and "u-vins-de" in ids  # the German wine documents


def test_filter_suggestions_count_what_they_give(service: SearchService) -> None:
    out = service.search("vins Allemagne", SYSTEM, mode="bm25")
    offered = {s["facet"]: s for s in out["suggestions"] if s["kind"] == "filter"}
    assert set(offered) == {"sector", "country"}
    de = offered["country"]
    assert de["q"] == "vins" and de["country"] == ["country:DE"] and de["label"] == "Allemagne"
    again = service.search(de["q"], SYSTEM, country=de["country"], mode="bm25")
    assert again["total"] == de["total"] > 0
    assert {h["id"] for h in again["hits"]} <= {"u-vins-de", "u-allemand"}
    # a filter already applied is not offered again
    filtered = service.search("vins Allemagne", SYSTEM, country=["DE"], mode="bm25")
    assert "country" not in {s["facet"] for s in filtered["suggestions"] if s["kind"] == "filter"}
