"""The curators' queue: list watch items waiting for a decision, accept, reject or correct them.

One use case for the API (``/api/curation/...``, ``POST /api/items/{id}/decision``), the page
(``/veille/validation``) and the poller (``auto_accept``):

- who decides (``may_curate``): curators and administrators, on the items they can see whose source their
  organisation owns or belongs to the shared catalogue (``network``/``public`` sources, or none); a
  reader is ``PermissionDeniedError``; an item outside that set is ``NotFoundError`` (existence not
  disclosed). The same rule is a SQL condition in the queue query (``curatable_clause``).
- ``accept`` and ``reject`` set the item's ``curator_status``; ``correct`` replaces its sectors, countries,
  type or story and accepts it. Corrections are ``curator`` classification rows (a concept removed is a
  ``curator`` rejection row, ``taxonomy.classifications.REJECTED``), the rule ``ged.editing`` follows for
  documents, so no reclassification undoes them.
- every decision is an ``ItemDecision`` row (with the classifier's proposals at that moment, for the
  classifier to learn from), is audited as ``item.decision`` and re-indexes the item's passages
  (``veille.item_index``) so that searches leave rejected items out (``search.filters.visible_filter``).
- ``auto_accept`` accepts a new item whose best sector score reaches its source's
  ``auto_accept_threshold`` (status ``auto_accepted``, decision row without a user, audited as system).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Integer, and_, delete, exists, func, null, or_, select
from sqlalchemy.orm import Session

from search.backend import SearchBackend
from taxonomy.classifications import (
    CURATOR,
    REJECTED,
    ClassificationView,
    classifications_of,
    save_classifications,
)
from taxonomy.classifier import Scored
from taxonomy.models import Classification, Concept
from taxonomy.referential import Referential
from tfe.core.db import utcnow
from tfe.core.errors import NotFoundError, PermissionDeniedError, TfeError, ValidationError
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope
from veille.item_index import reindex_item
from veille.models import CURATOR_STATUSES, Item, ItemDecision, Source, Story

__all__ = [
    "CURATE_ROLES",
    "DECISIONS",
    "MAX_BULK",
    "MAX_LIMIT",
    "SHARED_SOURCES",
    "BulkResult",
    "ConceptScore",
    "ItemDecisionView",
    "QueueItem",
    "QueuePage",
    "auto_accept",
    "curatable_clause",
    "curation_queue",
    "decide",
    "decide_many",
    "may_curate",
]

Decision = Literal["accept", "reject", "correct"]
DECISIONS: tuple[str, ...] = ("accept", "reject", "correct")
CURATE_ROLES = frozenset({"curator", "admin"})
SHARED_SOURCES = ("network", "public")
MAX_LIMIT = 200
MAX_BULK = 200
_STATUS_OF = {"accept": "accepted", "reject": "rejected", "correct": "accepted"}
_SCHEMES = {"sectors": ("naf", "sector"), "countries": ("country", "country")}


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


@dataclass(frozen=True)
class ItemDecisionView:
    """The item after a decision: its new status, who decided when, what changed."""

    item_id: str
    decision: str
    curator_status: str
    decided_at: dt.datetime
    decided_by_user_id: int | None
    changes: dict[str, Any]
    item: QueueItem

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "decision": self.decision,
            "curator_status": self.curator_status,
            "decided_at": self.decided_at.isoformat(),
            "decided_by_user_id": self.decided_by_user_id,
            "changes": self.changes,
            "item": self.item.as_dict(),
        }


@dataclass(frozen=True)
class BulkResult:
    done: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # {"id", "reason"}

    def as_dict(self) -> dict[str, Any]:
        return {"done": list(self.done), "failed": [dict(f) for f in self.failed]}


# ------------------------------------------------------------------ who may decide


def may_curate(scope: AccessScope) -> bool:
    """Curators, administrators and system jobs decide on items."""
    return scope.system or bool(scope.roles & CURATE_ROLES)


def _require_curator(scope: AccessScope) -> None:
    if not may_curate(scope):
        raise PermissionDeniedError("deciding on watch items needs the curator or admin role")


def curatable_clause(scope: AccessScope) -> ColumnElement[bool]:
    """Items ``scope`` may decide on, as a condition on ``Item`` outer-joined with its ``Source``."""
    visible = scope.sql_clause(Item.visibility, Item.org_id, null().cast(Integer))
    if scope.system:
        return visible
    sources: list[ColumnElement[bool]] = [
        Source.id.is_(None),
        Source.org_id.is_(None),
        Source.visibility.in_(SHARED_SOURCES),
    ]
    if scope.org_id is not None:
        sources.append(Source.org_id == scope.org_id)
    return and_(visible, or_(*sources))


def _curatable_item(session: Session, scope: AccessScope, item_id: str) -> Item:
    found = session.scalar(
        select(Item)
        .outerjoin(Source, Source.id == Item.source_id)
        .where(Item.id == item_id, curatable_clause(scope))
    )
    if found is None:
        raise NotFoundError(f"unknown item {item_id!r}")
    return found


# ------------------------------------------------------------------ the queue


def _confidence_expr() -> Any:
    """The classifier's best sector score of the outer ``Item`` (curator rows excluded)."""
    return (
        select(func.max(Classification.score))
        .join(Concept, Concept.id == Classification.concept_id)
        .where(
            Classification.target_kind == "item",
            Classification.target_id == Item.id,
            Classification.method != CURATOR,
            Concept.scheme_id == "naf",
        )
        .correlate(Item)
        .scalar_subquery()
    )


