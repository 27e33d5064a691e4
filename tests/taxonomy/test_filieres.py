"""The filière scheme: shipped data (labels, mappings onto existing NAF codes, every division covered or
listed as not covered), ``filieres_for`` and the classifier filling ``result.filieres``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from taxonomy.classifier import Scored, TaxonomyClassifier
from taxonomy.filieres import UNCOVERED_DIVISIONS, covered_codes, filieres_for
from taxonomy.loader import load_taxonomy
from taxonomy.models import Concept as ConceptRow
from taxonomy.nlp import analyse
from taxonomy.referential import Referential

if TYPE_CHECKING:
    from spacy.language import Language


def test_every_filiere_is_labelled_and_maps_onto_existing_naf_codes(ref: Referential) -> None:
    filieres = ref.concepts("filiere")
    assert len([c for c in filieres if c.level == "filiere"]) >= 8
    assert len([c for c in filieres if c.level == "sous-filiere"]) >= 25
    for c in filieres:
        assert c.id == f"filiere:{c.notation}"
        assert c.label_fr and c.label_en and c.definition_fr, c.id
        assert c.mappings, c.id
        for m in c.mappings:
            assert m["relation"] in {"narrowMatch", "exactMatch", "closeMatch", "broadMatch", "relatedMatch"}
            assert m["target"] in ref and ref.concept(m["target"]).scheme == "naf", (c.id, m)
        if c.level == "sous-filiere":
            assert c.broader and ref.concept(c.broader).level == "filiere"
            assert c.id.startswith(c.broader + ".")
        else:
            assert c.broader is None
    assert ref.resolve("Vins et spiritueux", "filiere") == "filiere:agri-agro.vins"
    assert ref.resolve("Medtech", "filiere") == "filiere:sante.dispositifs-medicaux"


def test_every_naf_division_is_covered_or_listed_as_not_covered(ref: Referential) -> None:
    targets = {t for c in ref.concepts("filiere") for t in covered_codes(c)}
    divisions = {c.id for c in ref.concepts("naf") if c.level == "division"}
    covered = {d for d in divisions
               if any(t == d or d in ref.ancestors(t) or t in ref.ancestors(d) for t in targets)}
    assert divisions >= UNCOVERED_DIVISIONS
    assert divisions - covered == UNCOVERED_DIVISIONS  # nothing forgotten, nothing listed by mistake


def test_filieres_for_scores_from_classes_divisions_and_subclasses(ref: Referential) -> None:
    wine = filieres_for(ref, [Scored("naf:11.02", 0.8, ["vin"])])
    scores = {s.concept_id: s.score for s in wine}
    assert scores["filiere:agri-agro.vins"] == 0.8
    assert scores["filiere:agri-agro"] == 0.8  # a sous-filière implies its filière
    assert "filiere:sante" not in scores
    assert any("naf:11.02" in e for e in wine[0].evidence)
    # a sous-classe counts for the class the filière covers
    assert "filiere:agri-agro.vins" in {s.concept_id for s in filieres_for(ref, [Scored("naf:11.02B", 0.7)])}
    # a division broader than a sous-filière's classes counts for half; the filière covering it fully
    drinks = {s.concept_id: s.score for s in filieres_for(ref, [Scored("naf:11", 0.6)], relative_floor=0)}
    assert drinks["filiere:agri-agro"] == 0.6
    assert drinks["filiere:agri-agro.vins"] == 0.3
    assert filieres_for(ref, [Scored("naf:84.11", 0.9)]) == []  # public administration: no filière
    assert filieres_for(ref, []) == []


def test_the_classifier_files_a_french_wine_text_under_vins(
    classifier: TaxonomyClassifier, nlp: Language
) -> None:
    text = ("Les vins de Bordeaux et les vins de Bourgogne progressent en Chine : les domaines viticoles "
            "exportent davantage de vin rouge, et les négociants en vins signent avec des importateurs.")
    analysis = analyse(nlp, text)
    result = classifier.classify(text, lemmas=analysis.lemmas, title="Vins : la Chine importe davantage")
    ids = [f.concept_id for f in result.filieres]
    assert "filiere:agri-agro.vins" in ids
    assert "filiere:agri-agro" in ids
    assert not any(i.startswith("filiere:numerique") for i in ids)
    software = "L'éditeur de logiciels SaaS ouvre un bureau à Singapour pour ses services informatiques."
    other = classifier.classify(software, lemmas=analyse(nlp, software).lemmas)
    assert "filiere:agri-agro.vins" not in [f.concept_id for f in other.filieres]


def test_the_loader_seeds_the_filiere_scheme(db: sessionmaker[Session], ref: Referential) -> None:
    with db() as session:
        counts = load_taxonomy(session, ref)
        session.commit()
        assert counts["filiere"] == len(ref.concepts("filiere"))
        row = session.scalars(select(ConceptRow).where(ConceptRow.id == "filiere:agri-agro.vins")).one()
        assert row.scheme_id == "filiere" and row.broader_id == "filiere:agri-agro"
        assert {"relation": "narrowMatch", "target": "naf:11.02"} in row.mappings
