"""Text folding shared by the referential, the gazetteer and the classifier.

``fold`` lowercases, strips accents and unifies apostrophes and hyphens *character by character*, so a
folded string has exactly the length of the original and match offsets can be mapped back to it (the
gazetteer uses that to check capitalisation in the original text).
"""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["fold", "fold_char", "norm_key"]

_APOSTROPHES = "’‘`´ʼ"
_HYPHENS = "‐‑‒–—-"


@functools.lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """One character, lowercased, without diacritics; apostrophes → ``'``, hyphens → space."""
    if ch in _APOSTROPHES:
        return "'"
    if ch in _HYPHENS:
        return " "
    low = ch.lower()
    if len(low) != 1:
        low = ch
    base = unicodedata.normalize("NFD", low)[0]
    return base if base.isprintable() else " "


def fold(text: str) -> str:
    """Length-preserving accent- and case-insensitive form of ``text``."""
    return "".join(fold_char(c) for c in text)


def norm_key(text: str) -> str:
    """A lookup key: folded, with runs of spaces collapsed and ends trimmed."""
    return " ".join(fold(text).split())
