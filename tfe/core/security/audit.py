"""Audit trail: append-only, hash-chained events (who read, searched, changed, exported what, when).

Each event's hash covers its content and the previous event's hash, so an edited or deleted row breaks
the chain; ``verify_chain`` finds the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.models import AuditEvent
from tfe.core.security.scope import AccessScope

_SECRET_KEYS = ("password", "token", "secret", "authorization", "cookie")


def _clean(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if any(s in k.lower() for s in _SECRET_KEYS) else v) for k, v in detail.items()}


def _hash(prev: str, payload: dict[str, Any]) -> str:
    body = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256((prev + body).encode()).hexdigest()


def _payload(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at.replace(tzinfo=None).isoformat(timespec="microseconds"),
        "actor_user_id": event.actor_user_id,
        "actor_org_id": event.actor_org_id,
        "action": event.action,
        "target_kind": event.target_kind,
        "target_id": event.target_id,
        "detail": event.detail,
    }


def record(
    session: Session,
    action: str,
    *,
    actor_user_id: int | None = None,
    actor_org_id: int | None = None,
    target_kind: str | None = None,
    target_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event (in the caller's transaction)."""
    last = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1).with_for_update())
    prev = last.hash if last is not None else ""
    event = AuditEvent(
        at=utcnow(),
        actor_user_id=actor_user_id,
        actor_org_id=actor_org_id,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        detail=_clean(detail or {}),
        prev_hash=prev,
        hash="",
    )
    event.hash = _hash(prev, _payload(event))
    session.add(event)
    session.flush()
    return event


def record_read(
    session: Session, scope: AccessScope, target_kind: str, target_id: str, *, channel: str
) -> AuditEvent:
    """Append "<kind>.read" for the caller of ``scope`` (API and pages alike, told apart by ``channel``)."""
    return record(
        session,
        f"{target_kind}.read",
        actor_user_id=scope.user_id,
        actor_org_id=scope.org_id,
        target_kind=target_kind,
        target_id=target_id,
        detail={"channel": channel},
    )


def verify_chain(session: Session) -> int | None:
    """Id of the first event whose hash or link does not verify, or None when the chain is intact."""
    prev = ""
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev or event.hash != _hash(prev, _payload(event)):
            return event.id
        prev = event.hash
    return None
