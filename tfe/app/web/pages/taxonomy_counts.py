"""How many documents and watch items in the viewer's scope hold each concept, for the curators' pages.

One grouped SQL statement per page, never one per concept: a recursive closure maps every concept of the
scheme to itself and its ancestors, the classifications in scope are joined to it (a curator's rejection,
score 0, does not count), and distinct targets are counted per ancestor, so a node's figure covers its
descendants without counting a target twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, func, literal, not_, null, select, union
from sqlalchemy.orm import Session, aliased

from ged.models import Document
from taxonomy.classifications import CURATOR
from taxonomy.models import Classification, Concept
from tfe.core.security.scope import AccessScope
from veille.models import Item

__all__ = ["Counts", "examples", "scheme_totals", "tree_counts"]


@dataclass(frozen=True)
class Counts:
    documents: int = 0
    items: int = 0


def _document_scope(scope: AccessScope) -> Any:
    return scope.sql_clause(
        Document.visibility,
        Document.org_id,
        Document.owner_user_id,
        status=Document.status,
        deleted_at=Document.deleted_at,
    )


def _item_scope(scope: AccessScope) -> Any:
    return scope.sql_clause(Item.visibility, Item.org_id, null().cast(Integer))


_LIVE = not_(and_(Classification.method == CURATOR, Classification.score <= 0))


def _held(scope: AccessScope, key: Any, join_on: Any, where: Any) -> Any:
    """(key, kind, target) of the classifications in scope, documents and items together, distinct."""
    documents = (
        select(key.label("key"), literal("document").label("kind"), Classification.target_id)
        .select_from(join_on)
        .join(Document, Document.id == Classification.target_id)
        .where(Classification.target_kind == "document", _LIVE, _document_scope(scope), where)
    )
    items = (
        select(key.label("key"), literal("item").label("kind"), Classification.target_id)
        .select_from(join_on)
        .join(Item, Item.id == Classification.target_id)
        .where(Classification.target_kind == "item", _LIVE, _item_scope(scope), where)
    )
    return union(documents, items).subquery()


def _grouped(session: Session, held: Any) -> dict[str, Counts]:
    rows = session.execute(
        select(held.c.key, held.c.kind, func.count()).group_by(held.c.key, held.c.kind)
    ).all()
    found: dict[str, dict[str, int]] = {}
    for key, kind, count in rows:
        found.setdefault(str(key), {})[str(kind)] = int(count)
    return {k: Counts(v.get("document", 0), v.get("item", 0)) for k, v in found.items()}


def tree_counts(session: Session, scope: AccessScope, scheme_id: str) -> dict[str, Counts]:
    """concept id -> documents and items in ``scope`` holding it or one of its descendants."""
    closure = (
        select(Concept.id.label("concept_id"), Concept.id.label("ancestor_id"))
        .where(Concept.scheme_id == scheme_id)
        .cte("closure", recursive=True)
    )
    parent = aliased(Concept)
    closure = closure.union_all(
        select(closure.c.concept_id, parent.broader_id)
        .join(parent, parent.id == closure.c.ancestor_id)
        .where(parent.broader_id.is_not(None))
    )
    join_on = closure.join(Classification, Classification.concept_id == closure.c.concept_id)
    return _grouped(session, _held(scope, closure.c.ancestor_id, join_on, literal(True)))


def scheme_totals(session: Session, scope: AccessScope) -> dict[str, Counts]:
    """scheme id -> documents and items in ``scope`` holding at least one of its concepts."""
    join_on = Classification.__table__.join(Concept, Concept.id == Classification.concept_id)
    return _grouped(session, _held(scope, Concept.scheme_id, join_on, literal(True)))


def examples(session: Session, scope: AccessScope, concept_id: str, limit: int = 5) -> dict[str, list[Any]]:
    """A few documents and items in ``scope`` holding the concept itself, best score first."""
    documents = session.execute(
        select(Document.id, Document.title)
        .join(Classification, Classification.target_id == Document.id)
        .where(
            Classification.target_kind == "document",
            Classification.concept_id == concept_id,
            _LIVE,
            _document_scope(scope),
        )
        .order_by(Classification.score.desc(), Document.id)
        .limit(limit)
    ).all()
    items = session.execute(
        select(Item.id, Item.title)
        .join(Classification, Classification.target_id == Item.id)
        .where(
            Classification.target_kind == "item",
            Classification.concept_id == concept_id,
            _LIVE,
            _item_scope(scope),
        )
        .order_by(Classification.score.desc(), Item.id)
        .limit(limit)
    ).all()
    return {"documents": list(documents), "items": list(items)}
