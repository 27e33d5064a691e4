"""Matching rules as data (contract C1): each kind, language, negatives, weight, fuzzy threshold,
validation messages, speed, and the sector keywords carried as NAF concept rules."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from taxonomy.loader import load_taxonomy
from taxonomy.models import Concept as ConceptRow
from taxonomy.models import TaxonomyChange
from taxonomy.nlp import lemmas_of
from taxonomy.referential import Referential
from taxonomy.rules import RuleSet, rules_for, try_rules, validate_rules
from taxonomy.rules_seed import keyword_rules
from taxonomy.sectors import SectorMatcher
from tfe.core.db import session_scope
from tfe.core.errors import ValidationError

if TYPE_CHECKING:
    from spacy.language import Language

TEXT = ("Le vignoble bordelais exporte ses vins rouges. Un appel d’offres pour le traitement des eaux "
        "à Hanoï a été publié. La bière reste marginale.")


def _matched(rule: dict[str, Any], text: str = TEXT, language: str = "fr") -> list[str]:
    return [h.matched for h in try_rules([rule], text, language)]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"kind": "any", "pattern": "vin"}, ["vins"]),  # plural in the text, singular in the rule
        ({"kind": "any", "pattern": "cidre vignobles"}, ["vignoble"]),
        ({"kind": "any", "pattern": "cidre poiré"}, []),
        ({"kind": "all", "pattern": "vin bière"}, ["vins + bière"]),
        ({"kind": "all", "pattern": "vin cidre"}, []),
        ({"kind": "phrase", "pattern": "appel d'offres"}, ["appel d’offres"]),  # apostrophes unified
        ({"kind": "phrase", "pattern": "Traitement des Eaux"}, ["traitement des eaux"]),
        ({"kind": "phrase", "pattern": "eaux traitement"}, []),  # order matters
        ({"kind": "phrase", "pattern": "vigne"}, []),  # word boundaries: not inside « vignoble »
        ({"kind": "regex", "pattern": r"appels?\s+d'offres?"}, ["appel d’offres"]),
        ({"kind": "regex", "pattern": r"\bhanoï\b"}, ["Hanoï"]),  # folded pattern on folded text
        ({"kind": "regex", "pattern": r"\bignoble"}, []),  # leading \b still checked
        ({"kind": "fuzzy", "pattern": "vignobles"}, ["vignoble"]),
        ({"kind": "fuzzy", "pattern": "traitment des eau", "threshold": 80}, ["traitement des eaux"]),
    ],
)
def test_each_kind(rule: dict[str, Any], expected: list[str]) -> None:
    assert _matched(rule) == expected


def test_fuzzy_threshold_decides() -> None:
    rule = {"kind": "fuzzy", "pattern": "vignolbe"}
    assert _matched({**rule, "threshold": 70}) == ["vignoble"]
    assert _matched({**rule, "threshold": 95}) == []


def test_language_filter() -> None:
    rule = {"kind": "any", "pattern": "vin", "language": "en"}
    assert _matched(rule, language="fr") == []
    assert _matched(rule, language="en") == ["vins"]
    assert _matched(rule, language="") == ["vins"]  # unknown language: every rule runs
    assert _matched({**rule, "language": "fr"}, language="fr-FR") == ["vins"]


def test_negative_terms_veto_the_rule() -> None:
    rule = {"kind": "any", "pattern": "vin", "negative": ["bières"]}  # lemma-aware negatives too
    assert _matched(rule) == []
    assert _matched({**rule, "negative": ["cidre"]}) == ["vins"]
    assert _matched({"kind": "regex", "pattern": r"\btenders?\b", "negative": ["tender offer"]},
                    "Acme launches a tender offer for Beta", "en") == []


def test_weight_count_and_lemmas() -> None:
    hits = try_rules([{"kind": "any", "pattern": "vin", "weight": 2.5}], "vin, vins et encore du vin")
    assert [(h.weight, h.count, h.rule_index, h.concept_id) for h in hits] == [(2.5, 2, 0, "")]
    # a lemma of the text counts where the word itself does not occur
    rule = {"kind": "any", "pattern": "vinifier"}
    assert [h.matched for h in try_rules([rule], "rien", lemmas=["vinifier"])] == ["vinifier"]
    assert try_rules([{"kind": "any", "pattern": "vinifier"}], "rien") == []


def test_hits_name_the_rule_and_what_matched() -> None:
    hit = try_rules([{"kind": "regex", "pattern": r"appels?\s+d'offres?"}], TEXT)[0]
    assert hit.to_dict()["pattern"] == r"appels?\s+d'offres?"
    assert "regex" in hit.label() and "appel d’offres" in hit.label()


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"kind": "any", "pattern": "a"}, {"kind": "regex", "pattern": "(vin"}],
         "règle 2 : expression régulière invalide"),
        ([{"kind": "word", "pattern": "vin"}], "règle 1 : type inconnu"),
        ([{"kind": "any", "pattern": "   "}], "règle 1 : le motif ne peut pas être vide"),
        ([{"kind": "any", "pattern": "!!"}], "au moins un mot"),
        ([{"kind": "fuzzy", "pattern": "vin", "threshold": 101}], "entre 0 et 100"),
        ([{"kind": "fuzzy", "pattern": "vin", "threshold": 80.5}], "entre 0 et 100"),
        ([{"kind": "regex", "pattern": "a" * 501}], "motif trop long (501 caractères, au plus 500)"),
        ([{"kind": "regex", "pattern": r"(\w+)+$"}], "quantificateurs imbriqués"),
        ([{"kind": "regex", "pattern": "x*"}], "accepte le texte vide"),
        ([{"kind": "any", "pattern": "vin", "language": "de"}], "langue inconnue"),
        ([{"kind": "any", "pattern": "vin", "weight": 0}], "le poids"),
        ([{"kind": "any", "pattern": "vin", "weight": True}], "le poids"),
        ([{"kind": "any", "pattern": "vin", "negative": [3]}], "terme négatif invalide"),
        ([{"kind": "any", "pattern": "vin", "colour": "red"}], "champ inconnu « colour »"),
        (["vin"], "règle 1 : attendu un objet"),
        ("vin", "attendu une liste"),
    ],
)
def test_validation_errors_are_french_and_name_the_rule(rules: Any, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_rules(rules)
    assert message in exc.value.message


def test_validation_normalises() -> None:
    out = validate_rules([{"kind": "fuzzy", "pattern": "  vin   rouge ", "negative": ["rosé", "rosé", ""],
                           "language": "FR", "weight": 2}, {"kind": "any", "pattern": "x", "threshold": 50}])
    assert out == [
        {"kind": "fuzzy", "pattern": "vin rouge", "language": "fr", "negative": ["rosé"], "weight": 2.0,
         "threshold": 85},
        {"kind": "any", "pattern": "x", "language": "", "negative": [], "weight": 1.0},
    ]


def test_a_scheme_wide_rule_set_is_fast(ref: Referential, nlp: Language) -> None:
    rules = rules_for(ref)
    assert rules is rules_for(ref) and len(rules) > 150  # NAF keywords and signals, compiled once
    sentence = ("Le groupe annonce l'ouverture d'une nouvelle usine de vins au Maroc après un appel "
                "d'offres ; la levée de fonds finance le salon. ")
    text = (sentence * (5_000 // len(sentence) + 1))[:5_000]
    lemmas = lemmas_of(nlp(text))
    rules.match(text, "fr", lemmas)
    start = time.perf_counter()
    for _ in range(10):
        hits = rules.match(text, "fr", lemmas)
    per_call = (time.perf_counter() - start) / 10
    assert {"naf:11.02", "signal:tender", "signal:investment"} <= {h.concept_id for h in hits}
    assert per_call < 0.025  # a few ms on an idle core; generous for a loaded CI machine


def test_sector_keywords_are_naf_rules(ref: Referential) -> None:
    wine = ref.concept("naf:11.02")
    assert {"kind": "any", "pattern": "vin", "language": "fr", "negative": [], "weight": 2.0} in wine.rules
    water = ref.concept("naf:11.07").rules
    assert any(r["kind"] == "phrase" and r["pattern"] == "eau minérale" for r in water)
    shipped = keyword_rules()
    assert all(cid in ref for cid in shipped)  # every keyword target is a concept
    for cid, rules in shipped.items():
        assert list(ref.concept(cid).rules) == validate_rules(rules)


def test_sector_matcher_reads_the_concepts_rules(ref: Referential) -> None:
    text = "Nous exportons du pineau des Charentes."
    before = SectorMatcher(ref).score([], text)
    assert all(s.concept_id != "naf:11.04" for s in before[:1])
    concepts = [c for s in ("naf",) for c in ref.concepts(s)]
    edited = [
        c if c.id != "naf:11.04" else type(c)(**{**c.__dict__, "rules": (
            {"kind": "phrase", "pattern": "pineau des charentes", "weight": 3.0},
            {"kind": "any", "pattern": "pineau", "negative": ["pinot"]},
        )})
        for c in concepts
    ]
    scores = SectorMatcher(Referential(edited, ref.lemmas)).score([], text)
    assert scores[0].concept_id == "naf:11.04"
    assert scores[0].evidence[:2] == ["règle any « pineau »", "règle phrase « pineau des charentes »"]
    vetoed = SectorMatcher(Referential(edited, ref.lemmas)).score([], text + " Et du pinot.")
    assert vetoed[0].evidence == ["règle phrase « pineau des charentes »"]  # the negative vetoed one rule


def test_from_rules_validates_and_ignores_nothing_silently() -> None:
    with pytest.raises(ValidationError):
        RuleSet.from_rules({"x": [{"kind": "regex", "pattern": "[a"}]})
    rs = RuleSet.from_rules({"a": [{"kind": "any", "pattern": "vin"}],
                             "b": [{"kind": "any", "pattern": "eau"}],
                             "c": [{"kind": "any", "pattern": "cidre"}]})
    assert [h.concept_id for h in rs.match(TEXT)] == ["a", "b"] and rs.concept_ids == ("a", "b", "c")


def test_loader_fills_missing_rules_but_not_curated_ones(db: sessionmaker[Session]) -> None:
    with session_scope(db) as s:
        load_taxonomy(s)
    with session_scope(db) as s:  # a database seeded before rules existed; one concept a curator touched
        for cid in ("naf:11.02", "naf:20.42"):
            s.get(ConceptRow, cid).rules = []  # type: ignore[union-attr]
        s.add(TaxonomyChange(action="rules", concept_id="naf:20.42", before={"naf:20.42": {}},
                             after={"naf:20.42": {}}))
    with session_scope(db) as s:
        counts = load_taxonomy(s)
    assert counts["updated"] == 1
    with db() as s:
        rules: dict[str, Any] = dict(s.execute(select(ConceptRow.id, ConceptRow.rules).where(
            ConceptRow.id.in_(["naf:11.02", "naf:20.42"]))).all())
    assert rules["naf:20.42"] == [] and {"kind": "any", "pattern": "vin", "language": "fr", "negative": [],
                                          "weight": 2.0} in rules["naf:11.02"]
