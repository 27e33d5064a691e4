"""``/documents/{id}/modifier``: edit a document's title, type, visibility and (curators) status and concepts.

A plain form (no JavaScript needed) over the same use case as ``PATCH /api/documents/{id}``
(``ged.editing.edit_document``). Concept names are checked here first so that an unknown sector or
country is reported in French next to the form, with what was typed kept.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ged.documents import get_document
from ged.editing import DocumentChanges, edit_document, editable_document, may_change_status, may_classify
from ged.lifecycle import allowed_moves
from ged.models import Document
from tfe.app.runtime import Runtime
from tfe.app.web.deps import PageUser, RuntimeDep, SessionDep, TargetId, csrf_token, csrf_valid
from tfe.app.web.templating import templates
from tfe.core.errors import ConflictError, PermissionDeniedError, ValidationError
from tfe.core.models import VISIBILITIES, User
from tfe.core.security import identity

router = APIRouter(tags=["pages"], include_in_schema=False)

_SEPARATORS = re.compile(r"[,;\n]+")
_WHAT_FR = {"naf": "Secteur inconnu", "country": "Pays inconnu"}


def split_names(text: str) -> tuple[str, ...]:
    """Concept names typed in one field, separated by commas, semicolons or new lines."""
    return tuple(dict.fromkeys(part.strip() for part in _SEPARATORS.split(text or "") if part.strip()))


def _unknown(runtime: Runtime, names: tuple[str, ...], scheme: str) -> list[str]:
    referential = runtime.referential
    return [f"{_WHAT_FR[scheme]} : « {n} »" for n in names if referential.resolve(n, scheme) is None]


def editable_fr(session: Session, doc_id: str, user: User, what: str = "ce document") -> Document:
    """``editable_document`` with the refusal in French (the error page shows it): « … peuvent modifier
    <what>. »"""
    try:
        return editable_document(session, doc_id, user)
    except PermissionDeniedError:
        raise PermissionDeniedError(
            "Seuls le propriétaire et les contributeurs, curateurs ou administrateurs de son organisation "
            f"peuvent modifier {what}."
        ) from None


def _context(
    request: Request, session: Session, runtime: Runtime, user: User, doc_id: str, **extra: Any
) -> dict[str, Any]:
    document = editable_fr(session, doc_id, user)
    view = get_document(session, doc_id, identity.scope_for(user))
    return {
        "user": user,
        "csrf": csrf_token(request),
        "doc": view,
        "doctypes": sorted(runtime.referential.concepts("doctype"), key=lambda c: c.label_fr),
        "visibilities": list(VISIBILITIES),
        "can_classify": may_classify(user, document),
        "can_change_status": may_change_status(user, document),
        # the current status and those the user may move the document to (``ged.lifecycle``)
        "statuses": [document.status, *dict.fromkeys(m.target for m in allowed_moves(user, document))],
        "sectors": [c for c in view.classifications if c.scheme == "naf"],
        "countries": [c for c in view.classifications if c.scheme == "country"],
        "form": {
            "title": view.title,
            "doc_type": view.doc_type or "",
            "visibility": view.visibility,
            "status": view.status,
            "valid_until": view.valid_until.date().isoformat() if view.valid_until else "",
        },
        "typed": {"add_sectors": "", "add_countries": ""},
        "errors": [],
        **extra,
    }


@router.get("/documents/{doc_id}/modifier")
def edit_page(
    request: Request, session: SessionDep, user: PageUser, runtime: RuntimeDep, doc_id: TargetId
) -> Response:
    context = _context(request, session, runtime, user, doc_id)
    return templates.TemplateResponse(request, "document_edit.html", context)


@router.post("/documents/{doc_id}/modifier")
def edit_submit(
    request: Request,
    session: SessionDep,
    user: PageUser,
    runtime: RuntimeDep,
    doc_id: TargetId,
    title: Annotated[str, Form(max_length=500)] = "",
    doc_type: Annotated[str, Form(max_length=64)] = "",
    visibility: Annotated[str, Form(max_length=16)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
    valid_until: Annotated[str, Form(max_length=10)] = "",
    add_sectors: Annotated[str, Form(max_length=2000)] = "",
    add_countries: Annotated[str, Form(max_length=2000)] = "",
    remove_sectors: Annotated[list[str] | None, Form()] = None,
    remove_countries: Annotated[list[str] | None, Form()] = None,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    document = editable_fr(session, doc_id, user)  # 404 / 403 before anything else
    sectors_in, countries_in = split_names(add_sectors), split_names(add_countries)
    errors: list[str] = []
    if not csrf_valid(request, csrf):
        errors.append("Votre session a expiré : veuillez réessayer.")
    if not title.strip():
        errors.append("Le titre ne peut pas être vide.")
    errors += _unknown(runtime, sectors_in, "naf") + _unknown(runtime, countries_in, "country")
    until: dt.date | None = None
    if valid_until.strip():
        try:
            until = dt.date.fromisoformat(valid_until.strip())
        except ValueError:
            errors.append("Date de fin de validité invalide (attendu : AAAA-MM-JJ).")
    changes = DocumentChanges(
        title=title,
        doc_type=doc_type or None,
        visibility=visibility or None,
        status=status or None,
        valid_until=until,
        clear_valid_until=not valid_until.strip() and document.valid_until is not None,
        add_sectors=sectors_in,
        remove_sectors=tuple(remove_sectors or ()),
        add_countries=countries_in,
        remove_countries=tuple(remove_countries or ()),
    )
    if not errors:
        try:
            edit_document(session, runtime.backend, runtime.referential, user, doc_id, changes, channel="web")
        except ValidationError as exc:
            errors.append(f"Modification impossible : {exc.message}")
        except ConflictError:  # a status the lifecycle cannot reach from the current one
            errors.append("Ce changement de statut n'est pas possible depuis le statut actuel du document.")
        else:
            return RedirectResponse(f"/documents/{doc_id}", status_code=303)
    session.rollback()
    context = _context(
        request,
        session,
        runtime,
        user,
        doc_id,
        errors=errors,
        form={
            "title": title,
            "doc_type": doc_type,
            "visibility": visibility,
            "status": status,
            "valid_until": valid_until,
        },
        typed={"add_sectors": add_sectors, "add_countries": add_countries},
    )
    return templates.TemplateResponse(request, "document_edit.html", context, status_code=400)
