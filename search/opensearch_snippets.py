"""Snippets of the OpenSearch backend, cut from the passage text read from the passage store (the index
stores no text, so OpenSearch's highlighter has nothing to work on).

A word is marked when one of its analysed terms (Tantivy's French chains, stemmed and exact, as the
embedded backend's snippets and ``search.explain`` use) is a term of the query; the excerpt is the
``SNIPPET_CHARS`` around the window with the most marked words, HTML-escaped except for ``<mark>``.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable

from search import tantivy_index as ti

SNIPPET_CHARS = ti.SNIPPET_CHARS
LEAD = 40  # characters of context kept before the first marked word
_WORD = re.compile(r"\w+", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _analyzers() -> tuple[object, object]:
    return ti.french_analyzer(), ti.french_analyzer(stem=False)


def analyze(text: str) -> list[str]:
    stem, _exact = _analyzers()
    return list(stem.analyze(text))  # type: ignore[attr-defined]


def analyze_exact(text: str) -> list[str]:
    _stem, exact = _analyzers()
    return list(exact.analyze(text))  # type: ignore[attr-defined]


def query_terms(words: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for word in words:
        out.update(analyze(word))
        out.update(analyze_exact(word))
    return frozenset(out)


def _marked(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    spans = []
    cache: dict[str, bool] = {}
    for m in _WORD.finditer(text):
        word = m.group(0).lower()
        hit = cache.get(word)
        if hit is None:
            hit = cache[word] = bool(terms & {*analyze(word), *analyze_exact(word)})
        if hit:
            spans.append((m.start(), m.end()))
    return spans


def snippet(text: str, terms: frozenset[str]) -> str:
    """An HTML-safe excerpt of ``text`` with ``<mark>`` around the words matching ``terms`` (the head of
    the text when none match)."""
    text = " ".join(text.split())
    spans = _marked(text, terms) if terms else []
    if not spans:
        return ti.snippet_html(None, text)
    best, best_count = 0, 0
    for i, (start, _end) in enumerate(spans):
        count = sum(1 for s, e in spans[i:] if e <= start + SNIPPET_CHARS - LEAD)
        if count > best_count:
            best, best_count = i, count
    begin = max(0, spans[best][0] - LEAD)
    if begin > 0:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < spans[best][0] else begin
    end = min(len(text), begin + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", spans[best][1], end)
        end = space if space > 0 else end
    out, pos = [], begin
    for start, stop in spans:
        if start < begin or stop > end:
            continue
        out.append(html.escape(text[pos:start], quote=False))
        out.append(f"<mark>{html.escape(text[start:stop], quote=False)}</mark>")
        pos = stop
    out.append(html.escape(text[pos:end], quote=False))
    prefix = "…" if begin > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(out).strip() + suffix
