"""``search.explain``: query words, matched terms (stemmed and exact, with Tantivy's French chains),
boosted concepts, ranks in the two lists, and one page's explanations."""

from __future__ import annotations

import numpy as np
import pytest

from search import explain
from search import tantivy_index as ti
from search.testdata import SYSTEM
from search.types import Passage, SearchQuery

ANALYZERS = (ti.french_analyzer().analyze, ti.french_analyzer(stem=False).analyze)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("vins Allemagne", ["vins", "Allemagne"]),
        ("Vins vins VINS", ["Vins"]),
        ('"vins allemands" AND Bordeaux', ["vins", "allemands", "Bordeaux"]),
        ("vins -Chine", ["vins"]),
        ("vins NOT Chine Japon", ["vins", "Japon"]),
        ("(vins OR bières)", ["vins", "bières"]),
        ("États-Unis l'export", ["États-Unis", "l'export"]),
        ("title:vin", ["title", "vin"]),
        ("+-!^~*", []),
        ("", []),
    ],
)
def test_query_words(text: str, words: list[str]) -> None:
    assert explain.query_words(text) == words


PASSAGE = "Export de vins en Allemagne\nLes exportations de vins français vers l'Allemagne ont progressé."


@pytest.mark.parametrize(
    ("words", "found"),
    [
        (["vin", "allemagne"], ["vin", "allemagne"]),  # stemmed: « vins », « Allemagne »
        (["VINS", "Japon"], ["VINS"]),
        (["francais"], ["francais"]),  # folded: « français »
        (["exportation"], ["exportation"]),
        (["les", "de"], []),  # stop words have no term
        (["États-Unis"], []),
        (["progresse"], ["progresse"]),
    ],
)
def test_matched_terms_stemmed_or_exact(words: list[str], found: list[str]) -> None:
    assert explain.matched_terms(words, [], PASSAGE, ANALYZERS) == (found, [])


def test_a_word_of_several_terms_needs_all() -> None:
    text = "Exporter vers les États-Unis"
    assert explain.matched_terms(["États-Unis"], [], text, ANALYZERS)[0] == ["États-Unis"]
    assert explain.matched_terms(["Etats-Généraux"], [], text, ANALYZERS)[0] == []


def test_exact_chain_catches_what_stemming_splits() -> None:
    # with only the stemmed chain an exact form still matches (same stem); with only the exact chain a
    # different inflection does not: both chains together find both
    stem_only, exact_only = ANALYZERS[:1], ANALYZERS[1:]
    assert explain.matched_terms(["vin"], [], PASSAGE, exact_only)[0] == []
    assert explain.matched_terms(["vin"], [], PASSAGE, stem_only)[0] == ["vin"]
    assert explain.matched_terms(["vins"], [], PASSAGE, exact_only)[0] == ["vins"]


def test_expansions_after_typed_words_and_marked() -> None:
    terms, expanded = explain.matched_terms(
        ["vins"], [("Allemagne", 0.5), ("VINS", 0.5), ("bière", 0.5), ("allemagne", 0.3)], PASSAGE, ANALYZERS
    )
    assert terms == ["vins", "Allemagne"] and expanded == ["Allemagne"]


def test_matched_concepts() -> None:
    meta = {
        "sectors": ["naf:C", "naf:11", "naf:11.02"],
        "sector_facet": ["naf:11"],
        "countries": ["country:DE"],
        "regions": ["region:150", "region:155"],
        "doc_type": "doctype:news",
    }
    boosts = {
        "sector": ["naf:11", "naf:11", "naf:10"],
        "country": ["country:FR", "region:150"],
        "type": ["doctype:news"],
    }
    assert explain.matched_concepts(boosts, meta) == [
        {"facet": "sector", "id": "naf:11"},
        {"facet": "country", "id": "region:150"},
        {"facet": "type", "id": "doctype:news"},
    ]
    assert explain.matched_concepts({"country": ["country:DE"]}, {}) == []


def test_ranks_of() -> None:
    rows = np.asarray([7, 3, 9, 1], dtype=np.int64)
    assert explain.ranks_of(rows, [9, 7, 42]) == {9: 3, 7: 1}
    assert explain.ranks_of(np.zeros(0, dtype=np.int64), [1]) == {}
    assert explain.ranks_of(rows, []) == {}


def test_page() -> None:
    p = Passage(id="a:0", parent_id="a", title="Export de vins", text="Vers l'Allemagne.", meta={})
    q = Passage(
        id="b:0", parent_id="b", title="Fromages", text="Au Japon.", meta={"countries": ["country:JP"]}
    )
    query = SearchQuery(
        text="vins Japon", scope=SYSTEM, query_embedding=np.ones(2), boosts={"country": ["country:JP"]}
    )
    lists = explain.Lists(lexical=np.asarray([5, 8]), vector=np.asarray([8]))
    out = explain.page(query, [(5, p), (8, q)], lists, lambda rows: [0.5, None], ANALYZERS)
    assert out[5] == {
        "terms": ["vins"],
        "expanded": [],
        "concepts": [],
        "lexical": True,
        "meaning": False,
        "similarity": 0.5,
        "lexical_rank": 1,
        "vector_rank": None,
    }
    assert out[8]["terms"] == ["Japon"] and out[8]["meaning"] and out[8]["vector_rank"] == 1
    assert out[8]["concepts"] == [{"facet": "country", "id": "country:JP"}] and out[8]["similarity"] is None
    browse = explain.page(SearchQuery(text="", scope=SYSTEM), [(5, p)], None, lambda rows: [1.0], ANALYZERS)
    assert browse[5]["similarity"] is None and not browse[5]["lexical"] and browse[5]["terms"] == []


def test_why_fr() -> None:
    explanation = {
        "terms": ["vins", "Allemagne", "viticole"],
        "expanded": ["viticole"],
        "concepts": [
            {"facet": "sector", "id": "naf:11.02", "label": "Fabrication de vins"},
            {"facet": "country", "id": "region:150", "label": "Europe"},
        ],
        "meaning": True,
        "similarity": 0.8712,
    }
    assert explain.why_fr(explanation) == (
        "Pourquoi : mots « vins », « Allemagne » · variante « viticole » · secteur Fabrication de vins"
        " · zone Europe · sens proche (0,87)"
    )
    assert (
        explain.why_fr({"terms": ["vins"], "meaning": False, "similarity": 0.9}) == "Pourquoi : mot « vins »"
    )
    assert explain.why_fr({"terms": [], "concepts": [], "meaning": False, "similarity": None}) == ""
    assert explain.why_fr(None) == ""
