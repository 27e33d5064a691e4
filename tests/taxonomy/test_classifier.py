from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from taxonomy.classifier import ClassificationResult, TaxonomyClassifier
from taxonomy.nlp import analyse, chunks

if TYPE_CHECKING:
    from spacy.language import Language


def run(classifier: TaxonomyClassifier, nlp: Language, text: str, **kw: str) -> ClassificationResult:
    a = analyse(nlp, text)
    return classifier.classify(text, lemmas=a.lemmas, entities=a.entities, **kw)


def test_analyse(nlp: Language) -> None:
    a = analyse(nlp, "Les vins français s'exportent bien en Allemagne.")
    assert "vin" in a.lemmas and "le" not in a.lemmas and "." not in a.lemmas
    assert ("Allemagne", "LOC") in a.entities


def test_analyse_long_text_in_chunks(nlp: Language) -> None:
    text = "Le vin de Bordeaux. " * 3000
    assert all(len(c) <= 20_000 for c in chunks(text))
    assert "".join(chunks(text)) == text
    a = analyse(nlp, text, max_chars=30_000)
    assert a.lemmas.count("vin") == 1_500  # 30,000 chars of 20-char sentences, across two chunks


def test_wine_export(classifier: TaxonomyClassifier, nlp: Language) -> None:
    text = "Les vins français et les vignobles de Bordeaux s'exportent bien en Allemagne."
    res = run(classifier, nlp, text)
    top = res.sectors[0]
    assert top.concept_id in {"naf:11.02", "naf:01.21"}
    assert res.divisions[0].concept_id in {"naf:11", "naf:01"}
    assert any("vin" in e for e in top.evidence)
    assert 0 < top.score <= 1
    # France, the home country, is dropped when a foreign country is named
    assert [c.concept_id for c in res.countries] == ["country:DE"]


def test_home_country_kept_when_alone(classifier: TaxonomyClassifier, nlp: Language) -> None:
    res = run(classifier, nlp, "Les vins français se vendent bien dans les caves de Bordeaux.")
    assert [c.concept_id for c in res.countries] == ["country:FR"]


@pytest.mark.parametrize(
    ("text", "division"),
    [
        ("Fabrication de parfums et de produits cosmétiques pour l'export", "naf:20"),
        ("Éditeur de logiciels de gestion en mode SaaS", "naf:58"),
        ("Construction d'avions et de moteurs pour l'aéronautique", "naf:30"),
        ("Élevage de vaches laitières et production de lait", "naf:01"),
    ],
)
def test_sectors(classifier: TaxonomyClassifier, nlp: Language, text: str, division: str) -> None:
    res = run(classifier, nlp, text)
    assert division in [d.concept_id for d in res.divisions[:3]]


def test_countries_title_bonus(classifier: TaxonomyClassifier, nlp: Language) -> None:
    res = run(classifier, nlp, "Le Brésil et l'Inde ouvrent leurs marchés.", title="Focus Inde")
    assert res.countries[0].concept_id == "country:IN"
    assert res.countries[0].score > res.countries[1].score
    assert any(e.startswith("title:") for e in res.countries[0].evidence)


@pytest.mark.parametrize(
    ("title", "filename", "text", "expected"),
    [
        ("Devis export", "", "Offre de prix, tarif unitaire HT.", "doctype:quote_template"),
        ("", "modele_devis_2024.docx", "Montant HT", "doctype:quote_template"),
        ("Procédure d'agrément", "", "Étape 1 : dépôt. Étape 2 : validation.", "doctype:process_description"),
        ("Fiche pays Maroc", "", "PIB, population, climat des affaires.", "doctype:country_note"),
        ("", "", "Appel d'offres : date limite de dépôt le 3 mars.", "doctype:tender"),
    ],
)
def test_doc_type(
    classifier: TaxonomyClassifier, title: str, filename: str, text: str, expected: str
) -> None:
    dt = classifier.classify_doc_type(text, title, filename)
    assert dt is not None and dt.concept_id == expected
    assert dt.evidence and 0 < dt.score < 1


def test_doc_type_none_without_cues(classifier: TaxonomyClassifier) -> None:
    assert classifier.classify_doc_type("Bonjour.", "", "") is None


def test_result_is_json_serialisable(classifier: TaxonomyClassifier, nlp: Language) -> None:
    import json

    res = run(classifier, nlp, "Salon du vin à Shanghai : inscription ouverte.")
    data = json.loads(json.dumps(res.to_dict()))
    assert data["doc_type"]["concept_id"] == "doctype:event"
