"""Caps on the request line and headers: a clear 4xx before any parsing, whatever server runs the app.

uvicorn's own limit (h11's 16 KiB incomplete-event cap) only applies to headers that arrive in several
reads, so a 100 KB cookie sent in one burst reaches the app; nginx answers 400 above 8 KiB a line. The app
therefore refuses, itself: a header value over ``MAX_HEADER_BYTES`` or all headers over
``MAX_HEADERS_BYTES`` with 431, a query string over ``MAX_QUERY_BYTES`` with 414. The API answers the JSON
error (``headers_too_large``, ``uri_too_long``), pages a French error page. Each refusal is audited
(``request.refused``: the code, the path, the sizes, the name of the oversized header, the client's
address; never a header's value).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from tfe.app.web.client import client_address
from tfe.app.web.templating import templates
from tfe.core.security import audit

__all__ = ["MAX_HEADERS_BYTES", "MAX_HEADER_BYTES", "MAX_QUERY_BYTES", "HeaderLimitMiddleware"]

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 8 * 1024
MAX_HEADERS_BYTES = 32 * 1024
MAX_QUERY_BYTES = 8 * 1024

_REFUSALS = {
    431: ("headers_too_large", "request headers too large", "En-têtes de requête trop volumineux"),
    414: ("uri_too_long", "query string too long", "Adresse trop longue"),
}


def _refusal(scope: Scope) -> tuple[int, dict[str, Any]] | None:
    """The status and what to audit when the request is over a cap, else None."""
    query = len(scope.get("query_string", b""))
    if query > MAX_QUERY_BYTES:
        return 414, {"query_bytes": query}
    total = 0
    for name, value in scope.get("headers", []):
        total += len(name) + len(value)
        if len(value) > MAX_HEADER_BYTES or total > MAX_HEADERS_BYTES:
            header = name[:64].decode("latin-1")
            headers = sum(len(n) + len(v) for n, v in scope.get("headers", []))
            return 431, {"header": header, "header_bytes": len(value), "headers_bytes": headers}
    return None


def _audit(scope: Scope, code: str, detail: dict[str, Any]) -> None:
    runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
    if runtime is None:
        return
    try:
        address = client_address(Request(scope))
        detail = {"code": code, "path": str(scope.get("path", ""))[:200], "address": address, **detail}
        with runtime.session() as session:
            audit.record(session, "request.refused", audit.Actor.system("web"), detail=detail)
    except Exception as exc:  # the refusal is answered all the same (never a 500 for a bad request)
        log.warning("request.refused not audited: %s", type(exc).__name__)


class HeaderLimitMiddleware:
    """Answer 431 (headers) or 414 (query string) to requests over the caps above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = _refusal(scope) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, detail = refusal
        code, message, title = _REFUSALS[status]
        await run_in_threadpool(_audit, scope, code, detail)
        path = str(scope.get("path", ""))
        accept = next((v for n, v in scope.get("headers", []) if n == b"accept"), b"")[:1024]
        response: Any
        if not path.startswith(("/api/", "/openapi", "/healthz")) and b"text/html" in accept:
            # a bare scope (no cookie, no query) so the page renders without the oversized parts
            bare = {**scope, "headers": [(b"accept", accept)], "query_string": b""}
            response = templates.TemplateResponse(
                Request(bare, receive),
                "error.html",
                {"status": status, "title": title, "message": ""},
                status_code=status,
            )
        else:
            response = JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
        await response(scope, receive, send)
