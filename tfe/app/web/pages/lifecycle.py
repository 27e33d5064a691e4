"""Lifecycle pages: transitions with a comment, the trash (« Corbeille »), the review list (« À revoir »).

The forms of the document page's lifecycle section post here (CSRF token checked first, 403 otherwise),
act through the same use cases as the API (``ged.lifecycle``, ``ged.trash``, ``ged.retention``) and
redirect (303) with a one-shot French notice (``pages.forms.flash``) that the document page shows.
A refused move (role, comment missing) comes back as an error notice on the document page; a document
the user cannot see is the 404 page, as everywhere.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ged import lifecycle, retention, trash
from tfe.app.web.deps import PageUser, RuntimeDep, SessionDep, TargetId, csrf_token, csrf_valid
from tfe.app.web.pages.forms import flash, pop_flash
from tfe.app.web.templating import templates
from tfe.core.errors import ConflictError, PermissionDeniedError, ValidationError

router = APIRouter(tags=["pages"], include_in_schema=False)

_DONE_FR = {
    "submit": "Le document est soumis pour relecture.",
    "validate": "Le document est validé.",
    "send_back": "Le document est renvoyé en brouillon.",
    "archive": "Le document est archivé : il n'apparaît plus dans les recherches par défaut.",
    "unarchive": "Le document est désarchivé.",
}


def _require_csrf(request: Request, submitted: str) -> None:
    if not csrf_valid(request, submitted):
        raise PermissionDeniedError(
            "Votre session a expiré ou le formulaire n'est pas valide : rechargez la page et réessayez."
        )


def _refusal_fr(exc: Exception) -> str:
    if isinstance(exc, PermissionDeniedError):
        return "Vous n'avez pas les droits pour ce changement de statut."
    if isinstance(exc, ConflictError):
        return "Ce changement de statut n'est pas possible depuis le statut actuel du document."
    if isinstance(exc, ValidationError) and "comment" in exc.message:
        if "at most" in exc.message:
            return f"Le commentaire est trop long ({lifecycle.MAX_COMMENT} caractères au plus)."
        return "Indiquez en commentaire ce qu'il faut reprendre avant de renvoyer le document en brouillon."
    return "Changement de statut impossible."


@router.post("/documents/{doc_id}/statut")
def transition_submit(
    request: Request,
    session: SessionDep,
    user: PageUser,
    runtime: RuntimeDep,
    doc_id: TargetId,
    to: Annotated[str, Form(max_length=32)] = "",
    comment: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _require_csrf(request, csrf)
    document = lifecycle.visible_document(session, doc_id, user)  # 404 first
    try:
        move = lifecycle.check_move(user, document, to, comment)
        lifecycle.transition(
            session, runtime.backend, runtime.referential, user, doc_id, to, comment, channel="web"
        )
    except (PermissionDeniedError, ConflictError, ValidationError) as exc:
        session.rollback()
        flash(request, _refusal_fr(exc), "error")
    else:
        flash(request, _DONE_FR.get(move.action, "Statut modifié."))
    return RedirectResponse(f"/documents/{doc_id}", status_code=303)


@router.post("/documents/{doc_id}/supprimer")
def trash_submit(
    request: Request,
    session: SessionDep,
    user: PageUser,
    runtime: RuntimeDep,
    doc_id: TargetId,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _require_csrf(request, csrf)
    try:
        entry = trash.trash_document(
            session,
            runtime.backend,
            user,
            doc_id,
            retention_days=runtime.settings.trash_retention_days,
            channel="web",
        )
    except PermissionDeniedError:
        raise PermissionDeniedError(
            "Seuls le propriétaire et les contributeurs, curateurs ou administrateurs de son organisation "
            "peuvent supprimer ce document."
        ) from None
    flash(
        request,
        f"« {entry.title} » est dans la corbeille : vous pouvez le restaurer jusqu'au "
        f"{entry.purge_at.strftime('%d/%m/%Y')}.",
    )
    return RedirectResponse("/documents/corbeille", status_code=303)


@router.post("/documents/{doc_id}/restaurer")
def restore_submit(
    request: Request,
    session: SessionDep,
    user: PageUser,
    runtime: RuntimeDep,
    doc_id: TargetId,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _require_csrf(request, csrf)
    trash.restore_document(session, runtime.backend, runtime.referential, user, doc_id, channel="web")
    flash(request, "Le document est restauré.")
    return RedirectResponse(f"/documents/{doc_id}", status_code=303)


@router.post("/documents/{doc_id}/revue")
def review_submit(
    request: Request,
    session: SessionDep,
    user: PageUser,
    doc_id: TargetId,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    _require_csrf(request, csrf)
    try:
        due = retention.confirm_review(session, user, doc_id, channel="web")
    except PermissionDeniedError:
        raise PermissionDeniedError(
            "Vous n'avez pas les droits pour confirmer la revue de ce document."
        ) from None
    except ValidationError:
        raise ValidationError("Ce type de document n'a pas de règle de revue.") from None
    flash(request, f"Revue confirmée : prochaine revue le {due.strftime('%d/%m/%Y')}.")
    return RedirectResponse("/documents/a-revoir", status_code=303)


@router.get("/documents/corbeille")
def trash_page(request: Request, session: SessionDep, user: PageUser, runtime: RuntimeDep) -> Response:
    retention_days = runtime.settings.trash_retention_days
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "entries": trash.trash_list(session, user, retention_days=retention_days),
        "retention_days": retention_days,
        "notice": pop_flash(request),
    }
    return templates.TemplateResponse(request, "trash.html", context)


@router.get("/documents/a-revoir")
def review_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "entries": retention.review_list(session, user),
        "notice": pop_flash(request),
    }
    return templates.TemplateResponse(request, "review.html", context)
