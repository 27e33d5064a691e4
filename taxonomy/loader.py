"""Seed the database tables with the packaged taxonomy (idempotent).

The shipped files (``taxonomy.referential.Referential.from_files``) seed the ``concept_schemes`` and
``concepts`` tables, which are then the source of truth: the API, facets and SKOS export read them, and
so does the running referential (``taxonomy.live.DatabaseReferential``). Running the loader again adds
new concepts and leaves existing ones as curators left them (``overwrite=True`` resets them); label sets
are compared whatever their order (``taxonomy.labels``), so a database that went through a SKOS export
and import reports no change. When it changes something (or the database was never stamped) it bumps
the taxonomy version in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxonomy.labels import same_labels
from taxonomy.models import Concept as ConceptRow
from taxonomy.models import ConceptScheme, TaxonomyChange, assign_changed
from taxonomy.referential import SCHEMES, Concept, Referential
from taxonomy.version import bump_version, current_version

__all__ = ["LOAD_ORDER", "concept_fields", "load_taxonomy"]

LOAD_ORDER = ("naf", "region", "country", "doctype", "filiere", "signal")  # countries point at regions
_LABEL_SETS = ("alt_labels", "hidden_labels")


def _differs(row: ConceptRow, key: str, value: object) -> bool:
    current = getattr(row, key)
    if key in _LABEL_SETS:
        return not same_labels(current, value)  # type: ignore[arg-type]
    return bool(current != value)


def _curated_ids(session: Session) -> set[str]:
    """Concepts some recorded change touched (their rules are a curator's, even when empty)."""
    out: set[str] = set()
    for before, after in session.execute(select(TaxonomyChange.before, TaxonomyChange.after)):
        out.update(before or {})
        out.update(after or {})
    return out


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
        "definition_fr": c.definition_fr,
        "scope_note_fr": c.scope_note_fr,
        "related": list(c.related),
        "mappings": [dict(m) for m in c.mappings],
        "rules": [dict(r) for r in c.rules],
    }


def load_taxonomy(
    session: Session, referential: Referential | None = None, *, overwrite: bool = False
) -> dict[str, int]:
    """Seed the shipped schemes and concepts; returns the number of concepts per scheme (and changes).

    Once seeded, the database is the source of truth: by default existing concepts are left as they are
    (a curator's edit or a SKOS import survives ``tfe init``) and only missing ones are added
    (and missing shipped rules filled in on concepts no recorded change touched);
    ``overwrite=True`` resets existing concepts to the shipped values. ``created`` and ``updated``
    count concepts actually added or modified; the taxonomy version is bumped when anything changed
    (schemes included) or no version was stamped yet.
    """
    ref = referential or Referential.load()
    existing_schemes = {s.id: s for s in session.scalars(select(ConceptScheme))}
    schemes_changed = False
    for info in SCHEMES.values():
        scheme_row = existing_schemes.get(info.id)
        values = {"uri": info.uri, "label_fr": info.label_fr, "label_en": info.label_en,
                  "version": info.version}
        if scheme_row is None:
            session.add(ConceptScheme(id=info.id, **values))
            schemes_changed = True
            continue
        schemes_changed |= assign_changed(scheme_row, values)
    session.flush()
    existing = {c.id: c for c in session.scalars(select(ConceptRow))}
    curated: set[str] | None = None
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
            elif overwrite:
                changed = False
                for key, value in fields.items():
                    if _differs(row, key, value):
                        setattr(row, key, value)
                        changed = True
                updated += changed
            elif not row.rules and fields["rules"]:
                # rules arrived after this database was seeded (the sector keywords became rules):
                # fill them in unless a curator's change touched the concept
                curated = _curated_ids(session) if curated is None else curated
                if row.id not in curated:
                    row.rules = fields["rules"]  # type: ignore[assignment]
                    updated += 1
            counts[scheme] = counts.get(scheme, 0) + 1
        session.flush()
    counts["created"] = created
    counts["updated"] = updated
    if created or updated or schemes_changed or current_version(session) is None:
        bump_version(session)
    return counts
