"""``/admin/effacements``: erasure receipts and the form that erases a document, for administrators.

The page lists the receipts the administrator may see (``tfe.app.web.api.erasure`` has the same rules)
and a form asking for a document id; the form leads to a confirmation page (what will be erased: the
document's id, its organisation, its version count), whose second form erases it and redirects back with
the receipt's id. Each receipt downloads as its signed JSON (``/admin/effacements/{id}.json``), the file
``tfe erase verify`` checks. Every form carries the session's CSRF token; non-administrators get 403.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from ged import receipts
from ged.models import Document, DocumentVersion
from tfe.app import erasure
from tfe.app.web.deps import AdminPageUser, RuntimeDep, SessionDep, TargetId, csrf_token
from tfe.app.web.pages.forms import flash, pop_flash, require_csrf
from tfe.app.web.templating import templates
from tfe.core.errors import NotFoundError
from tfe.core.models import Organisation, User
from tfe.core.security import administration
from tfe.core.security.audit import Actor

router = APIRouter(tags=["pages"], include_in_schema=False)

PAGE = "/admin/effacements"
CsrfField = Annotated[str, Form(max_length=200)]
DocField = Annotated[str, Form(max_length=64)]
ReasonField = Annotated[str, Form(max_length=500)]


def _org_filter(session: Any, admin: User) -> int | None:
    return administration.managed_org_id(session, admin)


def _page(
    request: Request, session: Any, admin: User, *, error: str = "", document: str = "", status: int = 200
) -> Response:
    rows = receipts.list_receipts(session, org_id=_org_filter(session, admin), limit=200)
    context = {
        "user": admin,
        "csrf": csrf_token(request),
        "notice": pop_flash(request),
        "receipts": [r.receipt for r in rows],
        "error": error,
        "document": document,
    }
    return templates.TemplateResponse(request, "admin_erasures.html", context, status_code=status)


@router.get(PAGE)
def erasures_page(request: Request, session: SessionDep, admin: AdminPageUser) -> Response:
    return _page(request, session, admin)


@router.post(f"{PAGE}/confirmer")
def confirm(
    request: Request,
    session: SessionDep,
    admin: AdminPageUser,
    csrf: CsrfField = "",
    document: DocField = "",
    reason: ReasonField = "",
) -> Response:
    require_csrf(request, csrf)
    doc_id = document.strip()
    try:
        erasure.authorize_document(session, admin, doc_id)
        from ged.erasure import collect_facts

        facts = collect_facts(session, [doc_id])[0]
    except NotFoundError as exc:
        return _page(request, session, admin, error=exc.message, document=doc_id, status=404)
    org = session.get(Organisation, facts.org_id) if facts.org_id is not None else None
    versions = session.scalar(
        select(func.count()).select_from(DocumentVersion).where(DocumentVersion.document_id == doc_id)
    )
    context = {
        "user": admin,
        "csrf": csrf_token(request),
        "document": doc_id,
        "org": org,
        "versions": int(versions or 0),
        "reason": reason,
        "created_at": session.scalar(select(Document.created_at).where(Document.id == doc_id)),
    }
    return templates.TemplateResponse(request, "admin_erasures_confirm.html", context)


@router.post(PAGE)
def erase(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    admin: AdminPageUser,
    csrf: CsrfField = "",
    document: DocField = "",
    reason: ReasonField = "",
    confirmed: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    require_csrf(request, csrf)
    doc_id = document.strip()
    if confirmed != "oui":
        return _page(request, session, admin, error="Confirmez l'effacement.", document=doc_id, status=400)
    try:
        erasure.authorize_document(session, admin, doc_id)
        session.commit()  # the erasure runs in sessions of its own
        result = erasure.erase_document(
            runtime, doc_id, actor=Actor.of_user(admin, "web"), reason=reason.strip() or "web"
        )
    except NotFoundError as exc:
        return _page(request, session, admin, error=exc.message, document=doc_id, status=404)
    flash(request, f"Document {doc_id} effacé. Reçu signé : {result['receipt']['id']}.")
    return RedirectResponse(PAGE, status_code=303)


@router.get(PAGE + "/{receipt_id}.json")
def receipt_file(
    receipt_id: TargetId, session: SessionDep, runtime: RuntimeDep, admin: AdminPageUser
) -> Response:
    row = receipts.get(session, receipt_id, org_id=_org_filter(session, admin))
    document = receipts.as_document(row, erasure.signer(runtime).public_key_hex)
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n",
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="recu-effacement-{row.id}.json"'},
    )
