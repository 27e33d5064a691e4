"""The classifier with a learned model: method, explanation (terms, rules, neighbours), stored rows."""

from __future__ import annotations

import numpy as np
import pytest
from spacy.language import Language

from search.embeddings import Embedder
from taxonomy.classifications import classifications_of, save_classifications
from taxonomy.classifier import TaxonomyClassifier
from taxonomy.examples import Example
from taxonomy.learned import seed_model, train
from taxonomy.nlp import analyse
from taxonomy.referential import Referential
from taxonomy.text import fold
from tests.taxonomy.conftest import Opener
from tfe.core.db import session_scope

SALMON = "Élevage de saumons en mer"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def test_zero_shot_explains_with_terms_and_seed_neighbours(
    ref: Referential, nlp: Language, embedder: Embedder
) -> None:
    clf = TaxonomyClassifier(ref, embed_query=embedder.query)
    analysis = analyse(nlp, SALMON)
    result = clf.classify(SALMON, lemmas=analysis.lemmas, entities=analysis.entities)
    best = result.sectors[0]
    assert best.method == "similarity" and best.concept_id.startswith("naf:03.")
    ex = best.explanation
    assert ex is not None and ex["terms"]
    assert all(fold(t.split("×")[0]) in fold(SALMON) for t in ex["terms"])  # matched words of the text
    assert ex["neighbours"] and all(n["kind"] == "seed" and n["title"] for n in ex["neighbours"])
    assert ex["similarity"] == ex["neighbours"][0]["similarity"] and 0 < ex["calibrated"] <= 1
    assert result.divisions[0].concept_id == "naf:03" == ref.division_of(best.concept_id)


def test_a_trained_model_decides_and_names_its_examples(
    seeded: Opener, ref: Referential, nlp: Language, embedder: Embedder
) -> None:
    shipped = seed_model()
    assert shipped is not None
    rows = [i for i, m in enumerate(shipped.examples)
            if ref.division_of(m["concept"]) in ("naf:03", "naf:11")]
    texts = ["Ferme aquacole de saumons atlantiques en Norvège", "Salmoniculture marine en Écosse"]
    decisions = [Example(text=t, concept_id="naf:03.21", kind="curator", ref=f"document:d{i}")
                 for i, t in enumerate(texts)]
    examples = decisions + [Example(text=shipped.examples[r]["title"], kind="seed", ref="naf",
                                    concept_id=shipped.examples[r]["concept"]) for r in rows]
    vectors = np.vstack([embedder.queries(texts), shipped.vectors[rows].astype(np.float32)])
    model = train(ref, "naf", examples, vectors)
    clf = TaxonomyClassifier(ref, embed_query=embedder.query, model=model)
    analysis = analyse(nlp, SALMON)
    best = clf.classify(SALMON, lemmas=analysis.lemmas, entities=[]).sectors[0]
    assert (best.concept_id, best.method) == ("naf:03.21", "model")
    assert best.explanation is not None
    near = best.explanation["neighbours"]
    assert near[0]["kind"] == "curator" and near[0]["id"].startswith("document:d")
    assert near[0]["title"] == ""  # a document's title is not copied into the model file
    with session_scope(seeded()) as session:
        save_classifications(session, "document", "doc-1", [best], method="rule")
    with session_scope(seeded()) as session:
        (view,) = classifications_of(session, "document", "doc-1")
    assert view.method == "model" and view.explanation["neighbours"][0]["kind"] == "curator"
    assert view.explanation["calibrated"] == best.explanation["calibrated"]


def test_the_pages_show_the_explanation_in_french() -> None:
    from taxonomy.classifications import ClassificationView
    from tfe.app.web.templating import templates

    view = ClassificationView("naf:03.21", "naf", "Aquaculture en mer", 0.81, "model", ["probabilité 0.81"],
                              {"terms": ["saumon"], "calibrated": 0.81, "similarity": 0.93,
                               "rules": [{"kind": "any", "pattern": "saumon", "matched": "saumons"}],
                               "neighbours": [{"kind": "seed", "id": "naf", "title": "marine fish farming",
                                               "similarity": 0.93},
                                              {"kind": "curator", "id": "document:d1", "title": "",
                                               "similarity": 0.9}]})
    html = templates.get_template("doc/_explanation.html").render(c=view)
    assert "Termes reconnus : saumon" in html and "Confiance calibrée : 0,81" in html
    assert "« marine fish farming » (nomenclature)" in html and "une décision de curateur" in html
    assert "any « saumon » (trouvé : « saumons »)" in html and "document:d1" not in html
    plain = ClassificationView("naf:03.21", "naf", "Aquaculture en mer", 0.5, "rule", [])
    assert "Pourquoi" not in templates.get_template("doc/_explanation.html").render(c=plain)
