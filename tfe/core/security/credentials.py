"""A user's own credentials: their API tokens and browser sessions, listed, created and revoked by them.

Used by the account page (``/compte``), the ``/api/me`` routes and the CLI. Another user's token or
session answers ``NotFoundError`` (its existence does not leak). Every creation and revocation is audited:
``token.create``, ``token.revoke``, ``session.revoke`` (the token's public prefix, never its secret; the
session's public id, never the cookie's secret).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tfe.core.errors import NotFoundError
from tfe.core.models import ApiToken, User
from tfe.core.security import audit, identity, sessions
from tfe.core.security.audit import Actor
from tfe.core.security.models import UserSession

__all__ = [
    "create_own_token",
    "end_other_sessions",
    "end_sessions_audited",
    "list_own_sessions",
    "list_own_tokens",
    "revoke_own_session",
    "revoke_own_token",
    "revoke_token_audited",
]


def revoke_token_audited(
    session: Session, token: ApiToken, reason: str, actor: Actor, detail: dict[str, Any]
) -> None:
    """Revoke ``token`` (``reason``: who) and audit ``token.revoke``; nothing if it already was revoked."""
    if identity.revoke_token_row(token, reason):
        session.flush()
        audit.record(
            session, "token.revoke", actor, target_kind="token", target_id=token.prefix, detail=detail
        )


def end_sessions_audited(
    session: Session,
    user: User,
    reason: str,
    actor: Actor,
    *,
    except_id: str | None,
    detail: dict[str, Any],
) -> int:
    """End every session of ``user`` but ``except_id`` and audit ``session.revoke`` with the count."""
    ended = sessions.revoke_all(session, user.id, reason, except_id=except_id)
    audit.record(
        session,
        "session.revoke",
        actor,
        target_kind="user",
        target_id=str(user.id),
        detail={**detail, "count": ended},
    )
    return ended


def list_own_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too, for the record)."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        .limit(500)
    )
    return list(session.scalars(query))


def create_own_token(
    session: Session,
    user: User,
    *,
    name: str,
    scopes: str | Iterable[str],
    expires_in_days: int | None,
    channel: str,
) -> tuple[ApiToken, str]:
    """A new token for ``user`` (validated by ``identity.create_token``); the clear value is returned once."""
    token, raw = identity.create_token(session, user, name, expires_in_days, scopes=scopes)
    audit.record(
        session,
        "token.create",
        Actor.of_user(user, channel),
        target_kind="token",
        target_id=token.prefix,
        detail={
            "name": token.name,
            "scopes": token.scopes,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, raw


def revoke_own_token(session: Session, user: User, token_id: int, *, channel: str) -> ApiToken:
    """Revoke one of the user's tokens (idempotent: revoking twice records one event)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFoundError(f"unknown token {token_id}")
    detail = {"name": token.name, "by": "owner"}
    revoke_token_audited(session, token, "owner", Actor.of_user(user, channel), detail)
    return token


def list_own_sessions(session: Session, user: User) -> list[UserSession]:
    return sessions.list_for_user(session, user.id)


def revoke_own_session(session: Session, user: User, public: str, *, channel: str) -> UserSession:
    """End one of the user's sessions by its public id (idempotent)."""
    row = sessions.find_for_user(session, user.id, public)
    if row is None:
        raise NotFoundError(f"unknown session {public}")
    if row.revoked_at is None:
        sessions.revoke(session, row, "owner")
        audit.record(
            session,
            "session.revoke",
            Actor.of_user(user, channel),
            target_kind="session",
            target_id=sessions.public_id(row),
            detail={"by": "owner"},
        )
    return row


def end_other_sessions(session: Session, user: User, current_id: str | None, *, channel: str) -> int:
    """End every session of the user but ``current_id`` (the row id of the browser asking); how many."""
    actor = Actor.of_user(user, channel)
    detail = {"by": "owner", "all_others": True}
    return end_sessions_audited(session, user, "owner", actor, except_id=current_id, detail=detail)
