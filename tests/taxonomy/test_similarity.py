"""The similarity method: e5 embeddings of NAF classes blended with lexical matching."""

from __future__ import annotations

import numpy as np
import pytest
from spacy.language import Language

from search.embeddings import Embedder
from taxonomy.classifier import TaxonomyClassifier
from taxonomy.nlp import analyse, load_nlp
from taxonomy.referential import Referential
from taxonomy.similarity import SectorSimilarity


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_nlp()


@pytest.fixture(scope="module")
def blended() -> TaxonomyClassifier:
    embedder = Embedder()
    return TaxonomyClassifier(Referential.load(), embed_query=embedder.query)


def test_shipped_class_vectors_cover_every_naf_class() -> None:
    sim = SectorSimilarity.load()
    classes = {c.id for c in Referential.load().concepts("naf") if c.level == "class"}
    assert set(sim.ids) == classes
    norms = np.linalg.norm(sim.vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-2)


def test_similarity_ranks_the_division_with_evidence(blended: TaxonomyClassifier, nlp: Language) -> None:
    text = "Élevage de saumons en mer"
    analysis = analyse(nlp, text)
    result = blended.classify(text, lemmas=analysis.lemmas, entities=analysis.entities)
    assert result.divisions[0].concept_id == "naf:03"
    assert result.sectors[0].concept_id.startswith("naf:03.")
    assert any(e.startswith("similarité") for e in result.sectors[0].evidence)
    assert all(0 <= s.score <= 1 for s in result.sectors)


def test_assigned_sectors_are_explained_by_a_matched_term(blended: TaxonomyClassifier, nlp: Language) -> None:
    text = (
        "Maroc : appel d'offres pour une usine de dessalement. Les entreprises françaises du traitement "
        "de l'eau sont invitées à se positionner."
    )
    analysis = analyse(nlp, text)
    result = blended.classify(text, lemmas=analysis.lemmas, entities=analysis.entities)
    assert result.sectors and all(len(s.evidence) > 1 for s in result.sectors)  # similarity + a term
    assert result.divisions[0].concept_id == Referential.load().division_of(result.sectors[0].concept_id)
    assert result.sectors[0].concept_id.startswith(("naf:36", "naf:37"))  # water, not malt
