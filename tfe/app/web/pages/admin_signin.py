"""``/admin/connexion``: how OIDC sign-ins find their organisation, and the sign-ups waiting for a decision.

Organisation mappings (a SIRET or an e-mail domain → an organisation) are added and removed by the
administrators of that organisation (the national agency's for every organisation); pending sign-up
requests are approved into an organisation, with the role the admin picks (reader by default), or
rejected, by the national agency's administrators. The use cases and their audit events live in
``tfe.core.security.provisioning``; every form carries the CSRF token and redirects (303) with a notice.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from tfe.app.web.deps import AdminPageUser, SessionDep, csrf_token
from tfe.app.web.pages.admin import ROLE_LABELS
from tfe.app.web.pages.forms import flash, pop_flash, require_csrf
from tfe.app.web.templating import templates
from tfe.core.errors import ConflictError, ValidationError
from tfe.core.models import ROLES, User
from tfe.core.security import administration as adm
from tfe.core.security import provisioning

router = APIRouter(prefix="/admin/connexion", tags=["pages"], include_in_schema=False)

PAGE = "/admin/connexion"
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
CsrfField = Annotated[str, Form(max_length=200)]
KIND_LABELS = {"siret": "SIRET", "domain": "Domaine e-mail"}


def _page(
    request: Request,
    session: Session,
    admin: User,
    *,
    error: str = "",
    status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:
    orgs = [summary.org for summary in adm.list_organisations(session, admin)]
    context: dict[str, Any] = {
        "user": admin,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "error": error,
        "form": form or {"kind": "siret", "value": "", "org_id": ""},
        "mappings": provisioning.list_mappings(session, admin),
        "requests": provisioning.list_requests(session, admin),
        "decides": adm.manages_every_organisation(session, admin),
        "orgs": orgs,
        "roles": [(role, ROLE_LABELS[role]) for role in ROLES],
        "kind_labels": KIND_LABELS,
    }
    return templates.TemplateResponse(request, "admin_signin.html", context, status_code=status)


@router.get("")
def signin_page(request: Request, session: SessionDep, admin: AdminPageUser) -> Response:
    return _page(request, session, admin)


@router.post("/correspondances")
def add_mapping(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    csrf: CsrfField = "",
    kind: Annotated[str, Form(max_length=16)] = "siret",
    value: Annotated[str, Form(max_length=255)] = "",
    org_id: Annotated[int, Form(ge=1, le=2_147_483_647)] = 1,
) -> Response:
    require_csrf(request, csrf)
    form = {"kind": kind, "value": value, "org_id": str(org_id)}
    try:
        mapping = provisioning.add_mapping(session, admin, kind=kind, value=value, org_id=org_id)
    except ConflictError:
        return _page(
            request,
            session,
            admin,
            error="Cette valeur est déjà associée à une organisation.",
            status=409,
            form=form,
        )
    except ValidationError:
        error = (
            "Saisissez un SIRET de 14 chiffres ou un domaine de messagerie valide (par ex. cci-bretagne.fr)."
        )
        return _page(request, session, admin, error=error, status=400, form=form)
    flash(request, f"{KIND_LABELS[mapping.kind]} {mapping.value} : correspondance ajoutée.")
    return RedirectResponse(PAGE, status_code=303)


@router.post("/correspondances/{mapping_id}/supprimer")
def remove_mapping(
    request: Request, session: SessionDep, admin: AdminPageUser, mapping_id: RowId, csrf: CsrfField = ""
) -> Response:
    require_csrf(request, csrf)
    mapping = provisioning.remove_mapping(session, admin, mapping_id)
    flash(request, f"{KIND_LABELS[mapping.kind]} {mapping.value} : correspondance supprimée.")
    return RedirectResponse(PAGE, status_code=303)


@router.post("/demandes/{request_id}/approuver")
def approve(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    request_id: RowId,
    csrf: CsrfField = "",
    org_id: Annotated[int, Form(ge=1, le=2_147_483_647)] = 1,
    role: Annotated[str, Form(max_length=16)] = "reader",
) -> Response:
    require_csrf(request, csrf)
    try:
        user = provisioning.approve_request(session, admin, request_id, org_id=org_id, role=role)
    except ConflictError:
        error = "Cette demande est déjà traitée, ou un compte existe déjà avec cette adresse e-mail."
        return _page(request, session, admin, error=error, status=409)
    except ValidationError:
        return _page(request, session, admin, error="Choisissez un rôle valide.", status=400)
    flash(request, f"Demande acceptée : {user.email} peut se connecter ({ROLE_LABELS[user.role]}).")
    return RedirectResponse(PAGE, status_code=303)


@router.post("/demandes/{request_id}/refuser")
def reject(
    request: Request, session: SessionDep, admin: AdminPageUser, request_id: RowId, csrf: CsrfField = ""
) -> Response:
    require_csrf(request, csrf)
    try:
        signup = provisioning.reject_request(session, admin, request_id)
    except ConflictError:
        return _page(request, session, admin, error="Cette demande est déjà traitée.", status=409)
    flash(request, f"Demande de {signup.email} refusée.")
    return RedirectResponse(PAGE, status_code=303)
