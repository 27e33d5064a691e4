"""Issue 12 defect 23: language detection, spaCy and the classifier read a bounded sample of a long text,
while passages still cover all of it."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.components.analyser import SpacyAnalyser
from ingest.components.classifier import TaxonomyClassifierComponent
from ingest.components.normaliser import TextNormaliser
from ingest.components.splitter import PassageSplitter
from ingest.item import IngestItem
from ingest.pipeline import build_pipeline
from ingest.sampling import sample_text
from tests.conftest import make_settings


def _chapters(count: int = 40, words: int = 500) -> str:
    """A long text: chapter N repeats the word ``motN`` (so a sample shows which chapters it read)."""
    return "\n\n".join(f"Chapitre {n}. " + " ".join([f"mot{n}"] * words) for n in range(count))


def test_short_text_is_whole() -> None:
    assert sample_text("Une note courte.", 20_000) == "Une note courte."
    assert sample_text("x " * 50, 0) == "x " * 50  # 0 switches sampling off


def test_long_text_sample_is_bounded_and_spread() -> None:
    text = _chapters()  # ~120,000 characters
    sample = sample_text(text, 20_000)
    assert len(sample) <= 20_000
    assert sample.startswith("Chapitre 0. mot0")
    seen = {n for n in range(40) if f"mot{n} " in sample or sample.endswith(f"mot{n}")}
    assert {0, 1} <= seen and max(seen) >= 35  # the head, and windows down to the last chapters
    assert len(seen) >= 9
    assert all(word.startswith(("mot", "Chapitre")) or word.rstrip(".").isdigit() for word in sample.split())


def test_analyser_reads_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def analyse(nlp: Any, text: str, max_chars: int) -> Any:
        seen["chars"] = len(text)

        class Analysis:
            lemmas: list[str] = []
            entities: list[tuple[str, str]] = []

        return Analysis()

    monkeypatch.setattr("taxonomy.nlp.analyse", analyse)
    analyser = SpacyAnalyser(max_chars=20_000)
    analyser._nlp = object()  # no model needed: analyse is replaced
    analyser.run(text=_chapters(), title="Rapport")
    assert seen["chars"] <= 20_000 + len("Rapport\n\n")


def test_classifier_reads_the_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    component = TaxonomyClassifierComponent(sample_chars=20_000)
    classifier = component._current()
    seen: dict[str, int] = {}
    original = classifier.classify

    def classify(text: str, **kwargs: Any) -> Any:
        seen["chars"] = len(text)
        return original(text, **kwargs)

    monkeypatch.setattr(classifier, "classify", classify)
    item = IngestItem(key="long.txt", filename="long.txt", data=b"x")
    component.run(item=item, text=_chapters(), title="Rapport", lemmas=[], entities=[])
    assert seen["chars"] <= 20_000


def test_language_detection_reads_a_bounded_sample() -> None:
    normaliser = TextNormaliser()
    long_french = "Le marché mexicain demande de la préparation et de la patience. " * 20_000
    assert normaliser.run(text=long_french, title="", language=None)["language"] == "fr"


def test_passages_cover_the_whole_text(tmp_path: Any) -> None:
    text = _chapters()
    pipeline = build_pipeline(make_settings(tmp_path, analysis_sample_chars=5_000), None, None)  # type: ignore[arg-type]
    analyser = pipeline.get_component("analyser")
    classifier = pipeline.get_component("classifier")
    assert isinstance(analyser, SpacyAnalyser) and analyser.max_chars == 5_000
    assert isinstance(classifier, TaxonomyClassifierComponent) and classifier.sample_chars == 5_000
    splitter = pipeline.get_component("splitter")
    assert isinstance(splitter, PassageSplitter)
    passages = splitter.run(text=text)["passages"]
    assert "mot39" in passages[-1] and "mot0" in passages[0]
    assert pipeline.graph.has_edge("normaliser", "splitter")  # the splitter takes the whole text
