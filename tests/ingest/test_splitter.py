"""Passage splitting and text normalisation (pure functions and the language model, no other models)."""

from __future__ import annotations

import itertools

import pytest

from ingest.components.normaliser import TextNormaliser, normalise_text
from ingest.components.splitter import PassageSplitter, split_passages
from ingest.errors import IngestError


def _sentences(n: int, words: int = 10) -> str:
    return " ".join(f"Phrase{i} " + " ".join(f"mot{i}x{j}" for j in range(words - 1)) + "." for i in range(n))


def test_short_text_is_one_passage() -> None:
    assert split_passages("Une seule phrase courte.", 180, 30) == ["Une seule phrase courte."]
    assert split_passages("", 180, 30) == []


def test_passages_have_target_length_and_cut_on_sentences() -> None:
    text = _sentences(100)  # 1,000 words in 10-word sentences
    passages = split_passages(text, 50, 10)
    assert len(passages) > 10
    for passage in passages:
        assert len(passage.split()) <= 50
        assert passage.endswith(".")  # never cut inside a sentence
        assert passage.split()[0].startswith("Phrase")


def test_overlap_repeats_the_previous_tail() -> None:
    passages = split_passages(_sentences(40), 50, 10)
    for first, second in itertools.pairwise(passages):
        last_sentence = first.rsplit(". ", 1)[-1]
        assert second.startswith(last_sentence.rstrip("."))


def test_every_word_is_covered() -> None:
    text = _sentences(37, words=7)
    covered = set(" ".join(split_passages(text, 40, 8)).split())
    assert covered == set(text.split())


def test_overlong_sentence_is_cut_by_words() -> None:
    text = " ".join(f"w{i}" for i in range(500))
    passages = split_passages(text, 100, 20)
    assert all(len(p.split()) <= 100 for p in passages)
    assert passages[0].split()[0] == "w0" and passages[-1].split()[-1] == "w499"


def test_paragraph_breaks_end_units() -> None:
    text = "Premier paragraphe sans point final\n\nDeuxième paragraphe"
    assert split_passages(text, 4, 0) == ["Premier paragraphe sans point", "final Deuxième paragraphe"]


def test_splitter_component_gives_passages() -> None:
    passages = PassageSplitter(words=60, overlap=10).run(_sentences(30))["passages"]
    assert len(passages) >= 5 and passages == split_passages(_sentences(30), 60, 10)


def test_normalise_text() -> None:
    raw = "L\u2019expor-\ntation  franc\u0327aise\x00\u00ad\r\n\r\n\r\n\r\nSuite\u00a0 du\ttexte "
    assert normalise_text(raw) == "L\u2019exportation française\n\nSuite du texte"


def test_language_detection() -> None:
    normaliser = TextNormaliser()
    assert normaliser.detect("Les exportations françaises de vin vers l'Allemagne progressent.") == "fr"
    assert normaliser.detect("German machinery exports to China fell sharply this quarter.") == "en"
    assert normaliser.detect("court") is None


def test_normaliser_component_cleans_and_falls_back_on_declared_language() -> None:
    normaliser = TextNormaliser()
    out = normaliser.run("Les exportations  françaises de vin progressent.", " Vins \n de France ", "en-GB")
    assert out == {
        "text": "Les exportations françaises de vin progressent.",
        "title": "Vins de France",
        "language": "fr",
    }
    assert normaliser.run("Court.", "", "fr-FR")["language"] == "fr"  # too short to detect: declared one
    assert normaliser.run("Court.", "", "zh")["language"] is None  # declared, but not a network language
    with pytest.raises(IngestError, match=r"^no text extracted$"):
        normaliser.run(" \u00ad\n\x00 ", "Titre", None)
