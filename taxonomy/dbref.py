"""The referential built from the database tables (``concept_schemes``, ``concepts``).

The tables are the curatable copy of the taxonomy (seeded from ``taxonomy/data`` by ``tfe init``,
edited by ``tfe taxonomy import`` and curators), so the running product classifies and labels with
them: ``Referential.from_database(session)`` gives the same ``Concept`` objects, name index and
hierarchy as ``Referential.from_files()`` would for the same data. Concepts keep the shipped data order
(ties in the classifier and the name index depend on it), new ones follow by id. Sector lemmas come from
the shipped ``lemmas.json`` when a NAF label is unchanged and are computed for the others
(``taxonomy.lemmas``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.lemmas import LabelLemmatiser, Lemmatise
from taxonomy.models import Concept as ConceptRow
from taxonomy.referential import SCHEMES, Concept, Referential

__all__ = ["concept_of_row", "referential_from_database"]

_DEFAULT_LEMMATISER = LabelLemmatiser()


def _labels(labels: dict[str, Any] | None, lang: str) -> tuple[str, ...]:
    return tuple(str(v) for v in (labels or {}).get(lang, []) if v)


def concept_of_row(row: ConceptRow) -> Concept:
    """The immutable ``Concept`` of one ``concepts`` row (the inverse of ``loader.concept_fields``)."""
    extra = dict(row.extra or {})
    note = extra.pop("scope_note_en", "")
    return Concept(
        id=row.id, scheme=row.scheme_id, notation=row.notation, level=row.level or "",
        label_fr=row.pref_label_fr or "", label_en=row.pref_label_en or "", broader=row.broader_id,
        definition_en=row.definition_en or "", scope_note_en=str(note or ""),
        alt_labels_fr=_labels(row.alt_labels, "fr"), alt_labels_en=_labels(row.alt_labels, "en"),
        hidden_labels_fr=_labels(row.hidden_labels, "fr"), hidden_labels_en=_labels(row.hidden_labels, "en"),
        extra={k: "" if v is None else str(v) for k, v in extra.items()},
        definition_fr=row.definition_fr or "", scope_note_fr=row.scope_note_fr or "",
        related=tuple(str(r) for r in (row.related or [])),
        mappings=tuple(dict(m) for m in (row.mappings or []) if isinstance(m, dict)),
        rules=tuple(dict(r) for r in (row.rules or []) if isinstance(r, dict)),
        deprecated=bool(row.deprecated), replaced_by=row.replaced_by_id,
    )


def _in_shipped_order(concepts: list[Concept], shipped: Referential) -> list[Concept]:
    rank = {s: i for i, s in enumerate(SCHEMES)}
    position = {c.id: i for s in SCHEMES for i, c in enumerate(shipped.concepts(s))}
    last = len(position)
    return sorted(
        concepts, key=lambda c: (rank.get(c.scheme, len(rank)), c.scheme, position.get(c.id, last), c.id)
    )


def _sector_lemmas(
    concepts: list[Concept], shipped: Referential, lemmatise: Lemmatise
) -> dict[str, list[str]]:
    """Lemmas of every NAF label: precomputed when the label is the shipped one, computed otherwise."""
    precomputed: dict[str, list[str]] = shipped.lemmas.get("labels", {})
    out: dict[str, list[str]] = {}
    pending: list[Concept] = []
    for c in concepts:
        if c.scheme != "naf":
            continue
        before = shipped.get(c.id)
        if before is not None and before.label_fr == c.label_fr and c.id in precomputed:
            out[c.id] = list(precomputed[c.id])
        elif c.label_fr:
            pending.append(c)
    if pending:
        for c, lemmas in zip(pending, lemmatise([c.label_fr for c in pending]), strict=True):
            out[c.id] = lemmas
    return out


def referential_from_database(
    session: Session, *, lemmatise: Lemmatise | None = None, shipped: Referential | None = None
) -> Referential:
    """A referential of every concept in the database (empty when the tables are empty).

    ``shipped`` (default: the package data) supplies the data order and the precomputed lemmas;
    ``lemmatise`` (default: spaCy, cached) lemmatises changed or new NAF labels.
    """
    shipped = shipped or Referential.load()
    concepts = _in_shipped_order([concept_of_row(r) for r in session.scalars(select(ConceptRow))], shipped)
    lemmas = {
        "format": shipped.lemmas.get("format", 1),
        "model": shipped.lemmas.get("model", ""),
        "labels": _sector_lemmas(concepts, shipped, lemmatise or _DEFAULT_LEMMATISER),
        "keywords": dict(shipped.lemmas.get("keywords", {})),
    }
    return Referential(concepts, lemmas)
