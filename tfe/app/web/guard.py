"""The exfiltration guard's hook in request handling: ``enforce`` is called by the authentication
dependencies (``tfe.app.web.deps``) for every authenticated request, after the user is known.

STUB written by the lead: the guard helper implements it (counting reads, downloads, exports and search
pages per user and per token, slowing then suspending, alerting admins); the signature stays.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from tfe.core.models import User

__all__ = ["enforce"]


def enforce(
    request: Request, session: Session, user: User, *, token_id: int | None, session_id: str | None
) -> None:
    """Count this request against ``user``'s budgets. Raises ``RateLimitedError`` (429 + Retry-After) when
    over a budget, ``SuspendedError`` once the token or session is suspended; returns otherwise."""
    return None
