"""Label sets of the ``concepts`` table (``alt_labels``, ``hidden_labels``: ``{"fr": [...], "en": [...]}``).

SKOS labels are sets: a Turtle file carries no order, while the shipped data lists a country's official
name first. Writers therefore compare label sets, not lists, and keep the stored order of the labels that
remain, so an export followed by an import (or a second ``tfe init``) changes nothing and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["LabelMap", "merge_labels", "same_labels"]

LabelMap = Mapping[str, Sequence[str]]


def _sets(labels: LabelMap | None) -> dict[str, frozenset[str]]:
    return {lang: frozenset(values) for lang, values in (labels or {}).items() if values}


def same_labels(a: LabelMap | None, b: LabelMap | None) -> bool:
    """Whether two label maps hold the same labels per language, whatever their order."""
    return _sets(a) == _sets(b)


def merge_labels(stored: LabelMap | None, incoming: LabelMap) -> dict[str, list[str]]:
    """``incoming``'s labels in ``stored``'s order: kept labels first as stored, new ones after, in order.

    ``incoming`` decides *which* labels a concept has; ``stored`` only their order.
    """
    old = stored or {}
    out: dict[str, list[str]] = {}
    for lang, values in incoming.items():
        wanted = list(dict.fromkeys(values))
        if not wanted:
            continue
        chosen = set(wanted)
        keep = [v for v in old.get(lang, []) if v in chosen]
        out[lang] = list(dict.fromkeys([*keep, *wanted]))
    return out
