from __future__ import annotations

import pytest

from taxonomy.gazetteer import Gazetteer, country_gazetteer
from taxonomy.referential import Referential


@pytest.fixture(scope="module")
def gaz(ref: Referential) -> Gazetteer:
    return country_gazetteer(ref)


def ids(gaz: Gazetteer, text: str, entities: list[tuple[str, str]] | None = None) -> set[str]:
    return {m.concept_id for m in gaz.match(text, entities or [])}


def test_french_sentences(gaz: Gazetteer) -> None:
    assert ids(gaz, "Les vins français s'exportent bien en Allemagne") == {"country:FR", "country:DE"}
    assert ids(gaz, "Le marché vietnamien progresse") == {"country:VN"}
    assert ids(gaz, "l'Inde et le Brésil") == {"country:IN", "country:BR"}
    assert ids(gaz, "au Viêt Nam, au Vietnam, d'Allemagne") == {"country:VN", "country:DE"}
    assert ids(gaz, "les entreprises ALLEMANDES et la Côte d’Ivoire") == {"country:DE", "country:CI"}


def test_no_false_positives(gaz: Gazetteer) -> None:
    assert ids(gaz, "une assiette en china et du turkey rôti") == set()
    assert ids(gaz, "La réunion du conseil avec Maurice et Dominique") == set()
    assert ids(gaz, "let us polish the offer") == set()
    assert ids(gaz, "Jordan met the press") == set()


def test_ambiguous_forms_with_support(gaz: Gazetteer) -> None:
    assert ids(gaz, "Jordan and Israel", [("Jordan", "LOC")]) == {"country:JO", "country:IL"}
    assert "country:US" in ids(gaz, "US sanctions hit Iran")
    assert ids(gaz, "China's exports") == {"country:CN"}


def test_mentions_keep_original_text(gaz: Gazetteer) -> None:
    text = "Export vers l'Allemagne"
    (m,) = gaz.match(text)
    assert text[m.start:m.end] == "Allemagne" == m.text