def _with_concepts(ids: Iterable[str]) -> ColumnElement[bool]:
    """Items holding one of ``ids`` (not as a curator's rejection, which has score 0)."""
    return exists(
        select(Classification.id).where(
            Classification.target_kind == "item",
            Classification.target_id == Item.id,
            Classification.concept_id.in_(list(ids)),
            or_(Classification.method != CURATOR, Classification.score > 0),
        )
    )


def _descendants(referential: Referential, concept_id: str) -> list[str]:
    out, todo = [concept_id], [concept_id]
    while todo:
        for child in referential.narrower(todo.pop()):
            if child not in out:
                out.append(child)
                todo.append(child)
    return out


def _sector_ids(referential: Referential, value: str) -> list[str]:
    concept_id = referential.resolve(value, "naf")
    if concept_id is None:
        raise ValidationError(f"unknown sector {value.strip()!r}")
    return _descendants(referential, concept_id)


def _country_ids(referential: Referential, value: str) -> list[str]:
    concept_id = referential.resolve(value, "country")
    if concept_id is not None:
        return [concept_id]
    region = referential.resolve(value, "region")
    if region is None:
        raise ValidationError(f"unknown country or zone {value.strip()!r}")
    return [c.id for c in referential.concepts("country") if region in referential.regions_of(c.id)]


def _score(value: float | None, name: str) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValidationError(f"{name} must be between 0 and 1")


def _queue_item(
    session: Session, item: Item, source_title: str | None, confidence: float | None
) -> QueueItem:
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
    _require_curator(scope)
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
    confidence = _confidence_expr()
    clauses: list[ColumnElement[bool]] = [curatable_clause(scope)]
    if status is not None:
        clauses.append(Item.curator_status == status)
    if source_id is not None:
        clauses.append(Item.source_id == source_id)
    if sector:
        clauses.append(_with_concepts(_sector_ids(referential, sector)))
    if country:
        clauses.append(_with_concepts(_country_ids(referential, country)))
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
    items = [_queue_item(session, item, title, conf) for item, title, conf in rows]
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


# ------------------------------------------------------------------ decisions


def _proposals(session: Session, item_id: str) -> list[dict[str, Any]]:
    """The item's classifications as they stand before the decision (what the classifier learns from)."""
    return [
        {"id": c.concept_id, "scheme": c.scheme, "score": c.score, "method": c.method}
        for c in classifications_of(session, "item", item_id)
    ]


def _mark(
    session: Session, item_id: str, concept_ids: Sequence[str], *, keep: bool, user_id: int | None
) -> None:
    """Replace every row of these concepts on the item by the curator's decision (kept or rejected)."""
    if not concept_ids:
        return
    session.execute(
        delete(Classification).where(
            Classification.target_kind == "item",
            Classification.target_id == item_id,
            Classification.concept_id.in_(list(concept_ids)),
        )
    )
    if keep:
        save_classifications(
            session, "item", item_id, [Scored(c, 1.0, []) for c in concept_ids], method=CURATOR
        )
        return
    for concept_id in concept_ids:
        session.add(
            Classification(
                target_kind="item",
                target_id=item_id,
                concept_id=concept_id,
                score=0.0,
                method=CURATOR,
                explanation={"evidence": [], "user_id": user_id, REJECTED: True},
            )
        )


