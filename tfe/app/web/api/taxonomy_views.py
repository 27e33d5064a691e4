"""The dicts the taxonomy editing routes answer (and the curators' pages may show): a concept in full with
its use in the caller's scope, and a change with its diff."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, null, select
from sqlalchemy.orm import Session

from ged.models import Document
from taxonomy.changes import change_view
from taxonomy.classifications import CURATOR, REJECTED
from taxonomy.editing import diff, history
from taxonomy.editing_checks import descendants
from taxonomy.models import Classification, Concept, TaxonomyChange
from tfe.core.security.scope import AccessScope
from veille.models import Item

__all__ = ["change_detail", "change_view", "concept_counts", "concept_detail"]

HISTORY_SHOWN = 10


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def change_detail(change: TaxonomyChange) -> dict[str, Any]:
    moved = [{"id": m["id"], "from": m.get("from"), "to": m.get("to")} for m in change.moved or []]
    return {**change_view(change), "diff": diff(change), "moved": moved}


def _holders(session: Session, concept_ids: list[str], kind: str, visible: Any, model: Any) -> int:
    rows = session.execute(
        select(
            Classification.target_id,
            Classification.concept_id,
            Classification.method,
            Classification.explanation,
        )
        .join(model, model.id == Classification.target_id)
        .where(Classification.target_kind == kind, Classification.concept_id.in_(concept_ids), visible)
    ).all()
    rejected = {(t, c) for t, c, m, e in rows if m == CURATOR and (e or {}).get(REJECTED)}
    return len({t for t, c, _m, _e in rows if (t, c) not in rejected})


def concept_counts(session: Session, scope: AccessScope, concept_id: str) -> dict[str, int]:
    """Documents and watch items in ``scope`` that hold the concept or one of its descendants."""
    ids = [concept_id, *descendants(session, concept_id)]
    documents = scope.sql_clause(
        Document.visibility,
        Document.org_id,
        Document.owner_user_id,
        status=Document.status,
        deleted_at=Document.deleted_at,
    )
    items = scope.sql_clause(Item.visibility, Item.org_id, null().cast(Integer))
    return {
        "documents": _holders(session, ids, "document", documents, Document),
        "items": _holders(session, ids, "item", items, Item),
    }


def _links(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    rows = {c.id: c for c in session.scalars(select(Concept).where(Concept.id.in_(ids)))} if ids else {}
    return [
        {"id": i, "label": rows[i].pref_label_fr, "deprecated": rows[i].deprecated}
        if i in rows
        else {"id": i, "label": i, "deprecated": False}
        for i in ids
    ]


def _link(session: Session, concept_id: str | None) -> dict[str, Any] | None:
    return _links(session, [concept_id])[0] if concept_id else None


def concept_detail(session: Session, scope: AccessScope, row: Concept) -> dict[str, Any]:
    """The concept in full (``ConceptDetailPublic``)."""
    narrower = list(
        session.scalars(select(Concept.id).where(Concept.broader_id == row.id).order_by(Concept.notation))
    )
    mappings = [m for m in row.mappings or [] if isinstance(m, dict)]
    targets = {
        link["id"]: link["label"] for link in _links(session, [str(m.get("target")) for m in mappings])
    }
    return {
        "id": row.id,
        "scheme": row.scheme_id,
        "notation": row.notation,
        "level": row.level or "",
        "label": row.pref_label_fr,
        "label_en": row.pref_label_en or "",
        "alt_labels": {k: list(v) for k, v in (row.alt_labels or {}).items()},
        "hidden_labels": {k: list(v) for k, v in (row.hidden_labels or {}).items()},
        "definition_fr": row.definition_fr or "",
        "definition_en": row.definition_en or "",
        "scope_note_fr": row.scope_note_fr or "",
        "broader": _link(session, row.broader_id),
        "narrower": _links(session, narrower),
        "related": _links(session, [str(r) for r in row.related or []]),
        "mappings": [
            {
                "relation": str(m.get("relation", "")),
                "target": str(m.get("target", "")),
                "label": targets.get(str(m.get("target")), ""),
            }
            for m in mappings
        ],
        "rules": [dict(r) for r in row.rules or [] if isinstance(r, dict)],
        "deprecated": row.deprecated,
        "replaced_by": _link(session, row.replaced_by_id),
        "updated_at": _iso(row.updated_at),
        "counts": concept_counts(session, scope, row.id),
        "history": [change_view(c) for c in history(session, row.id, limit=HISTORY_SHOWN)],
    }
