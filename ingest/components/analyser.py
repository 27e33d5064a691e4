"""French NLP (spaCy ``fr_core_news_md`` through ``taxonomy.nlp``): lemmas and entities for the classifier.

Long texts are analysed through a bounded sample (``ingest.sampling.sample_text``: the head, where the
classifier's evidence is densest, and evenly spaced windows over the rest): spaCy time grows linearly
with length, and a long report used to hold an ingest run for tens of seconds here.
"""

from __future__ import annotations

from typing import Any

from haystack import component

from ingest.sampling import DEFAULT_SAMPLE_CHARS, sample_text

__all__ = ["MAX_ANALYSED_CHARS", "SpacyAnalyser"]

MAX_ANALYSED_CHARS = DEFAULT_SAMPLE_CHARS


@component
class SpacyAnalyser:
    """Lemmas and named entities of a title and text, the classifier's evidence."""

    def __init__(self, max_chars: int = MAX_ANALYSED_CHARS) -> None:
        self.max_chars = max_chars
        self._nlp: Any = None

    def warm_up(self) -> None:
        """Load the spaCy pipeline (cached per process by ``taxonomy.nlp.load_nlp``)."""
        if self._nlp is None:
            from taxonomy.nlp import load_nlp

            self._nlp = load_nlp()

    @component.output_types(lemmas=list[str], entities=list[tuple[str, str]])
    def run(self, text: str, title: str) -> dict[str, Any]:
        """``lemmas`` of the title and a sample of the text (at most ``max_chars``); ``entities`` as
        ``(text, spaCy label)``."""
        from taxonomy.nlp import analyse

        self.warm_up()
        sample = sample_text(text, self.max_chars)
        whole = f"{title}\n\n{sample}" if title else sample
        analysis = analyse(self._nlp, whole, max_chars=len(whole))
        return {
            "lemmas": list(analysis.lemmas),
            "entities": [(str(t), str(label)) for t, label in analysis.entities],
        }
