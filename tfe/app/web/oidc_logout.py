"""RP-initiated logout: where to send the browser after ``POST /logout`` ends a session opened through an
OIDC provider (its ``end_session_endpoint`` with ``id_token_hint`` and ``post_logout_redirect_uri``).

STUB written by the lead: the OIDC helper implements it; ``pages/auth.py`` calls it; the signature stays.
"""

from __future__ import annotations

from fastapi import Request

from tfe.core.security.models import UserSession

__all__ = ["end_session_redirect"]


def end_session_redirect(request: Request, row: UserSession | None) -> str | None:
    """The provider's logout URL for ``row`` (a session opened by OIDC), or None for a local session."""
    return None
