"""Server-side browser sessions: the cookie carries a random id, the ``user_sessions`` row says whether it
still works, so logout, a password change, a deactivation or an admin ends it at its next request.

- the cookie holds the *secret* id (``secrets.token_urlsafe(32)``); the row's primary key is its SHA-256,
  so a database dump gives no usable cookie;
- pages and the API show a *public* id: the first 16 hex digits of the row id (never the secret, and it
  cannot be turned into a cookie);
- a row works while it is neither revoked, expired nor suspended (``state``); ``touch`` records the last
  use at most once a minute, so a request does not write on every call.

The signatures of ``start``, ``lookup``, ``revoke``, ``revoke_all`` and ``list_for_user`` are the contract
other modules code against.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.models import User
from tfe.core.security.models import UserSession

__all__ = [
    "PUBLIC_ID_LENGTH",
    "RECENT_DAYS",
    "TOUCH_EVERY_S",
    "find_for_user",
    "list_for_user",
    "lookup",
    "public_id",
    "revoke",
    "revoke_all",
    "start",
    "state",
    "touch",
]

PUBLIC_ID_LENGTH = 16
TOUCH_EVERY_S = 60  # last_seen_at is written at most this often
RECENT_DAYS = 30  # ended sessions stay listed this long
USER_AGENT_MAX = 300
ADDRESS_MAX = 64
_PUBLIC_ID = re.compile(rf"^[0-9a-f]{{{PUBLIC_ID_LENGTH}}}$")


def _digest(secret_id: str) -> str:
    return hashlib.sha256(secret_id.encode()).hexdigest()


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def start(
    session: Session,
    user: User,
    *,
    address: str,
    user_agent: str,
    max_age_s: int,
    auth_method: str = "password",
    id_token: str | None = None,
) -> tuple[UserSession, str]:
    """Open a session for ``user``; returns the row and the secret id to put in the cookie (shown once)."""
    secret_id = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        id=_digest(secret_id),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(seconds=max_age_s),
        address=(address or "?")[:ADDRESS_MAX],
        user_agent=(user_agent or "")[:USER_AGENT_MAX],
        auth_method=auth_method[:80],
        id_token=id_token,
    )
    session.add(row)
    session.flush()
    return row, secret_id


def lookup(session: Session, secret_id: str) -> UserSession | None:
    """The session row of a cookie's secret id, in any state (callers check it)."""
    if not secret_id or len(secret_id) > 200:
        return None
    return session.get(UserSession, _digest(secret_id))


def public_id(row: UserSession) -> str:
    """The short id pages and the API show for ``row`` (never the cookie's secret)."""
    return row.id[:PUBLIC_ID_LENGTH]


def state(row: UserSession, now: dt.datetime | None = None) -> str:
    """``active``, ``revoked``, ``expired`` or ``suspended``."""
    if row.revoked_at is not None:
        return "revoked"
    if _aware(row.expires_at) <= (now or utcnow()):
        return "expired"
    if row.suspended_at is not None:
        return "suspended"
    return "active"


def touch(row: UserSession, now: dt.datetime | None = None) -> bool:
    """Record a use of ``row`` if the last one is older than a minute; returns whether it wrote."""
    now = now or utcnow()
    if (now - _aware(row.last_seen_at)).total_seconds() < TOUCH_EVERY_S:
        return False
    row.last_seen_at = now
    return True


def revoke(session: Session, row: UserSession, reason: str) -> None:
    """End one session now (idempotent: a second call keeps the first date and reason)."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_reason = reason[:200]
        session.flush()


def revoke_all(session: Session, user_id: int, reason: str, *, except_id: str | None = None) -> int:
    """End every open session of a user (password change, deactivation, admin); returns how many."""
    query = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:200])
        .execution_options(synchronize_session="fetch")
    )
    if except_id is not None:
        query = query.where(UserSession.id != except_id)
    result = session.execute(query)
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def list_for_user(session: Session, user_id: int) -> list[UserSession]:
    """The user's sessions, newest first (open ones and those ended in the last ``RECENT_DAYS`` days)."""
    since = utcnow() - dt.timedelta(days=RECENT_DAYS)
    query = (
        select(UserSession)
        .where(
            UserSession.user_id == user_id,
            or_(UserSession.revoked_at.is_(None), UserSession.revoked_at >= since),
            UserSession.expires_at >= since,
        )
        .order_by(UserSession.created_at.desc(), UserSession.id)
        .limit(200)
    )
    return list(session.scalars(query))


def find_for_user(session: Session, user_id: int, public: str) -> UserSession | None:
    """The session of ``user_id`` whose public id is ``public`` (None for anyone else's or a bad id)."""
    if not _PUBLIC_ID.match(public):
        return None
    query = select(UserSession).where(UserSession.user_id == user_id, UserSession.id.startswith(public))
    return session.scalars(query.limit(1)).first()
