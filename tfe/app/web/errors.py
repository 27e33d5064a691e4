"""The one place that maps errors to HTTP.

JSON everywhere under ``/api`` (and for any client that does not ask for HTML)::

    {"error": {"code": "<stable code>", "message": "<readable message>"}}

- ``TfeError`` → its ``http_status`` and ``code`` (the table in ``tfe.core.errors``); routes raise, never
  build an error body themselves;
- ``RequestValidationError`` (FastAPI's own parameter and body checks) → 400 ``invalid`` with the offending
  parameters named, not FastAPI's 422 ``{"detail": [...]}``;
- ``HTTPException`` (unknown route, wrong method, body limit) → its status, code from the status;
- anything else → 500 ``internal`` (the traceback goes to the server log only).

Page requests (browsers asking for ``text/html`` outside ``/api``) get a French HTML error page, and
``LoginRequired`` becomes a redirect to ``/login?next=...``.

``error_responses(...)`` documents the same mapping in ``/openapi.json``: each route names the statuses
it can answer and gets the ``ErrorPublic`` schema and the codes for each.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tfe.app.web.deps import LoginRequired
from tfe.app.web.schemas.errors import ErrorPublic
from tfe.app.web.templating import templates
from tfe.core import errors as core_errors
from tfe.core.errors import RateLimitedError, TfeError

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported",
    422: "invalid",
    429: "rate_limited",
    503: "backend_unavailable",
}
_FRENCH_TITLES = {
    400: "Requête invalide",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    413: "Fichier trop volumineux",
    415: "Type de fichier non pris en charge",
    422: "Contenu illisible",
    429: "Trop de requêtes",
    500: "Erreur interne",
    503: "Service momentanément indisponible",
}


_WHEN = {
    400: "Invalid parameter or body (FastAPI's request validation is answered here too, never as 422)",
    401: "No or bad bearer token, or no signed-in session",
    403: "Role too low, or the CSRF token of a cookie session is missing",
    404: "Unknown id, or outside the caller's scope (existence is not disclosed)",
    409: "Conflicts with the current state",
    413: "Upload above the size limit",
    415: "Empty file or a type we do not ingest",
    422: "The file could not be read (corrupt, encrypted, no text)",
    429: "Too many attempts; retry later",
    503: "A backend is unavailable",
}


def codes_for(status: int) -> list[str]:
    """The stable codes an answer with ``status`` may carry: the error tree's, then the HTTP layer's."""
    tree = (getattr(core_errors, name) for name in core_errors.__all__)
    codes = sorted({c.code for c in tree if c.http_status == status})
    http_code = _STATUS_CODES.get(status)
    if http_code and http_code not in codes and status != 422:  # FastAPI's 422 is answered as 400
        codes.append(http_code)
    return codes


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route answers, each with the error body schema.

    ``default`` (500 ``internal``) is always added: it is true of every route, and it keeps FastAPI from
    documenting its own 422 validation body, which ``install_error_handlers`` answers as 400 instead.
    """
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        codes = codes_for(status)
        responses[status] = {
            "model": ErrorPublic,
            "description": f"{_WHEN[status]}; code {', '.join(f'`{c}`' for c in codes)}",
            "content": {"application/json": {"example": error_body(codes[0], _WHEN[status])}},
        }
    responses["default"] = {
        "model": ErrorPublic,
        "description": "Unexpected server error; code `internal` (details in the server log only)",
    }
    return responses


def error_body(code: str, message: str) -> dict[str, Any]:
    """The JSON error body (``ErrorPublic``)."""
    return {"error": {"code": code, "message": message}}


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/healthz", "/openapi")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _respond(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    if _wants_html(request):
        title = _FRENCH_TITLES.get(status, "Erreur")
        return templates.TemplateResponse(
            request,
            "error.html",
            {"status": status, "title": title, "message": message if status < 500 else ""},
            status_code=status,
            headers={k: v for k, v in (headers or {}).items() if k.lower() == "retry-after"} or None,
        )
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


_FRENCH_VALIDATION = {
    "string_too_long": "{max_length} caractères au plus",
    "string_too_short": "au moins {min_length} caractère(s)",
    "greater_than_equal": "au moins {ge}",
    "greater_than": "plus de {gt}",
    "less_than_equal": "au plus {le}",
    "less_than": "moins de {lt}",
    "int_parsing": "un nombre entier est attendu",
    "int_from_float": "un nombre entier est attendu",
    "float_parsing": "un nombre est attendu",
    "bool_parsing": "oui/non (true/false) est attendu",
    "missing": "ce champ est obligatoire",
    "string_pattern_mismatch": "format non valide",
    "literal_error": "valeur non reconnue (attendu : {expected})",
    "enum": "valeur non reconnue (attendu : {expected})",
}


def validation_message_fr(exc: RequestValidationError) -> str:
    """The validation errors in French, for the pages (the API keeps the validator's English)."""
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path", "header", "cookie")]
        where = ".".join(loc) or "requête"
        template = _FRENCH_VALIDATION.get(str(err.get("type")), "valeur non valide")
        try:
            text = template.format(**{k: str(v).replace("'", "") for k, v in (err.get("ctx") or {}).items()})
        except (KeyError, IndexError):
            text = "valeur non valide"
        parts.append(f"« {where} » : {text}")
    return "Paramètre non valide. " + " ; ".join(parts) + "." if parts else "Requête non valide."


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path", "header", "cookie")]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid value')}")
    return "; ".join(parts) or "invalid request"


async def _tfe_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TfeError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after_s)}
    if exc.http_status >= 500:
        log.error("request failed path=%s code=%s message=%s", request.url.path, exc.code, exc.message)
    return _respond(request, exc.http_status, exc.code, exc.message, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message = validation_message_fr(exc) if _wants_html(request) else _validation_message(exc)
    return _respond(request, 400, "invalid", message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _STATUS_CODES.get(status, "error")
    message = exc.detail if isinstance(exc.detail, str) else code
    if status == 404 and message == "Not Found":
        message = f"no route for {request.url.path}"
    return _respond(request, status, code, message, dict(exc.headers) if exc.headers else None)


async def _login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse("/login?" + urlencode({"next": exc.next_url}), status_code=303)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error path=%s", request.url.path, exc_info=exc)
    if _wants_html(request):
        return HTMLResponse(
            '<!doctype html><html lang="fr"><title>Erreur interne</title><h1>Erreur interne</h1></html>',
            status_code=500,
        )
    return JSONResponse(error_body("internal", "internal error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TfeError, _tfe_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(Exception, _unexpected)
