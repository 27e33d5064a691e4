"""A bounded, representative sample of a long text for the steps whose cost grows with its length.

Language detection, spaCy and the taxonomy classifier need evidence, not every word: a 300-page report
held an ingest run for 30 to 60 seconds there. ``sample_text`` keeps short texts whole and cuts long ones
to ``max_chars``: half for the head (title, summary, introduction: where the evidence is densest), the
rest as evenly spaced windows over the remainder, so a country or sector named only in a later chapter
still counts. Windows start and end on whitespace and are joined by blank lines, so no word is cut or
glued to another. Passages (and so BM25 and vectors) are cut from the whole text, never from the sample.
"""

from __future__ import annotations

__all__ = ["DEFAULT_SAMPLE_CHARS", "WINDOWS", "sample_text"]

DEFAULT_SAMPLE_CHARS = 20_000
WINDOWS = 8
_SEPARATOR = "\n\n"


def _cut(text: str, start: int, end: int) -> str:
    """``text[start:end]`` moved inwards to whitespace at both ends (unless at the text's own ends)."""
    if start > 0:
        space = text.find(" ", start, end)
        newline = text.find("\n", start, end)
        found = [p for p in (space, newline) if p >= 0]
        start = min(found) + 1 if found else start
    if end < len(text):
        stop = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
        end = stop if stop > start else end
    return text[start:end].strip()


def sample_text(text: str, max_chars: int = DEFAULT_SAMPLE_CHARS, windows: int = WINDOWS) -> str:
    """``text`` itself if it fits in ``max_chars``, else its head and ``windows`` evenly spaced windows."""
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    windows = max(1, windows)
    head_chars = max_chars // 2
    window_chars = (max_chars - head_chars) // windows - len(_SEPARATOR)
    parts = [_cut(text, 0, head_chars)]
    rest_start = head_chars
    stride = (len(text) - rest_start) / windows
    if window_chars > 0:
        for index in range(windows):
            # centre each window in its stretch, so the last one does not hug the text's end
            centre = rest_start + stride * (index + 0.5)
            start = int(max(rest_start, centre - window_chars / 2))
            parts.append(_cut(text, start, min(len(text), start + window_chars)))
    return _SEPARATOR.join(part for part in parts if part)
