"""Load the packaged taxonomy into the database tables (idempotent upsert).

The referential in memory (``taxonomy.referential``) is the source; the ``concept_schemes`` and
``concepts`` tables are its curatable copy, used by the API, facets and SKOS export. Running the loader
again updates labels and adds new concepts without duplicating anything.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.models import Concept as ConceptRow
from taxonomy.models import ConceptScheme
from taxonomy.referential import SCHEMES, Concept, Referential

__all__ = ["LOAD_ORDER", "concept_fields", "load_taxonomy"]

LOAD_ORDER = ("naf", "region", "country", "doctype")  # countries point at regions


def concept_fields(c: Concept) -> dict[str, object]:
    """Column values of the ``concepts`` row for a referential concept."""
    hidden = {k: list(v) for k, v in (("fr", c.hidden_labels_fr), ("en", c.hidden_labels_en)) if v}
    extra: dict[str, object] = dict(c.extra)
    if c.scope_note_en:
        extra["scope_note_en"] = c.scope_note_en
    return {
        "scheme_id": c.scheme,
        "notation": c.notation,
        "level": c.level,
        "pref_label_fr": c.label_fr,
        "pref_label_en": c.label_en,
        "alt_labels": {k: list(v) for k, v in (("fr", c.alt_labels_fr), ("en", c.alt_labels_en)) if v},
        "hidden_labels": hidden,
        "definition_en": c.definition_en,
        "broader_id": c.broader,
        "extra": extra,
    }


def load_taxonomy(session: Session, referential: Referential | None = None) -> dict[str, int]:
    """Upsert every scheme and concept; returns the number of concepts per scheme (and changes)."""
    ref = referential or Referential.load()
    existing_schemes = {s.id: s for s in session.scalars(select(ConceptScheme))}
    for info in SCHEMES.values():
        scheme_row = existing_schemes.get(info.id)
        if scheme_row is None:
            session.add(ConceptScheme(id=info.id, uri=info.uri, label_fr=info.label_fr,
                                      label_en=info.label_en, version=info.version))
        else:
            scheme_row.uri, scheme_row.label_fr = info.uri, info.label_fr
            scheme_row.label_en, scheme_row.version = info.label_en, info.version
    session.flush()
    existing = {c.id: c for c in session.scalars(select(ConceptRow))}
    counts: dict[str, int] = {}
    created = updated = 0
    for scheme in LOAD_ORDER:
        # Broader concepts first (by depth), so foreign keys resolve whatever the flush order.
        for c in sorted(ref.concepts(scheme), key=lambda c: len(ref.ancestors(c.id))):
            fields = concept_fields(c)
            row = existing.get(c.id)
            if row is None:
                session.add(ConceptRow(id=c.id, **fields))
                created += 1
            else:
                changed = False
                for key, value in fields.items():
                    if getattr(row, key) != value:
                        setattr(row, key, value)
                        changed = True
                updated += changed
            counts[scheme] = counts.get(scheme, 0) + 1
        session.flush()
    counts["created"] = created
    counts["updated"] = updated
    return counts
