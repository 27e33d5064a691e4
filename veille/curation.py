"""The curators' decisions on watch items: accept, reject or correct them, one or many, and auto-accept.

One use case for the API (``POST /api/items/{id}/decision``, ``/api/curation/decisions``), the page
(``/veille/validation``) and the poller (``auto_accept``); who may decide and the queue are
``veille.curation_queue``'s:

- ``accept`` and ``reject`` set the item's ``curator_status``; ``correct`` replaces its sectors, countries,
  type or story and accepts it. Corrections are ``curator`` classification rows (a concept removed is a
  ``curator`` rejection row, ``taxonomy.classifications.record_curator_decision``, the rule ``ged.editing``
  follows for documents), so no reclassification undoes them.
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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from search.backend import SearchBackend
from taxonomy.classifications import ClassificationView, classifications_of, record_curator_decision
from taxonomy.referential import Referential
from tfe.core.db import utcnow
from tfe.core.errors import NotFoundError, TfeError, ValidationError
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope
from veille.curation_queue import QueueItem, confidence_of, curatable_item, queue_item, require_curator
from veille.item_index import reindex_item
from veille.models import Item, ItemDecision, Source, Story

__all__ = [
    "DECISIONS",
    "MAX_BULK",
    "BulkResult",
    "ItemDecisionView",
    "auto_accept",
    "decide",
    "decide_many",
]

Decision = Literal["accept", "reject", "correct"]
DECISIONS: tuple[str, ...] = ("accept", "reject", "correct")
MAX_BULK = 200
_STATUS_OF = {"accept": "accepted", "reject": "rejected", "correct": "accepted"}
_SCHEMES = {"sectors": ("naf", "sector"), "countries": ("country", "country")}


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


# ------------------------------------------------------------------ decisions


def _proposals(session: Session, item_id: str) -> list[dict[str, Any]]:
    """The item's classifications as they stand before the decision (what the classifier learns from)."""
    return [
        {"id": c.concept_id, "scheme": c.scheme, "score": c.score, "method": c.method}
        for c in classifications_of(session, "item", item_id)
    ]


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
    record_curator_decision(session, "item", item_id, wanted, keep=True, user_id=user_id)
    record_curator_decision(session, "item", item_id, removed, keep=False, user_id=user_id)
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
    require_curator(scope)
    if decision not in DECISIONS:
        raise ValidationError(f"decision must be one of {', '.join(DECISIONS)}")
    corrections = sectors is not None or countries is not None or doc_type is not None or story_id is not None
    if decision != "correct" and corrections:
        raise ValidationError("sectors, countries, type and story_id go with the decision 'correct'")
    if decision == "correct" and not corrections:
        raise ValidationError("a correction needs sectors, countries, type or story_id")
    item = curatable_item(session, scope, item_id)
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
        item=queue_item(session, item, source.title if source else None, confidence_of(session, item.id)),
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
    require_curator(scope)
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
    confidence = confidence_of(session, item.id)
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
