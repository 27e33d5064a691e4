"""What rules match against: one text folded and indexed once (words, light forms, lemmas, n-grams).

Words are the ``\\w+`` tokens of the folded text (``taxonomy.text.fold``) with their offsets in the
original text, so a hit quotes the original words. Sequences are joined with two spaces and padded
(`` vin  rouge ``), so a phrase occurs where `` a  b `` occurs and ``str.count`` counts every occurrence.
``light`` forms drop a plural ``s``/``x`` (``vins`` → ``vin``), so words match across number even
without spaCy lemmas (English text, the "try it" box).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence

from taxonomy.lemmas import _STOPWORDS
from taxonomy.text import fold_char, norm_key

__all__ = ["STOPWORDS", "TextIndex", "fold", "light", "seq_key", "word_forms"]

_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(norm_key(w) for w in _STOPWORDS) | {
    "the", "of", "and", "or", "to", "in", "on", "for", "by", "with", "an", "at", "as", "is", "it"}


class _FoldTable(dict[int, str]):
    """``str.translate`` table computing ``fold_char`` once per character seen (fast ``fold``)."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold_char(chr(code))
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """``taxonomy.text.fold`` (same result, length-preserving) at C speed."""
    return text.translate(_FOLD)


@functools.lru_cache(maxsize=65536)
def _lemma_key(lemma: str) -> str:
    return norm_key(lemma)


@functools.lru_cache(maxsize=8192)
def light(word: str) -> str:
    """A folded word without its plural mark (``vins`` → ``vin``, ``bateaux`` → ``bateau``)."""
    plural = (word[-1:] == "s" and word[-2:-1] not in "su") or word[-2:] == "ux"
    if len(word) > 3 and plural:
        return word[:-1]
    return word


def word_forms(text: str) -> list[str]:
    """The folded ``\\w+`` words of ``text``."""
    return _WORD.findall(fold(text))


def seq_key(words: Sequence[str]) -> str:
    """The padded, double-space-joined form of a word sequence (see the module docstring)."""
    return " " + "  ".join(words) + " "


class TextIndex:
    """One text, folded and counted, for matching many rules against it cheaply."""

    def __init__(self, text: str, lemmas: Sequence[str] = ()) -> None:
        self.text = text
        self.folded = fold(text)
        spans = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(self.folded)]
        self.tokens = [w for w, _, _ in spans]
        self.starts = [s for _, s, _ in spans]
        self.ends = [e for _, _, e in spans]
        self.words: Counter[str] = Counter(self.tokens)
        self.light: Counter[str] = Counter(light(w) for w in self.tokens)
        self.first: dict[str, int] = {}
        for i, w in enumerate(self.tokens):
            self.first.setdefault(w, i)
            self.first.setdefault("~" + light(w), i)
        lem = [k for k in map(_lemma_key, lemmas) if k]
        self.lemmas: Counter[str] = Counter(lem)
        self.word_seq = seq_key(self.tokens)
        self.lemma_seq = seq_key(lem)
        self._grams: dict[int, list[str]] = {}

    def quote(self, first: int, last: int) -> str:
        """The original text of tokens ``first..last`` (inclusive)."""
        return self.text[self.starts[first]:self.ends[last]]

    def word_count(self, forms: Sequence[str]) -> tuple[int, str]:
        """Occurrences of a word given as its forms (folded word, then lemma), with what matched.

        As the sector keywords always counted: the best form's occurrences among words plus among
        lemmas; the light (plural-free) form only when no form occurs as such."""
        best, matched = 0, ""
        for f in forms:
            n = self.words.get(f, 0) + self.lemmas.get(f, 0)
            if n > best:
                best = n
                if f not in self.first and "~" + light(f) in self.first:  # a lemma: quote its word
                    f = self.tokens[self.first["~" + light(f)]]
                matched = f
        if best == 0 and forms:
            key = light(forms[0])
            n = self.light.get(key, 0)
            if n:
                best, matched = n, self.tokens[self.first["~" + key]]
        if best and matched in self.first:
            i = self.first[matched]
            matched = self.quote(i, i)
        return best, matched

    def seq_count(self, forms: Sequence[tuple[str, ...]]) -> tuple[int, str]:
        """Occurrences of a phrase given as word sequences (folded words, then lemmas)."""
        best, matched = 0, ""
        for words in forms:
            if not words:
                continue
            if len(words) == 1:
                n, m = self.word_count(words)
            else:
                key = seq_key(words)
                n = self.word_seq.count(key) + self.lemma_seq.count(key)
                m = self._quote_seq(key, len(words)) or " ".join(words)
            if n > best:
                best, matched = n, m
        return best, matched

    def _quote_seq(self, key: str, n_words: int) -> str:
        pos = self.word_seq.find(key)
        if pos < 0:
            return ""
        first = self.word_seq.count("  ", 0, pos + 1)
        return self.quote(first, first + n_words - 1)

    def grams(self, n: int) -> list[str]:
        """Every run of ``n`` consecutive words, space-joined (cached per ``n``)."""
        if n not in self._grams:
            t = self.tokens
            self._grams[n] = [" ".join(t[i:i + n]) for i in range(len(t) - n + 1)]
        return self._grams[n]
