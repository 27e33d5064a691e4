"""``/login`` and ``/logout``: the signed session cookie for browsers.

A successful sign-in opens a server-side session (``deps.sign_in``: the cookie carries its secret id);
``POST /logout`` revokes that row, so a copy of the cookie taken before stops working too, then sends an
OIDC session to its provider's logout (``oidc_logout.end_session_redirect``).

CSRF: the cookie is ``SameSite=Lax`` and every form carries the session's CSRF token, checked on POST.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tfe.app.web.client import client_address
from tfe.app.web.deps import SessionDep, csrf_token, csrf_valid, current_session, sign_in
from tfe.app.web.oidc_logout import end_session_redirect
from tfe.app.web.templating import templates
from tfe.core.errors import AuthenticationError
from tfe.core.security import audit, identity, sessions
from tfe.core.security.audit import Actor
from tfe.core.security.throttle import LoginThrottle

WEB = Actor.system("web")
router = APIRouter(tags=["pages"], include_in_schema=False)


def safe_next(value: str | None) -> str:
    """A local path to go back to after sign-in (never another host)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _login_page(
    request: Request, next_url: str, email: str = "", error: str = "", status: int = 200
) -> Response:
    context = {"next": next_url, "email": email, "error": error, "csrf": csrf_token(request), "user": None}
    context["providers"] = request.app.state.oidc.providers  # "Se connecter avec ..." buttons (pages/oidc.py)
    return templates.TemplateResponse(request, "login.html", context, status_code=status)


@router.get("/login")
def login_form(request: Request, session: SessionDep, next: str | None = None) -> Response:
    row, user = current_session(request, session)
    if row is not None and user is not None and row.suspended_at is None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, safe_next(next))


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = safe_next(next)
    if not csrf_valid(request, csrf):
        return _login_page(request, target, email, "Votre session a expiré : veuillez réessayer.", 400)
    if not email.strip() or not password:
        return _login_page(
            request, target, email, "Saisissez votre adresse e-mail et votre mot de passe.", 400
        )
    throttle: LoginThrottle = request.app.state.login_throttle
    address = client_address(request)
    attempt = {"email": email.strip().lower(), "address": address}
    wait = throttle.retry_after(email, address)
    if wait > 0:
        audit.record(session, "auth.login_throttled", WEB, target_kind="user", detail=attempt)
        page = _login_page(
            request, target, email, "Trop de tentatives : réessayez dans quelques minutes.", 429
        )
        page.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return page
    try:
        user = identity.authenticate_password(session, email, password)
    except AuthenticationError:
        throttle.failed(email, address)
        audit.record(session, "auth.login_failed", WEB, target_kind="user", detail=attempt)
        return _login_page(request, target, email, "Adresse e-mail ou mot de passe incorrect.", 401)
    throttle.succeeded(email, address)
    sign_in(request, session, user, auth_method="password")  # server-side session, audited auth.login
    return RedirectResponse(target, status_code=303)


@router.get("/logout")
def logout_form(request: Request, session: SessionDep) -> Response:
    _, user = current_session(request, session)  # a suspended session may still sign out
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return templates.TemplateResponse(request, "logout.html", {"user": user, "csrf": csrf_token(request)})


@router.post("/logout")
def logout_submit(
    request: Request, session: SessionDep, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """End the server-side session (a copy of the cookie stops working too), then go to the provider's
    logout for an OIDC session (RP-initiated logout) or to ``/login``."""
    row, user = current_session(request, session)
    if row is not None and user is not None and csrf_valid(request, csrf):
        sessions.revoke(session, row, "logout")
        audit.record(
            session,
            "auth.logout",
            Actor.of_user(user, "web"),
            target_kind="user",
            target_id=str(user.id),
            detail={"session": sessions.public_id(row), "method": row.auth_method},
        )
        target = end_session_redirect(request, row) or "/login"
        request.session.clear()
        return RedirectResponse(target, status_code=303)
    return RedirectResponse("/logout", status_code=303)
