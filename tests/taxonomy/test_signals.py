"""The signal scheme: shipped data, the detector on a handful of real headlines (precision check),
negatives, and the classifier filling ``result.signals``."""

from __future__ import annotations

import pytest

from taxonomy.classifier import TaxonomyClassifier
from taxonomy.referential import Referential
from taxonomy.rules import validate_rules
from taxonomy.signals import SignalDetector

SIGNALS = {"signal:tender", "signal:investment", "signal:regulation", "signal:event", "signal:financing",
           "signal:mna", "signal:country-risk"}

# Headlines of the demo feeds and the English news fixtures, with the signal a curator would file.
HEADLINES = [
    ("Maroc : nouvel appel d'offres pour une usine de dessalement", "fr", "signal:tender"),
    ("Maroc : appel d'offres international pour la station de dessalement de Souss-Massa", "fr",
     "signal:tender"),
    ("Vins : un Pavillon France record au salon ProWein de Düsseldorf", "fr", "signal:event"),
    ("Eau : le Maroc lance l'extension de l'usine de dessalement d'Agadir", "fr", "signal:investment"),
    ("Mexique : le nearshoring dope les investissements industriels", "fr", "signal:investment"),
    ("Vietnam : l'accord supprime les droits de douane sur les vins", "fr", "signal:regulation"),
    ("La start-up lyonnaise lève 12 millions d'euros auprès de Bpifrance", "fr", "signal:financing"),
    ("Le groupe rachète son concurrent allemand", "fr", "signal:mna"),
    ("Morocco: international tender for the Souss-Massa desalination plant", "en", "signal:tender"),
    ("Rheinmetall to Build Ammunition Plant in Latvia", "en", "signal:investment"),
    ("Europe Draws Up Retaliatory Tariffs for U.S. Goods in Case No Trade Deal Is Reached", "en",
     "signal:regulation"),
    ("A Tech Expo Shows What China Can Make, but Not Who'll Buy It All", "en", "signal:event"),
    ("EU Must Advance Merger Policy Review, Von der Leyen Says", "en", "signal:mna"),
    ("Belarus Frees Nobel Winner, Political Prisoners After U.S. Eases Sanctions", "en",
     "signal:country-risk"),
    # no signal
    ("Japon : les cosmétiques naturels séduisent les drugstores", "fr", None),
    ("Vins : les importateurs allemands diversifient leurs sources", "fr", None),
    ("Japan: premium pet food imports keep growing", "en", None),
    ("Acme launches a tender offer for Beta shares", "en", "signal:mna"),  # negative: not a call for tenders
]


@pytest.fixture(scope="module")
def detector(ref: Referential) -> SignalDetector:
    return SignalDetector(ref)


def test_the_scheme_is_shipped_with_valid_rules(ref: Referential) -> None:
    concepts = ref.concepts("signal")
    assert {c.id for c in concepts} == SIGNALS
    for c in concepts:
        assert c.label_fr and c.label_en and c.definition_fr and c.definition_en
        assert list(c.rules) == validate_rules(list(c.rules))
        assert {r["language"] for r in c.rules} >= {"fr", "en"}
    assert ref.resolve("Appel d'offres", "signal") == "signal:tender"


def test_precision_on_real_headlines(detector: SignalDetector) -> None:
    right = 0
    wrong: list[tuple[str, list[str]]] = []
    for headline, language, expected in HEADLINES:
        found = [s.concept_id for s in detector.detect("", language, title=headline)]
        ok = found[:1] == ([expected] if expected else [])
        right += ok
        if not ok:
            wrong.append((headline, found))
    assert right / len(HEADLINES) >= 0.9, wrong


def test_negative_terms_and_evidence(detector: SignalDetector) -> None:
    offer = detector.detect("Acme launches a tender offer for Beta.", "en")
    assert "signal:tender" not in [s.concept_id for s in offer]
    call = detector.detect("The ministry issued a call for tenders for 40 buses.", "en")
    assert call[0].concept_id == "signal:tender" and "call for tenders" in call[0].evidence[0]
    hair = detector.detect("Ouverture d'un salon de coiffure à Lyon.", "fr")
    assert "signal:event" not in [s.concept_id for s in hair]


def test_language_rules_apply_to_their_language(detector: SignalDetector) -> None:
    assert detector.detect("Appel d'offres pour un tramway", "en") == []
    assert detector.detect("Appel d'offres pour un tramway", "fr")[0].concept_id == "signal:tender"


def test_classifier_fills_signals(classifier: TaxonomyClassifier) -> None:
    res = classifier.classify("La municipalité publie un appel d'offres pour la rénovation du port.",
                              lemmas=[], title="Appel d'offres", language="fr")
    assert res.signals and res.signals[0].concept_id == "signal:tender" and 0 < res.signals[0].score <= 1
    assert res.to_dict()["signals"][0]["concept_id"] == "signal:tender"
    assert classifier.classify("Des fromages affinés.", lemmas=[]).signals == []
