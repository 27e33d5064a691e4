"""Labelled examples for the learned classifier (``taxonomy.learned``), per scheme.

Three sources, strongest first:

- curator decisions: ``Classification`` rows of method ``curator`` that are not rejections, with the text
  of their target (a document's title and head, a watch item's title and summary);
- validated documents: every classification of a document whose status is ``validated`` (a person read
  and approved it, so its sectors stand as labels);
- seed examples: the taxonomy's own words, so a scheme learns before any decision — each concept's
  French and English labels, alternative and hidden labels, definitions and notes, and for NAF the
  items of Eurostat's "this class includes" notes (``- manufacture of glycerol``), each a seed of its
  class, and the "excludes … see 01.12" items, seeds of the class they point to.

An ``Example`` carries the concept it labels at its own level (a class, a division); the model maps it to
the level it learns (NAF classes) through the referential.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from taxonomy.referential import Concept, Referential

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

TextLookup = Callable[[str, str], "tuple[str, str] | None"]  # (kind, id) -> (title, text)

__all__ = ["Example", "collect_examples", "decision_examples", "seed_examples"]

SEED = "seed"
CURATOR = "curator"
VALIDATED = "validated"
TEXT_CHARS = 1_500  # what the classifier embeds of a document (its head)
_SEE = re.compile(r",?\s*(?:see|cf\.?)?\s*(?:class(?:es)?|group|division)?\s*(\d{2}(?:\.\d{1,2})?)\s*$", re.I)
_HEAD = re.compile(r"^this (?:class|group|division|section) (?:also )?(?:includes|excludes)\b.*", re.I)


@dataclass(frozen=True)
class Example:
    """One labelled text: ``kind`` is seed/curator/validated, ``ref`` names its origin."""

    text: str
    concept_id: str
    kind: str
    ref: str
    title: str = ""


def _note_items(note: str) -> Iterator[tuple[str, bool]]:
    """The items of a Eurostat note, each ``- item`` line with its ``. sub-item`` lines appended, and
    whether it follows an "excludes" heading."""
    current: list[str] = []
    excluded = False
    for raw in note.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("- "):
            if current:
                yield _join(current), excluded
            current = [line[2:].strip()]
        elif line.startswith(". ") and current:
            current.append(line[2:].strip())
        else:
            if current:
                yield _join(current), excluded
                current = []
            if _HEAD.match(line):
                excluded = "exclude" in line.lower()
            elif not excluded:
                yield line, excluded
    if current:
        yield _join(current), excluded


def _join(parts: list[str]) -> str:
    head, subs = parts[0].rstrip(":").strip(), parts[1:]
    return f"{head}: {', '.join(subs)}" if subs else head


def _excluded_target(item: str, scheme: str) -> tuple[str, str] | None:
    """``growing of rice, see 01.12`` → (``growing of rice``, ``naf:01.12``)."""
    m = _SEE.search(item)
    if not m or "see" not in item.lower():
        return None
    text = item[: m.start()].rstrip(" ,;")
    return (text, f"{scheme}:{m.group(1)}") if text else None


def _concept_seeds(c: Concept) -> Iterator[tuple[str, str]]:
    """(text, concept id) seeds of one concept, its own words only."""
    labels = dict.fromkeys(
        t.strip()
        for t in (c.label_fr, c.label_en, *c.alt_labels_fr, *c.alt_labels_en, *c.hidden_labels_fr,
                  *c.hidden_labels_en, c.definition_fr, c.scope_note_fr)
        if t and t.strip()
    )
    for text in labels:
        yield text, c.id
    if c.level == "subclass":  # a sous-classe shares its class's notes: its labels are its own
        return
    for note in (c.definition_en, c.scope_note_en):
        for item, excluded in _note_items(note):
            if (target := _excluded_target(item, c.scheme)) is not None:
                yield target  # "growing of rice, see 01.12" is an example of 01.12
            elif not excluded:
                yield item, c.id


def seed_examples(ref: Referential, scheme: str, *, levels: Iterable[str] | None = None) -> list[Example]:
    """Seed examples of a scheme from its concepts' labels and notes (deduplicated per concept).

    ``levels`` keeps the concepts of those levels (NAF: ``("class", "subclass")``); a seed pointing to a
    concept missing from the referential is dropped."""
    wanted = set(levels) if levels is not None else None
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for c in ref.concepts(scheme):
        if c.deprecated or (wanted is not None and c.level not in wanted):
            continue
        for text, cid in _concept_seeds(c):
            key = (text.lower(), cid)
            if key in seen or cid not in ref or len(text) < 3:
                continue
            seen.add(key)
            out.append(Example(text=text, concept_id=cid, kind=SEED, ref=c.id))
    return out


def decision_examples(
    session: Session,
    ref: Referential,
    scheme: str,
    text_of: TextLookup,
    *,
    validated: Iterable[tuple[str, str]] = (),
) -> list[Example]:
    """Curator decisions (``curator`` rows that are not rejections) and every classification of the
    ``validated`` targets ((kind, id): documents a person approved), one example per (target, concept).

    ``text_of(kind, id)`` answers the target's (title, text) or ``None`` when it is gone; the domain
    owning the target (GED, watch) supplies it, this package does not read their tables."""
    from sqlalchemy import select

    from taxonomy.classifications import CURATOR as CURATOR_METHOD
    from taxonomy.classifications import REJECTED
    from taxonomy.models import Classification

    scheme_ids = {c.id for c in ref.concepts(scheme)}
    wanted = set(validated)
    query = select(Classification).order_by(Classification.id)
    rows = [r for r in session.scalars(query) if r.concept_id in scheme_ids]
    out: list[Example] = []
    seen: set[tuple[str, str, str]] = set()
    texts: dict[tuple[str, str], tuple[str, str] | None] = {}
    for row in rows:
        target = (row.target_kind, row.target_id)
        if row.method == CURATOR_METHOD:
            if (row.explanation or {}).get(REJECTED):
                continue
            kind = CURATOR
        elif target in wanted:
            kind = VALIDATED
        else:
            continue
        key = (row.target_kind, row.target_id, row.concept_id)
        if key in seen:
            continue
        seen.add(key)
        if target not in texts:
            texts[target] = text_of(*target)
        found = texts[target]
        if found is None or not (found[0] or found[1]).strip():
            continue
        title, text = found
        out.append(Example(text=f"{title}\n{text}"[:TEXT_CHARS], concept_id=row.concept_id, kind=kind,
                           ref=f"{row.target_kind}:{row.target_id}", title=title))
    out.sort(key=lambda e: e.kind != CURATOR)  # a curator's word first
    return out


def collect_examples(
    ref: Referential,
    scheme: str,
    session: Session | None = None,
    text_of: TextLookup | None = None,
    *,
    validated: Iterable[tuple[str, str]] = (),
    seeds: bool = True,
) -> list[Example]:
    """Every example of a scheme: decisions first (with a session and a text lookup), then seeds."""
    out = (decision_examples(session, ref, scheme, text_of, validated=validated)
           if session is not None and text_of is not None else [])
    if seeds:
        out += seed_examples(ref, scheme, levels=("class", "subclass") if scheme == "naf" else None)
    return out
