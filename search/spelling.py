"""Spelling suggestions from the index vocabulary the caller may see (« Essayez avec : vins Allemagne »).

A backend lists the terms of the passages its scoped filter selects (so a word that only appears in
documents the caller cannot see is never suggested) and hands them here with each unknown query word:

- a query word is *unknown* when none of its analysed terms (stemmed, folded) occurs in a visible passage;
- its candidates are the visible terms within ``max_distance`` edits (Damerau-Levenshtein, adjacent
  transpositions cost one) of its analysed term, sharing its first letter: one edit for short terms, two
  from ``LONG_TERM`` letters;
- the closest wins, then the most frequent (documents carrying it), then the alphabetical first;
- the suggestion shows the term as it is written most often in the visible passages (« Allemagne » for
  ``allemagn``; on a tie the lowercase form), which the backend reads from those passages.

Words shorter than ``MIN_WORD`` letters, numbers and stop words are left as typed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

# On 300 PIAF questions (typos included), 6 and 3 « corrected » real words into others (« diffère » into
# « diffusion », « Qua » into « quarante »); 8 and 4 keep the real typos (« Frnace », « Napoléan »).
MIN_WORD = 4  # shorter words are too ambiguous to correct
LONG_TERM = 8  # analysed terms of this length or more may be two edits away, shorter ones one
WORD = re.compile(r"\w+", re.UNICODE)


def max_distance(term: str) -> int:
    return 2 if len(term) >= LONG_TERM else 1


def distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein distance (optimal string alignment), capped at ``limit`` (``limit`` = too far)."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) >= limit:
            return limit
        previous2, previous = previous, current
    return min(previous[-1], limit)


def best_term(term: str, vocabulary: Iterable[tuple[str, int]]) -> str | None:
    """The visible term closest to ``term`` (then the most frequent); ``None`` when none is close enough."""
    allowed = max_distance(term)
    best: tuple[int, int, str] | None = None
    for candidate, count in vocabulary:
        if count <= 0 or candidate == term:
            continue
        d = distance(term, candidate, allowed + 1)
        if d > allowed:
            continue
        key = (d, -count, candidate)
        if best is None or key < best:
            best = key
    return best[2] if best is not None else None


def surface_form(term: str, texts: Iterable[str], analyze: Callable[[str], list[str]]) -> str | None:
    """How ``term`` (an analysed term) is written most often in ``texts``; ``None`` when it never is."""
    seen: Counter[str] = Counter()
    cache: dict[str, bool] = {}
    for text in texts:
        for word in WORD.findall(text):
            lower = word.lower()
            hit = cache.get(lower)
            if hit is None:
                hit = cache[lower] = analyze(lower) == [term]
            if hit:
                seen[word] += 1
    if not seen:
        return None
    return min(seen.items(), key=lambda kv: (-kv[1], kv[0] != kv[0].lower(), kv[0]))[0]  # ties: lowercase


def correctable(word: str) -> bool:
    return len(word) >= MIN_WORD and not word.isdigit()
