"""The read side of the curators' queue: who may decide on which items, and the queue itself.

- who decides (``may_curate``): curators and administrators, on the items they can see whose source their
  organisation owns or belongs to the shared catalogue (``network``/``public`` sources, or none); a
  reader is ``PermissionDeniedError``; an item outside that set is ``NotFoundError`` (existence not
  disclosed). The same rule is a SQL condition in the queue query (``curatable_clause``).
- ``curation_queue``: the items waiting for (or having had) a decision, filtered by source, sector,
  country, status and the classifier's confidence (its best sector score), audited as ``curation.queue``.

The decisions themselves are ``veille.curation``'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, func, null, or_, select, true
from sqlalchemy.orm import Session

from taxonomy.classifications import CURATOR, classifications_of
from taxonomy.models import Classification, Concept
from taxonomy.referential import Referential
from tfe.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope
from veille.facets import classified_under
from veille.models import CURATOR_STATUSES, Item, Source

__all__ = [
    "CURATE_ROLES",
    "MAX_LIMIT",
    "SHARED_SOURCES",
    "ConceptScore",
    "QueueItem",
    "QueuePage",
    "confidence_of",
    "curatable_clause",
    "curatable_item",
    "curatable_sources",
    "curation_queue",
    "may_curate",
    "queue_item",
    "require_curator",
]

CURATE_ROLES = frozenset({"curator", "admin"})
SHARED_SOURCES = ("network", "public")
MAX_LIMIT = 200


@dataclass(frozen=True)
class ConceptScore:
    id: str
    label: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "score": self.score}


@dataclass(frozen=True)
class QueueItem:
    """One line of the queue: the item, its source, what the classifier (or a curator) assigned."""

    id: str
    title: str
    url: str | None
    source: dict[str, Any] | None  # {"id", "title"}
    fetched_at: dt.datetime | None
    published_at: dt.datetime | None
    sectors: list[ConceptScore]
    countries: list[ConceptScore]
    type: ConceptScore | None
    confidence: float | None  # the classifier's best sector score (``None``: no sector proposed)
    story_id: str | None
    curator_status: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "sectors": [c.as_dict() for c in self.sectors],
            "countries": [c.as_dict() for c in self.countries],
            "type": self.type.as_dict() if self.type else None,
            "confidence": self.confidence,
            "story_id": self.story_id,
            "curator_status": self.curator_status,
        }


@dataclass(frozen=True)
class QueuePage:
    total: int
    items: list[QueueItem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "items": [i.as_dict() for i in self.items]}


# ------------------------------------------------------------------ who may decide


def may_curate(scope: AccessScope) -> bool:
    """Curators, administrators and system jobs decide on items."""
    return scope.system or bool(scope.roles & CURATE_ROLES)


def require_curator(scope: AccessScope) -> None:
    """``PermissionDeniedError`` unless ``may_curate``."""
    if not may_curate(scope):
        raise PermissionDeniedError("deciding on watch items needs the curator or admin role")


def curatable_sources(scope: AccessScope) -> ColumnElement[bool]:
    """Sources whose items ``scope`` may decide on (or no source, for an outer join), as a condition."""
    if scope.system:
        return true()
    sources: list[ColumnElement[bool]] = [
        Source.id.is_(None),
        Source.org_id.is_(None),
        Source.visibility.in_(SHARED_SOURCES),
    ]
    if scope.org_id is not None:
        sources.append(Source.org_id == scope.org_id)
    return or_(*sources)


def curatable_clause(scope: AccessScope) -> ColumnElement[bool]:
    """Items ``scope`` may decide on, as a condition on ``Item`` outer-joined with its ``Source``."""
    visible = scope.sql_clause(Item.visibility, Item.org_id, null().cast(Integer))
    if scope.system:
        return visible
    return and_(visible, curatable_sources(scope))


def curatable_item(session: Session, scope: AccessScope, item_id: str) -> Item:
    """The item ``scope`` may decide on; ``NotFoundError`` otherwise."""
    found = session.scalar(
        select(Item)
        .outerjoin(Source, Source.id == Item.source_id)
        .where(Item.id == item_id, curatable_clause(scope))
    )
    if found is None:
        raise NotFoundError(f"unknown item {item_id!r}")
    return found


# ------------------------------------------------------------------ the queue


def _best_sector_score(item_id: Any) -> Select[Any]:
    """The classifier's best sector score of ``item_id`` (a column or a value; curator rows excluded)."""
    return (
        select(func.max(Classification.score))
        .join(Concept, Concept.id == Classification.concept_id)
        .where(
            Classification.target_kind == "item",
            Classification.target_id == item_id,
            Classification.method != CURATOR,
            Concept.scheme_id == "naf",
        )
    )