def _resolve_all(referential: Referential, values: Iterable[str], kind: str) -> list[str]:
    scheme, what = _SCHEMES[kind]
    out: list[str] = []
    for value in values:
        concept_id = referential.resolve(value, scheme)
        if concept_id is None:
            raise ValidationError(f"unknown {what} {value.strip()!r}")
        if concept_id not in out:
            out.append(concept_id)
    return out


def _replace_set(
    session: Session,
    item_id: str,
    current: list[ClassificationView],
    scheme: str,
    wanted: list[str],
    user_id: int | None,
) -> dict[str, list[str]]:
    """Make ``wanted`` the item's concepts of ``scheme``: keep them as curator rows, reject the others."""
    had = [c.concept_id for c in current if c.scheme == scheme]
    removed = [c for c in had if c not in wanted]
    _mark(session, item_id, wanted, keep=True, user_id=user_id)
    _mark(session, item_id, removed, keep=False, user_id=user_id)
    return {
        "added": [c for c in wanted if c not in had],
        "removed": removed,
        "kept": [c for c in wanted if c in had],
    }


def _correct(
    session: Session,
    referential: Referential,
    item: Item,
    scope: AccessScope,
    *,
    sectors: Sequence[str] | None,
    countries: Sequence[str] | None,
    doc_type: str | None,
    story_id: str | None,
) -> dict[str, Any]:
    """Apply a correction: checks first (names, story), then the rows; what changed."""
    wanted_sectors = _resolve_all(referential, sectors, "sectors") if sectors is not None else None
    wanted_countries = _resolve_all(referential, countries, "countries") if countries is not None else None
    wanted_type = None
    if doc_type is not None:
        wanted_type = referential.resolve(doc_type, "doctype")
        if wanted_type is None:
            raise ValidationError(f"unknown type {doc_type.strip()!r}")
    story = None
    if story_id is not None:
        story = session.get(Story, story_id)
        if story is None:
            raise ValidationError(f"unknown story {story_id!r}")
    current = classifications_of(session, "item", item.id)
    changes: dict[str, Any] = {}
    if wanted_sectors is not None:
        changes["sectors"] = _replace_set(session, item.id, current, "naf", wanted_sectors, scope.user_id)
    if wanted_countries is not None:
        changes["countries"] = _replace_set(
            session, item.id, current, "country", wanted_countries, scope.user_id
        )
    if wanted_type is not None:
        changes["type"] = _replace_set(session, item.id, current, "doctype", [wanted_type], scope.user_id)
    if story is not None and story.id != item.story_id:
        changes["story_id"] = [item.story_id, story.id]
        _move_to_story(session, item, story)
    return changes


def _move_to_story(session: Session, item: Item, story: Story) -> None:
    """Put the item in ``story`` and keep both stories' counters true."""
    old = session.get(Story, item.story_id) if item.story_id else None
    item.story_id = story.id
    session.flush()
    for s in (old, story):
        if s is None:
            continue
        s.item_count = int(session.scalar(select(func.count()).where(Item.story_id == s.id)) or 0)
        s.source_count = int(
            session.scalar(select(func.count(func.distinct(Item.source_id))).where(Item.story_id == s.id))
            or 0
        )


def _record_decision(
    session: Session,
    item: Item,
    decision: str,
    status: str,
    user_id: int | None,
    changes: dict[str, Any],
) -> ItemDecision:
    item.curator_status = status
    item.decided_at = utcnow()
    item.decided_by_user_id = user_id
    row = ItemDecision(
        item_id=item.id, user_id=user_id, decision=decision, at=item.decided_at, changes=changes
    )
    session.add(row)
    session.flush()
    return row


