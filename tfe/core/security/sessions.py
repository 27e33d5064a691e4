"""Server-side browser sessions: the cookie carries a random id, the ``user_sessions`` row says whether it
still works, so logout, a password change, a deactivation or an admin ends it at its next request.

STUB written by the lead: signatures are the contract other modules code against; the sessions helper
implements them (and may add functions, never change these).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tfe.core.models import User
from tfe.core.security.models import UserSession

__all__ = ["list_for_user", "lookup", "revoke", "revoke_all", "start"]


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
    raise NotImplementedError


def lookup(session: Session, secret_id: str) -> UserSession | None:
    """The session row of a cookie's secret id, in any state (callers check it)."""
    raise NotImplementedError


def revoke(session: Session, row: UserSession, reason: str) -> None:
    """End one session now (idempotent)."""
    raise NotImplementedError


def revoke_all(session: Session, user_id: int, reason: str, *, except_id: str | None = None) -> int:
    """End every open session of a user (password change, deactivation, admin); returns how many."""
    raise NotImplementedError


def list_for_user(session: Session, user_id: int) -> list[UserSession]:
    """The user's sessions, newest first (open ones and those ended recently)."""
    raise NotImplementedError