def confidence_of(session: Session, item_id: str) -> float | None:
    """The classifier's best sector score of one item (``None``: no sector proposed)."""
    value = session.scalar(_best_sector_score(item_id))
    return None if value is None else float(value)


def _score(value: float | None, name: str) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValidationError(f"{name} must be between 0 and 1")


def queue_item(session: Session, item: Item, source_title: str | None, confidence: float | None) -> QueueItem:
    """One line of the queue for ``item`` (its classifications read now)."""
    views = classifications_of(session, "item", item.id)

    def of(scheme: str) -> list[ConceptScore]:
        return [ConceptScore(c.concept_id, c.label, c.score) for c in views if c.scheme == scheme]

    types = of("doctype")
    return QueueItem(
        id=item.id,
        title=item.title,
        url=item.url,
        source={"id": item.source_id, "title": source_title or ""} if item.source_id is not None else None,
        fetched_at=item.fetched_at,
        published_at=item.published_at,
        sectors=of("naf"),
        countries=of("country"),
        type=types[0] if types else None,
        confidence=None if confidence is None else round(float(confidence), 4),
        story_id=item.story_id,
        curator_status=item.curator_status,
    )


def curation_queue(
    session: Session,
    scope: AccessScope,
    *,
    referential: Referential,
    source_id: int | None = None,
    sector: str | None = None,
    country: str | None = None,
    min_confidence: float | None = None,
    max_confidence: float | None = None,
    status: str | None = "new",
    limit: int = 50,
    offset: int = 0,
    channel: str = "api",
) -> QueuePage:
    """The items waiting for (or, with ``status``, having had) a decision, newest first; audited.

    ``sector`` is a NAF concept (id, code or name; its narrower concepts count), ``country`` a country or
    a zone; the confidence bounds apply to the classifier's best sector score (an item without a sector
    counts as 0). ``status`` ``None`` or ``"all"`` lists every status.
    """
    require_curator(scope)
    if status == "all":
        status = None
    if status is not None and status not in CURATOR_STATUSES:
        raise ValidationError(f"status must be one of {', '.join(CURATOR_STATUSES)} or all")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}")
    if offset < 0:
        raise ValidationError("offset must be zero or more")
    _score(min_confidence, "min_confidence")
    _score(max_confidence, "max_confidence")
    confidence = _best_sector_score(Item.id).correlate(Item).scalar_subquery()
    clauses: list[ColumnElement[bool]] = [curatable_clause(scope)]
    if status is not None:
        clauses.append(Item.curator_status == status)
    if source_id is not None:
        clauses.append(Item.source_id == source_id)
    clauses.extend(classified_under(referential, sector=sector, country=country))
    if min_confidence is not None:
        clauses.append(func.coalesce(confidence, 0.0) >= min_confidence)
    if max_confidence is not None:
        clauses.append(func.coalesce(confidence, 0.0) <= max_confidence)
    base = select(Item.id).outerjoin(Source, Source.id == Item.source_id).where(*clauses)
    total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    rows = session.execute(
        select(Item, Source.title, confidence.label("confidence"))
        .outerjoin(Source, Source.id == Item.source_id)
        .where(*clauses)
        .order_by(Item.fetched_at.desc(), Item.id)
        .limit(limit)
        .offset(offset)
    ).all()
    items = [queue_item(session, item, title, conf) for item, title, conf in rows]
    filters = {
        "source_id": source_id,
        "sector": sector,
        "country": country,
        "min_confidence": min_confidence,
        "max_confidence": max_confidence,
        "status": status or "all",
    }
    audit.record(
        session,
        "curation.queue",
        audit.Actor.of_scope(scope, channel),
        target_kind="item",
        detail={**{k: v for k, v in filters.items() if v is not None}, "total": total, "offset": offset},
    )
    return QueuePage(total=total, items=items)
