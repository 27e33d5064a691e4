"""``/admin``: administration pages (organisations, their users and API tokens), for administrators.

The pages translate forms into the use cases of ``tfe.core.security.administration``, which decides
the scope (the national agency's administrators see every organisation, the others their own) and audits
every change. Non-administrators get 403; another organisation's pages, users and tokens answer 404.
Every form carries the session's CSRF token; each change redirects (303) to the page it came from, with
a one-shot notice. A new account's one-time password is shown once, on the answer to the creation form,
and never stored in the session.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tfe.app.web.deps import AdminPageUser, SessionDep, csrf_token
from tfe.app.web.pages.forms import flash, pop_flash, require_csrf
from tfe.app.web.templating import templates
from tfe.core.errors import ConflictError, ValidationError
from tfe.core.models import ROLES, User
from tfe.core.security import administration as adm

router = APIRouter(prefix="/admin", tags=["pages"], include_in_schema=False)

RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
CsrfField = Annotated[str, Form(max_length=200)]

ROLE_LABELS = {
    "reader": "Lecteur",
    "contributor": "Contributeur",
    "curator": "Curateur",
    "admin": "Administrateur",
}
KIND_LABELS = {
    "national_agency": "Agence nationale",
    "regional_chamber": "Chambre régionale",
    "bank": "Banque publique",
    "region": "Région",
    "partner_abroad": "Partenaire à l'étranger",
}
TOKEN_STATUS = {"active": "Actif", "revoked": "Révoqué", "expired": "Expiré", "suspended": "Suspendu"}
LAST_ADMIN = (
    "Vous êtes le dernier administrateur actif de l'organisation : nommez d'abord un autre administrateur."
)


def _context(request: Request, admin: User, **extra: Any) -> dict[str, Any]:
    return {
        "user": admin,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "roles": [(role, ROLE_LABELS[role]) for role in ROLES],
        "role_labels": ROLE_LABELS,
        "kind_labels": KIND_LABELS,
        **extra,
    }


def _org_url(org_id: int, tokens: bool = False) -> str:
    return f"/admin/organisations/{org_id}" + ("/jetons" if tokens else "")


@router.get("")
def admin_home(admin: AdminPageUser) -> Response:
    return RedirectResponse("/admin/organisations", status_code=303)


@router.get("/organisations")
def organisations_page(request: Request, session: SessionDep, admin: AdminPageUser) -> Response:
    orgs = adm.list_organisations(session, admin)
    context = _context(request, admin, orgs=orgs, national=adm.manages_every_organisation(session, admin))
    return templates.TemplateResponse(request, "admin_organisations.html", context)


def _users_page(
    request: Request,
    session: Session,
    admin: User,
    org_id: int,
    *,
    error: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    org = adm.get_organisation(session, admin, org_id)
    context = _context(
        request,
        admin,
        org=org,
        users=adm.list_users(session, admin, org.id),
        open_sessions=adm.open_sessions(session, admin, org.id),
        error=error,
        form=form or {"email": "", "name": "", "role": "reader"},
    )
    return templates.TemplateResponse(request, "admin_users.html", context, status_code=status)


@router.get("/organisations/{org_id}")
def users_page(request: Request, session: SessionDep, admin: AdminPageUser, org_id: RowId) -> Response:
    return _users_page(request, session, admin, org_id)


@router.post("/organisations/{org_id}/utilisateurs")
def invite(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    org_id: RowId,
    csrf: CsrfField = "",
    email: Annotated[str, Form(max_length=254)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=16)] = "reader",
) -> Response:
    require_csrf(request, csrf)
    form = {"email": email, "name": name, "role": role}
    try:
        invitation = adm.invite_user(session, admin, org_id=org_id, email=email, role=role, name=name)
    except ConflictError:
        error = "Un compte existe déjà avec cette adresse e-mail."
        return _users_page(request, session, admin, org_id, error=error, form=form, status=409)
    except ValidationError:
        error = "Saisissez une adresse e-mail valide et choisissez un rôle."
        return _users_page(request, session, admin, org_id, error=error, form=form, status=400)
    org = adm.get_organisation(session, admin, org_id)
    context = _context(request, admin, org=org, invited=invitation.user, password=invitation.password)
    response = templates.TemplateResponse(request, "admin_invited.html", context, status_code=201)
    response.headers["Cache-Control"] = "no-store"  # the one-time password must not stay in a cache
    return response


@router.post("/utilisateurs/{user_id}/role")
def change_role(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    user_id: RowId,
    csrf: CsrfField = "",
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    require_csrf(request, csrf)
    try:
        user = adm.change_role(session, admin, user_id, role)
    except adm.LastAdminError:
        flash(request, LAST_ADMIN, "error")
        return RedirectResponse(_org_url(admin.org_id), status_code=303)
    flash(request, f"{user.email} a désormais le rôle {ROLE_LABELS[user.role]}.")
    return RedirectResponse(_org_url(user.org_id), status_code=303)


def _set_active(request: Request, session: Session, admin: User, user_id: int, active: bool) -> Response:
    try:
        user = adm.set_active(session, admin, user_id, active)
    except adm.LastAdminError:
        flash(request, LAST_ADMIN, "error")
        return RedirectResponse(_org_url(admin.org_id), status_code=303)
    done = "réactivé" if active else "désactivé : il ne peut plus se connecter ni utiliser ses jetons"
    flash(request, f"Le compte {user.email} est {done}.")
    return RedirectResponse(_org_url(user.org_id), status_code=303)


@router.post("/utilisateurs/{user_id}/desactiver")
def deactivate(
    request: Request, session: SessionDep, admin: AdminPageUser, user_id: RowId, csrf: CsrfField = ""
) -> Response:
    require_csrf(request, csrf)
    return _set_active(request, session, admin, user_id, False)


@router.post("/utilisateurs/{user_id}/reactiver")
def reactivate(
    request: Request, session: SessionDep, admin: AdminPageUser, user_id: RowId, csrf: CsrfField = ""
) -> Response:
    require_csrf(request, csrf)
    return _set_active(request, session, admin, user_id, True)


@router.post("/utilisateurs/{user_id}/sessions/fermer")
def end_sessions(
    request: Request, session: SessionDep, admin: AdminPageUser, user_id: RowId, csrf: CsrfField = ""
) -> Response:
    """End every browser session of a managed user now (their next request is signed out)."""
    require_csrf(request, csrf)
    ended = adm.end_sessions(session, admin, user_id)
    user = session.get(User, user_id)
    email = user.email if user else str(user_id)
    flash(request, f"{ended} session(s) de {email} fermée(s) : elles ne fonctionnent plus.")
    return RedirectResponse(_org_url(user.org_id if user else admin.org_id), status_code=303)


@router.get("/organisations/{org_id}/jetons")
def tokens_page(request: Request, session: SessionDep, admin: AdminPageUser, org_id: RowId) -> Response:
    org = adm.get_organisation(session, admin, org_id)
    tokens = adm.list_tokens(session, admin, org.id)
    context = _context(request, admin, org=org, tokens=tokens, token_status=TOKEN_STATUS)
    return templates.TemplateResponse(request, "admin_tokens.html", context)


@router.post("/jetons/{token_id}/revoquer")
def revoke(
    request: Request, session: SessionDep, admin: AdminPageUser, token_id: RowId, csrf: CsrfField = ""
) -> Response:
    require_csrf(request, csrf)
    token = adm.revoke_token(session, admin, token_id)
    owner = session.get(User, token.user_id)
    flash(request, f"Le jeton tfe_{token.prefix}… est révoqué.")
    return RedirectResponse(_org_url(owner.org_id if owner else admin.org_id, tokens=True), status_code=303)
