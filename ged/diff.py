"""A side-by-side text diff of two versions' extracted texts (``difflib``), changed words marked.

Lines are compared first (``SequenceMatcher`` on the lines); a block of replaced lines is paired line by
line and each pair compared word by word, so a one-word edit in a long paragraph marks that word only.
Unchanged runs longer than twice the context are folded into one ``skip`` row; identical texts give no
rows. The rows carry plain text segments flagged ``changed``: the page escapes them (Jinja autoescaping)
and wraps the changed ones, so no markup from a document ever reaches the page. Very long texts are cut
at ``MAX_LINES`` lines each (``truncated``), which keeps the comparison's cost bounded.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CONTEXT", "MAX_LINES", "DiffRow", "Segment", "TextDiff", "text_diff"]

CONTEXT = 3  # unchanged lines shown around a change
MAX_LINES = 5000  # lines of each text compared at most
_WORDS = re.compile(r"\s+|[^\s]+")

RowKind = Literal["equal", "replace", "delete", "insert", "skip"]


@dataclass(frozen=True)
class Segment:
    """A run of text in one side of a row; ``changed`` when it differs from the other side."""

    text: str
    changed: bool = False


@dataclass(frozen=True)
class DiffRow:
    """One row of the side-by-side view: line numbers (1-based, ``None`` where a side has no line)."""

    kind: RowKind
    left_no: int | None = None
    right_no: int | None = None
    left: list[Segment] = field(default_factory=list)
    right: list[Segment] = field(default_factory=list)
    skipped: int = 0  # ``skip`` rows: how many unchanged lines are folded

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "left_no": self.left_no,
            "right_no": self.right_no,
            "left": [{"text": s.text, "changed": s.changed} for s in self.left],
            "right": [{"text": s.text, "changed": s.changed} for s in self.right],
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class TextDiff:
    rows: list[DiffRow]
    added: int  # lines only in the right text (inserted, or the right side of a replacement)
    removed: int  # lines only in the left text
    truncated: bool

    @property
    def identical(self) -> bool:
        return self.added == 0 and self.removed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.as_dict() for r in self.rows],
            "added": self.added,
            "removed": self.removed,
            "identical": self.identical,
            "truncated": self.truncated,
        }


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def _word_segments(left: str, right: str) -> tuple[list[Segment], list[Segment]]:
    """Both lines as segments, the words that differ marked (whitespace compared too)."""
    a, b = _WORDS.findall(left), _WORDS.findall(right)
    out_a: list[Segment] = []
    out_b: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        same = tag == "equal"
        if i2 > i1:
            out_a.append(Segment("".join(a[i1:i2]), not same))
        if j2 > j1:
            out_b.append(Segment("".join(b[j1:j2]), not same))
    return _merged(out_a), _merged(out_b)


def _merged(segments: list[Segment]) -> list[Segment]:
    """Adjacent segments of one kind joined; a lone space between two changes counts as changed."""
    out: list[Segment] = []
    for k, seg in enumerate(segments):
        changed = seg.changed
        if not changed and not seg.text.strip() and 0 < k < len(segments) - 1:
            changed = segments[k - 1].changed and segments[k + 1].changed
        if out and out[-1].changed == changed:
            out[-1] = Segment(out[-1].text + seg.text, changed)
        else:
            out.append(Segment(seg.text, changed))
    return out


def _equal_rows(
    a: list[str], b: list[str], i1: int, i2: int, j1: int, first: bool, last: bool
) -> list[DiffRow]:
    """Unchanged lines, the middle folded when the run is long (all folded but context near changes)."""
    n = i2 - i1
    keep_head = 0 if first else CONTEXT
    keep_tail = 0 if last else CONTEXT
    rows: list[DiffRow] = []

    def same(k: int) -> DiffRow:
        return DiffRow("equal", i1 + k + 1, j1 + k + 1, [Segment(a[i1 + k])], [Segment(b[j1 + k])])

    if n <= keep_head + keep_tail + 1:
        return [same(k) for k in range(n)]
    rows.extend(same(k) for k in range(keep_head))
    rows.append(DiffRow("skip", i1 + keep_head + 1, j1 + keep_head + 1, skipped=n - keep_head - keep_tail))
    rows.extend(same(k) for k in range(n - keep_tail, n))
    return rows


def text_diff(left: str, right: str) -> TextDiff:
    """The side-by-side diff of ``left`` (older) and ``right`` (newer)."""
    a, b = _lines(left), _lines(right)
    truncated = len(a) > MAX_LINES or len(b) > MAX_LINES
    a, b = a[:MAX_LINES], b[:MAX_LINES]
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    rows: list[DiffRow] = []
    added = removed = 0
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            rows += _equal_rows(a, b, i1, i2, j1, first=index == 0, last=index == len(opcodes) - 1)
            continue
        removed += i2 - i1
        added += j2 - j1
        for k in range(max(i2 - i1, j2 - j1)):
            li, rj = i1 + k, j1 + k
            has_left, has_right = li < i2, rj < j2
            if has_left and has_right:
                seg_l, seg_r = _word_segments(a[li], b[rj])
                rows.append(DiffRow("replace", li + 1, rj + 1, seg_l, seg_r))
            elif has_left:
                rows.append(DiffRow("delete", li + 1, None, [Segment(a[li], True)], []))
            else:
                rows.append(DiffRow("insert", None, rj + 1, [], [Segment(b[rj], True)]))
    if added == removed == 0:  # identical texts: nothing to show but that
        rows = []
    return TextDiff(rows=rows, added=added, removed=removed, truncated=truncated)
