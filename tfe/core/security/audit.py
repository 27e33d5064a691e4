"""Audit trail: append-only, hash-chained events (who read, searched, changed, exported what, when).

Each event's hash covers its content and the previous event's hash, so an edited or deleted row breaks
the chain; ``verify_chain`` finds the first broken link.

``record`` is the one way to write an event: every event names its ``Actor`` (user, organisation and the
channel it came through: ``api``, ``web``, ``cli``, ``demo`` or ``system``), so a search from the page, the
API and the CLI is one action told apart by ``detail["channel"]``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.models import AuditEvent, User
from tfe.core.security.scope import AccessScope

CHANNELS = ("api", "web", "cli", "demo", "system")


@dataclass(frozen=True)
class Actor:
    """Who acts (user and organisation, both optional for system work) and through which channel."""

    user_id: int | None
    org_id: int | None
    channel: str

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown audit channel {self.channel!r}")

    @classmethod
    def of_user(cls, user: User | None, channel: str) -> Actor:
        return cls(user.id if user else None, user.org_id if user else None, channel)

    @classmethod
    def of_scope(cls, scope: AccessScope, channel: str) -> Actor:
        return cls(scope.user_id, scope.org_id, channel)

    @classmethod
    def system(cls, channel: str = "system", *, org_id: int | None = None) -> Actor:
        return cls(None, org_id, channel)


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
    actor: Actor,
    *,
    target_kind: str | None = None,
    target_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event by ``actor`` (in the caller's transaction); the channel goes into the detail."""
    last = session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1).with_for_update())
    prev = last.hash if last is not None else ""
    event = AuditEvent(
        at=utcnow(),
        actor_user_id=actor.user_id,
        actor_org_id=actor.org_id,
        action=action,
        target_kind=target_kind,
        target_id=target_id,
        detail=_clean({**(detail or {}), "channel": actor.channel}),
        prev_hash=prev,
        hash="",
    )
    event.hash = _hash(prev, _payload(event))
    session.add(event)
    session.flush()
    return event


def verify_chain(session: Session) -> int | None:
    """Id of the first event whose hash or link does not verify, or None when the chain is intact."""
    prev = ""
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev or event.hash != _hash(prev, _payload(event)):
            return event.id
        prev = event.hash
    return None