def decide(
    session: Session,
    scope: AccessScope,
    item_id: str,
    decision: str,
    *,
    backend: SearchBackend,
    referential: Referential,
    sectors: Sequence[str] | None = None,
    countries: Sequence[str] | None = None,
    doc_type: str | None = None,
    story_id: str | None = None,
    channel: str,
) -> ItemDecisionView:
    """Accept, reject or correct one item for ``scope``, in the caller's transaction; re-indexed, audited.

    Checks come first (role, scope, decision, names), so a refused decision changes nothing. ``sectors`` and
    ``countries`` given with ``correct`` are the item's complete new sets (ids, codes or names); ``None``
    leaves them as they are. A decided item may be decided again (a curator changing their mind).
    """
    _require_curator(scope)
    if decision not in DECISIONS:
        raise ValidationError(f"decision must be one of {', '.join(DECISIONS)}")
    corrections = sectors is not None or countries is not None or doc_type is not None or story_id is not None
    if decision != "correct" and corrections:
        raise ValidationError("sectors, countries, type and story_id go with the decision 'correct'")
    if decision == "correct" and not corrections:
        raise ValidationError("a correction needs sectors, countries, type or story_id")
    item = _curatable_item(session, scope, item_id)
    before = item.curator_status
    changes: dict[str, Any] = {"proposed": _proposals(session, item.id)}
    if decision == "correct":
        changes.update(
            _correct(
                session,
                referential,
                item,
                scope,
                sectors=sectors,
                countries=countries,
                doc_type=doc_type,
                story_id=story_id,
            )
        )
    status = _STATUS_OF[decision]
    row = _record_decision(session, item, decision, status, scope.user_id, changes)
    reindex_item(session, backend, referential, item)
    audit.record(
        session,
        "item.decision",
        audit.Actor.of_scope(scope, channel),
        target_kind="item",
        target_id=item.id,
        detail={
            "decision": decision,
            "curator_status": [before, status],
            **{k: v for k, v in changes.items() if k != "proposed"},
        },
    )
    source = session.get(Source, item.source_id) if item.source_id is not None else None
    return ItemDecisionView(
        item_id=item.id,
        decision=decision,
        curator_status=status,
        decided_at=row.at,
        decided_by_user_id=scope.user_id,
        changes={k: v for k, v in changes.items() if k != "proposed"},
        item=_queue_item(session, item, source.title if source else None, _confidence(session, item.id)),
    )


def decide_many(
    session: Session,
    scope: AccessScope,
    item_ids: Sequence[str],
    decision: str,
    *,
    backend: SearchBackend,
    referential: Referential,
    channel: str,
) -> BulkResult:
    """Accept or reject several items; each succeeds or fails on its own (with its reason)."""
    _require_curator(scope)
    if decision not in ("accept", "reject"):
        raise ValidationError("a bulk decision is accept or reject (a correction is made item by item)")
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        raise ValidationError("give at least one item id")
    if len(ids) > MAX_BULK:
        raise ValidationError(f"at most {MAX_BULK} items at once")
    done: list[str] = []
    failed: list[dict[str, str]] = []
    for item_id in ids:
        try:
            with session.begin_nested():
                decide(
                    session,
                    scope,
                    item_id,
                    decision,
                    backend=backend,
                    referential=referential,
                    channel=channel,
                )
        except TfeError as exc:
            failed.append({"id": item_id, "reason": exc.message})
        else:
            done.append(item_id)
    return BulkResult(done=done, failed=failed)


def _confidence(session: Session, item_id: str) -> float | None:
    value = session.scalar(
        select(func.max(Classification.score))
        .join(Concept, Concept.id == Classification.concept_id)
        .where(
            Classification.target_kind == "item",
            Classification.target_id == item_id,
            Classification.method != CURATOR,
            Concept.scheme_id == "naf",
        )
    )
    return None if value is None else float(value)


def auto_accept(
    session: Session,
    item_id: str,
    *,
    backend: SearchBackend | None = None,
    referential: Referential | None = None,
) -> bool:
    """Accept a new item whose best sector score reaches its source's threshold; whether it did.

    Called by the poller once the item is saved and classified. The item stays ``new`` when its source has
    no threshold, when no sector was proposed or the best score is below it, or when a decision exists.
    With ``backend`` and ``referential`` its passages are re-indexed with the new status.
    """
    item = session.get(Item, item_id)
    if item is None:
        raise NotFoundError(f"unknown item {item_id!r}")
    if item.curator_status != "new" or item.source_id is None:
        return False
    source = session.get(Source, item.source_id)
    threshold = source.auto_accept_threshold if source is not None else None
    if source is None or threshold is None:
        return False
    confidence = _confidence(session, item.id)
    if confidence is None or confidence < threshold:
        return False
    changes = {"proposed": _proposals(session, item.id), "confidence": confidence, "threshold": threshold}
    _record_decision(session, item, "auto_accept", "auto_accepted", None, changes)
    if backend is not None and referential is not None:
        reindex_item(session, backend, referential, item)
    audit.record(
        session,
        "item.decision",
        audit.Actor.system("system", org_id=source.org_id),
        target_kind="item",
        target_id=item.id,
        detail={
            "decision": "auto_accept",
            "curator_status": ["new", "auto_accepted"],
            "confidence": confidence,
            "threshold": threshold,
        },
    )
    return True
