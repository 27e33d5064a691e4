"""Once the operator revoked the encryption key (``tfe keys revoke``), every request says so: 503.

The API answers ``{"error": {"code": "key_revoked", "message": ...}}``, pages a French error page with the
revocation date. ``/healthz`` (which reports ``keys: revoked`` itself) and static assets pass. The
revocation marker is read at each request, so a revocation made by another process (the CLI) shows at
once, even though this process still holds keys in memory (the vault forgets them too).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from tfe.app.web.templating import templates
from tfe.core.errors import KeyRevokedError, TfeError

__all__ = ["KeyRevokedMiddleware", "revoked_message_fr"]

_PASS = ("/healthz", "/static/", "/favicon.ico")


def revoked_message_fr(when: str) -> str:
    return (
        f"La clé de chiffrement a été révoquée par l'opérateur le {when} : "
        "les contenus ne peuvent plus être lus."
    )


class KeyRevokedMiddleware:
    """Answer 503 ``key_revoked`` to every request while the installation's keys are revoked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(_PASS):
            await self.app(scope, receive, send)
            return
        runtime: Any = scope["app"].state.runtime
        try:
            when = runtime.vault.revoked_on(fresh=True)
        except TfeError:  # no usable key (refused file...): the route answers it through the handlers
            when = None
        if when is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        path = request.url.path
        if not path.startswith(("/api/", "/openapi")) and "text/html" in request.headers.get("accept", ""):
            response: Any = templates.TemplateResponse(
                request,
                "error.html",
                {"status": 503, "title": "Contenus illisibles", "message": revoked_message_fr(when)},
                status_code=503,
            )
        else:
            error = KeyRevokedError.since(when)
            response = JSONResponse(
                {"error": {"code": error.code, "message": error.message}}, status_code=503
            )
        await response(scope, receive, send)
