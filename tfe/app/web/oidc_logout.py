"""RP-initiated logout: where to send the browser after ``POST /logout`` ends a session opened through an
OIDC provider (its ``end_session_endpoint`` with ``id_token_hint``, ``post_logout_redirect_uri`` =
``settings.public_url + "/login"`` and ``client_id``). ``pages/auth.py`` calls it.

A local session, an unknown provider or a provider that cannot be reached gives None: the local session
is ended anyway and the browser goes to ``/login`` (a provider that is down must not keep anyone signed in).
"""

from __future__ import annotations

import logging

from fastapi import Request

from tfe.core.security.models import UserSession
from tfe.core.security.oidc import OidcError, OidcRegistry

__all__ = ["end_session_redirect"]

log = logging.getLogger(__name__)


def end_session_redirect(request: Request, row: UserSession | None) -> str | None:
    """The provider's logout URL for ``row`` (a session opened by OIDC), or None for a local session."""
    if row is None or not (row.auth_method or "").startswith("oidc:"):
        return None
    registry: OidcRegistry | None = getattr(request.app.state, "oidc", None)
    if registry is None:
        return None
    name = row.auth_method.partition(":")[2]
    public_url: str = request.app.state.runtime.settings.public_url
    try:
        return registry.get(name).end_session_url(
            id_token_hint=row.id_token, post_logout_redirect_uri=f"{public_url.rstrip('/')}/login"
        )
    except OidcError as exc:
        log.warning("no provider logout provider=%s reason=%s", name[:64], exc.reason)
        return None
