"""Administrators' search over the audit trail: by user e-mail, action, target and date, newest first.

The scope is inside the query: an administrator of the national agency sees every event, another
administrator only the events whose actor belonged to their organisation (``actor_org_id``, as recorded
when the event happened). Each search is itself audited (``audit.search``, with its filters).

``user`` matches part of the actor's e-mail (case-insensitive); ``action`` an action or a family of them
(``document`` matches ``document.read``, ``document.field_change``...); ``since`` is inclusive, ``until``
exclusive.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, TypeVarTuple

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from tfe.core.errors import ValidationError
from tfe.core.models import AuditEvent, User
from tfe.core.security import administration, audit

__all__ = ["MAX_LIMIT", "EventPage", "EventRow", "Filters", "search_events"]

MAX_LIMIT = 200
_Ts = TypeVarTuple("_Ts")
MAX_OFFSET = 1_000_000


@dataclass(frozen=True)
class Filters:
    user: str = ""
    action: str = ""
    target_kind: str = ""
    target_id: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def as_detail(self) -> dict[str, Any]:
        return {
            k: (v.isoformat() if isinstance(v, dt.datetime) else v)
            for k, v in self.__dict__.items()
            if v not in ("", None)
        }


@dataclass(frozen=True)
class EventRow:
    id: int
    seq: int | None
    at: dt.datetime
    actor_user_id: int | None
    actor_email: str | None
    actor_org_id: int | None
    action: str
    target_kind: str | None
    target_id: str | None
    detail: dict[str, Any]


@dataclass
class EventPage:
    total: int
    limit: int
    offset: int
    events: list[EventRow] = field(default_factory=list)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _filtered(query: Select[*_Ts], managed: int | None, filters: Filters) -> Select[*_Ts]:
    if managed is not None:  # an organisation's administrator: its members' events only
        query = query.where(AuditEvent.actor_org_id == managed)
    if filters.user.strip():
        query = query.where(func.lower(User.email).contains(filters.user.strip().lower(), autoescape=True))
    if filters.action.strip():
        action = filters.action.strip()
        query = query.where(
            or_(AuditEvent.action == action, AuditEvent.action.startswith(action + ".", autoescape=True))
        )
    if filters.target_kind.strip():
        query = query.where(AuditEvent.target_kind == filters.target_kind.strip())
    if filters.target_id.strip():
        query = query.where(AuditEvent.target_id == filters.target_id.strip())
    if filters.since is not None:
        query = query.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        query = query.where(AuditEvent.at < filters.until)
    return query


def search_events(
    session: Session,
    admin: User,
    filters: Filters,
    *,
    limit: int = 50,
    offset: int = 0,
    channel: str = "web",
) -> EventPage:
    """One page of the events ``admin`` may see that match ``filters`` (see the module docstring)."""
    managed = administration.managed_org_id(session, admin)
    if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_OFFSET:
        raise ValidationError(f"limit must be 1..{MAX_LIMIT} and offset 0..{MAX_OFFSET}")
    filters = Filters(**{**filters.__dict__, "since": _aware(filters.since), "until": _aware(filters.until)})
    if filters.since and filters.until and filters.since >= filters.until:
        raise ValidationError("'since' must come before 'until'")
    joined = select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.actor_user_id)
    query = _filtered(joined, managed, filters)
    counted = _filtered(
        select(func.count()).select_from(AuditEvent).outerjoin(User, User.id == AuditEvent.actor_user_id),
        managed,
        filters,
    )
    total = int(session.scalar(counted) or 0)
    rows = session.execute(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)).all()
    events = [
        EventRow(
            id=e.id,
            seq=e.seq,
            at=_aware(e.at) or e.at,  # UTC, with its offset (SQLite gives it back naive)
            actor_user_id=e.actor_user_id,
            actor_email=email,
            actor_org_id=e.actor_org_id,
            action=e.action,
            target_kind=e.target_kind,
            target_id=e.target_id,
            detail=dict(e.detail or {}),
        )
        for e, email in rows
    ]
    audit.record(
        session,
        "audit.search",
        audit.Actor.of_user(admin, channel),
        detail={**filters.as_detail(), "limit": limit, "offset": offset, "total": total},
    )
    return EventPage(total=total, limit=limit, offset=offset, events=events)
