"""Passage splitting: ~``passage_words`` words per passage with ``overlap_words`` of overlap.

Passages end on paragraph or sentence boundaries where possible, so that snippets read well and a
sentence is rarely cut between two vectors; only a sentence longer than a passage (less its overlap)
is cut by words.
"""

from __future__ import annotations

import re

from haystack import component

__all__ = ["PassageSplitter", "split_passages"]

_PARAGRAPHS = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…;:])\s+(?=[\"«“(\[]?[A-ZÀ-ÖØ-Þ0-9])|\n")


def _units(text: str, max_words: int) -> list[list[str]]:
    """Sentences (as word lists), none longer than ``max_words`` (longer ones are cut by words);
    paragraph ends are unit ends even without a full stop."""
    units: list[list[str]] = []
    for paragraph in _PARAGRAPHS.split(text):
        for sentence in _SENTENCE_END.split(paragraph):
            words = sentence.split()
            for start in range(0, len(words), max_words):
                if words[start : start + max_words]:
                    units.append(words[start : start + max_words])
    return units


def split_passages(text: str, words: int = 180, overlap: int = 30) -> list[str]:
    """Cut ``text`` into passages of about ``words`` words; consecutive passages share up to ``overlap``
    words (whole trailing sentences of the previous passage, or its last words if a sentence is longer)."""
    words = max(1, words)
    overlap = max(0, min(overlap, words // 2))
    passages: list[str] = []
    current: list[list[str]] = []
    count = 0
    fresh = 0  # words in ``current`` not carried over from the previous passage
    for unit in _units(text, max(1, words - overlap)):  # so that carried overlap + one unit still fits
        if current and count + len(unit) > words and fresh:
            passages.append(" ".join(w for u in current for w in u))
            carried: list[list[str]] = []
            kept = 0
            for previous in reversed(current):
                if kept + len(previous) > overlap:
                    break
                carried.insert(0, previous)
                kept += len(previous)
            if not carried and overlap:
                carried = [current[-1][-overlap:]]
                kept = len(carried[0])
            current, count = carried, kept
            fresh = 0
        current.append(unit)
        count += len(unit)
        fresh += len(unit)
    if current and fresh:
        passages.append(" ".join(w for u in current for w in u))
    return passages


@component
class PassageSplitter:
    """The passage texts to index (see ``split_passages``)."""

    def __init__(self, words: int = 180, overlap: int = 30) -> None:
        self.words = words
        self.overlap = overlap

    @component.output_types(passages=list[str])
    def run(self, text: str) -> dict[str, list[str]]:
        return {"passages": split_passages(text, self.words, self.overlap)}
