"""Text clean-up and language detection, so that NLP, chunking and BM25 all see the same clean text.

Unicode NFC; soft hyphens and end-of-line hyphenation ("expor-\\ntation" -> "exportation") removed;
control characters dropped; runs of spaces and blank lines collapsed (paragraph breaks are kept, the
splitter relies on them). Language is detected with py3langid restricted to the network's languages.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from haystack import component

from ingest.errors import IngestError
from ingest.sampling import sample_text

__all__ = ["LANGUAGES", "TextNormaliser", "normalise_text"]

LANGUAGES = ("fr", "en", "de", "es", "it", "pt", "nl")
DETECT_CHARS = 5000  # enough for a stable guess, cheap on long documents (head and windows, see sample_text)
MIN_DETECT_CHARS = 20

_HYPHENATED = re.compile(r"(\w)[-\u2010]\n[ \t]*(\w)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u3000]+")
_SPACE_AROUND_NL = re.compile(r" *\n *")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """The cleaned form of ``text`` (see module docstring); pure, for reuse by search and tests."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = _CONTROL.sub("", text)
    text = _HYPHENATED.sub(r"\1\2", text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_AROUND_NL.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


@component
class TextNormaliser:
    """Normalise the text and title, and give the language (detected, else the declared one, else None)."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        self.languages = list(languages)
        self._identifier: Any = None

    def warm_up(self) -> None:
        """Load the language model (once)."""
        if self._identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages(self.languages)
            self._identifier = identifier

    def detect(self, text: str) -> str | None:
        """The most likely language among ``languages``, or None for too little text."""
        sample = sample_text(text, DETECT_CHARS)
        if len(sample.strip()) < MIN_DETECT_CHARS:
            return None
        self.warm_up()
        lang, _prob = self._identifier.classify(sample)
        return str(lang)

    @component.output_types(text=str, title=str, language=str | None)
    def run(self, text: str, title: str, language: str | None) -> dict[str, Any]:
        """Clean ``text`` and ``title``; ``language`` is the declared one (e.g. Tika's ``fr-FR``), kept
        (as ``fr``) only when detection has too little text and it is one of ``languages``.

        Raises ``IngestError("no text extracted")`` when nothing is left after cleaning.
        """
        text = normalise_text(text)
        if not text:
            raise IngestError("no text extracted", step="normaliser")
        declared = (language or "").split("-")[0].lower()
        detected = self.detect(text) or (declared if declared in self.languages else None)
        return {"text": text, "title": " ".join(normalise_text(title).split()), "language": detected}
