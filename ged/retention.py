"""Retention review: each document type is reviewed some months after validation (``data/retention.json``).

A validated document gets ``Document.review_due_at`` = its validation + the months of its type
(``review_due``; set by ``ged.lifecycle`` at each validation: draft or in review → validated, not when a
document is un-archived). Once that date has passed the document is in the review list (« À revoir ») of its
owner and of the curators and administrators of its organisation (``review_list``). « Confirmer »
(``confirm_review``) pushes the date forward by the same delay and is audited (``document.review``).
Types without a rule, and documents in the trash, are never in the list.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ged.models import Document
from tfe.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit, identity

__all__ = [
    "REVIEWER_ROLES",
    "ReviewEntry",
    "confirm_review",
    "may_review",
    "retention_months",
    "review_due",
    "review_list",
]

RULES_FILE = Path(__file__).parent / "data" / "retention.json"
REVIEWER_ROLES = frozenset({"curator", "admin"})


@lru_cache(maxsize=1)
def _rules() -> dict[str, int]:
    raw = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    months = raw.get("months", {})
    return {str(k): int(v) for k, v in months.items() if int(v) > 0}


def retention_months(doc_type: str | None) -> int | None:
    """Months between a validation and the review of a document of this type; ``None``: never reviewed."""
    return _rules().get(doc_type or "")


def _add_months(when: dt.datetime, months: int) -> dt.datetime:
    month0 = when.month - 1 + months
    year, month = when.year + month0 // 12, month0 % 12 + 1
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
    return when.replace(year=year, month=month, day=min(when.day, days))


def _naive_utc(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


def review_due(doc_type: str | None, validated_at: dt.datetime) -> dt.datetime | None:
    """When a document of ``doc_type`` validated at ``validated_at`` is due for review (naive UTC)."""
    months = retention_months(doc_type)
    return None if months is None else _add_months(_naive_utc(validated_at), months)


def may_review(user: User, document: Document) -> bool:
    """The owner, or a curator or administrator of the owning organisation."""
    if not user.active:
        return False
    own = document.owner_user_id is not None and document.owner_user_id == user.id
    curator = user.role in REVIEWER_ROLES and document.org_id is not None and document.org_id == user.org_id
    return own or curator


@dataclass(frozen=True)
class ReviewEntry:
    id: str
    title: str
    doc_type: str | None
    status: str
    review_due_at: dt.datetime
    owner_user_id: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "doc_type": self.doc_type,
            "status": self.status,
            "review_due_at": self.review_due_at.isoformat(),
            "owner_user_id": self.owner_user_id,
            "url": f"/api/documents/{self.id}",
        }


def review_list(session: Session, user: User, *, now: dt.datetime | None = None) -> list[ReviewEntry]:
    """Documents due for review that ``user`` reviews (owner; curators and admins: their organisation)."""
    moment = _naive_utc(now or dt.datetime.now(dt.UTC))
    mine = [Document.owner_user_id == user.id]
    if user.role in REVIEWER_ROLES and user.org_id is not None:
        mine.append(Document.org_id == user.org_id)
    rows = session.scalars(
        select(Document)
        .where(
            Document.review_due_at.is_not(None),
            Document.review_due_at <= moment,
            Document.deleted_at.is_(None),
            or_(*mine),
        )
        .order_by(Document.review_due_at, Document.id)
    )
    return [
        ReviewEntry(d.id, d.title, d.doc_type, d.status, d.review_due_at, d.owner_user_id)
        for d in rows
        if d.review_due_at is not None and may_review(user, d)
    ]


def confirm_review(
    session: Session, user: User, doc_id: str, *, channel: str, now: dt.datetime | None = None
) -> dt.datetime:
    """« Confirmer »: the document is still right; its next review is one delay from now (audited)."""
    document = session.get(Document, doc_id)
    if document is None or document.deleted_at is not None:
        raise NotFoundError(f"unknown document {doc_id!r}")
    if not may_review(user, document):
        scope = identity.scope_for(user)
        if not scope.can_see(
            visibility=document.visibility,
            org_id=document.org_id,
            owner_user_id=document.owner_user_id,
            status=document.status,
        ):
            raise NotFoundError(f"unknown document {doc_id!r}")
        raise PermissionDeniedError(
            "confirming a review needs to own the document or be a curator or admin of its organisation"
        )
    due = review_due(document.doc_type, now or dt.datetime.now(dt.UTC))
    if due is None:
        raise ValidationError("this document's type has no retention rule: there is nothing to review")
    old = document.review_due_at
    document.review_due_at = due
    session.flush()
    audit.record(
        session,
        "document.review",
        audit.Actor.of_user(user, channel),
        target_kind="document",
        target_id=doc_id,
        detail={"review_due_at": [old.isoformat() if old else None, due.isoformat()]},
    )
    return due
