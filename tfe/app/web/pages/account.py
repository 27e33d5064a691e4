"""``/compte``: the signed-in user's account: their API tokens and browser sessions, and their password.

The user lists their tokens (name, prefix, scopes, dates, state) and sessions (dates, address, browser,
method, the current one marked), creates a token (its secret is shown once, on the answer to the form,
never stored in the session), revokes a token, ends a session or all the others, and changes a local
password (which ends every other session). Every form carries the session's CSRF token; each change is
audited by ``tfe.core.security.credentials`` (channel web) and redirects (303) back with a notice.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tfe.app.web.deps import PageUser, SessionDep, csrf_token
from tfe.app.web.pages.admin import TOKEN_STATUS
from tfe.app.web.pages.forms import flash, pop_flash, require_csrf
from tfe.app.web.templating import templates
from tfe.core.errors import AuthenticationError, ValidationError
from tfe.core.models import TOKEN_SCOPES, User
from tfe.core.security import audit, credentials, identity, sessions
from tfe.core.security.audit import Actor
from tfe.core.security.passwords import verify_password

router = APIRouter(prefix="/compte", tags=["pages"], include_in_schema=False)

CsrfField = Annotated[str, Form(max_length=200)]
TokenId = Annotated[int, Path(ge=1, le=2_147_483_647)]
PublicId = Annotated[str, Path(min_length=16, max_length=16, pattern=r"^[0-9a-f]{16}$")]

SCOPE_LABELS = {"read": "Lecture", "write": "Écriture", "admin": "Administration"}
METHOD_LABELS = {"password": "Mot de passe"}
HERE = "/compte"


def _current_id(request: Request) -> str | None:
    value = getattr(request.state, "session_id", None)
    return value if isinstance(value, str) else None


def _context(request: Request, session: Session, user: User, **extra: Any) -> dict[str, Any]:
    tokens = credentials.list_own_tokens(session, user)
    rows = credentials.list_own_sessions(session, user)
    return {
        "user": user,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "tokens": [(t, identity.token_state(t), identity.token_scopes(t)) for t in tokens],
        "sessions": [(r, sessions.public_id(r), sessions.state(r)) for r in rows],
        "current_id": _current_id(request),
        "state_labels": TOKEN_STATUS,  # the same four states for tokens and sessions
        "scope_labels": SCOPE_LABELS,
        "scopes": [s for s in TOKEN_SCOPES if s != "admin" or user.role == "admin"],
        "method_label": lambda m: METHOD_LABELS.get(m, m.replace("oidc:", "OIDC : ")),
        "has_password": bool(user.password_hash),
        "error": "",
        "password_error": "",
        "form": {"name": "", "expires_days": "90", "scopes": ["read", "write"]},
        **extra,
    }


def _page(request: Request, session: Session, user: User, status: int = 200, **extra: Any) -> Response:
    context = _context(request, session, user, **extra)
    response = templates.TemplateResponse(request, "account.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("")
def account_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    audit.record(
        session, "account.read", Actor.of_user(user, "web"), target_kind="user", target_id=str(user.id)
    )
    return _page(request, session, user)


@router.post("/jetons")
def create_token(
    request: Request,
    session: SessionDep,
    user: PageUser,
    csrf: CsrfField = "",
    name: Annotated[str, Form(max_length=100)] = "",
    expires_days: Annotated[str, Form(max_length=10)] = "90",
    scopes: Annotated[list[str] | None, Form(max_length=3)] = None,
) -> Response:
    require_csrf(request, csrf)
    form = {"name": name, "expires_days": expires_days, "scopes": scopes or []}
    try:
        days = int(expires_days.strip())
    except ValueError:
        days = 0
    try:
        token, raw = credentials.create_own_token(
            session, user, name=name, scopes=scopes or [], expires_in_days=days, channel="web"
        )
    except ValidationError:
        error = (
            "Choisissez au moins une portée (lecture, écriture) et une durée de validité de 1 à 3650 jours."
        )
        return _page(request, session, user, status=400, error=error, form=form)
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "token": token,
        "secret": raw,
        "scopes": identity.token_scopes(token),
        "scope_labels": SCOPE_LABELS,
    }
    response = templates.TemplateResponse(request, "account_token_created.html", context, status_code=201)
    response.headers["Cache-Control"] = "no-store"  # the clear token must not stay in a cache
    return response


@router.post("/jetons/{token_id}/revoquer")
def revoke_token(
    request: Request, session: SessionDep, user: PageUser, token_id: TokenId, csrf: CsrfField = ""
) -> Response:
    require_csrf(request, csrf)
    token = credentials.revoke_own_token(session, user, token_id, channel="web")
    flash(request, f"Le jeton tfe_{token.prefix}… est révoqué : il ne fonctionne plus.")
    return RedirectResponse(HERE, status_code=303)


@router.post("/sessions/{public_id}/fermer")
def end_session(
    request: Request, session: SessionDep, user: PageUser, public_id: PublicId, csrf: CsrfField = ""
) -> Response:
    require_csrf(request, csrf)
    row = credentials.revoke_own_session(session, user, public_id, channel="web")
    if row.id == _current_id(request):  # the user closed this very session: signed out
        request.session.clear()
        return RedirectResponse("/login", status_code=303)
    flash(request, "La session est fermée : elle ne fonctionne plus.")
    return RedirectResponse(HERE, status_code=303)


@router.post("/sessions/fermer-autres")
def end_other_sessions(
    request: Request, session: SessionDep, user: PageUser, csrf: CsrfField = ""
) -> Response:
    require_csrf(request, csrf)
    ended = credentials.end_other_sessions(session, user, _current_id(request), channel="web")
    flash(request, f"{ended} autre(s) session(s) fermée(s).")
    return RedirectResponse(HERE, status_code=303)


@router.post("/mot-de-passe")
def change_password(
    request: Request,
    session: SessionDep,
    user: PageUser,
    csrf: CsrfField = "",
    current: Annotated[str, Form(max_length=1024)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    require_csrf(request, csrf)
    try:
        if not user.password_hash or not verify_password(current, user.password_hash):
            raise AuthenticationError("wrong current password")
        if password != confirm:
            raise ValidationError("passwords differ")
        ended = identity.change_password(session, user, password, keep_session=_current_id(request))
    except AuthenticationError:
        return _page(
            request, session, user, status=400, password_error="Le mot de passe actuel est incorrect."
        )
    except ValidationError:
        error = (
            "Le nouveau mot de passe doit compter 10 caractères au moins "
            "et être saisi deux fois à l'identique."
        )
        return _page(request, session, user, status=400, password_error=error)
    audit.record(
        session,
        "user.password",
        Actor.of_user(user, "web"),
        target_kind="user",
        target_id=str(user.id),
        detail={"sessions_ended": ended},
    )
    flash(request, f"Mot de passe modifié : {ended} autre(s) session(s) fermée(s).")
    return RedirectResponse(HERE, status_code=303)
