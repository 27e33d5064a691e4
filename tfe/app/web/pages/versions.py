"""Version pages: the diff between two versions, and the document page's version forms.

The forms of the document page's versions section (``doc/_versions.html``) post here: a new version
(file and comment), « Restaurer » on an earlier version, « Verrouiller pour modification » and
« Déverrouiller ». Each checks the session's CSRF token (403 otherwise), calls ``ged.versions``, keeps a
one-shot French notice for the versions section and redirects (303) to the document page. A document
the user may not see stays a 404 page, one they may not change a 403 page; the other refusals (locked,
identical, too large, wrong type, unreadable) come back as the notice, with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from ged.versions import MAX_COMMENT, VersionResult, diff_versions
from tfe.app.web.api.documents import MAX_VERSION
from tfe.app.web.api.versions import read_version_file
from tfe.app.web.deps import PageScopeDep, PageUser, RuntimeDep, SessionDep, TargetId
from tfe.app.web.pages.forms import require_csrf
from tfe.app.web.templating import templates
from tfe.core.errors import (
    ConflictError,
    ExtractionError,
    TfeError,
    TooLargeError,
    UnsupportedInputError,
    ValidationError,
)

router = APIRouter(tags=["pages"], include_in_schema=False)

FLASH_KEY = "flash_versions"  # the versions section's own notice (other sections keep theirs)
_SHOWN_ERRORS = (ConflictError, ExtractionError, TooLargeError, ValidationError)
_FR_PREFIX = {
    TooLargeError: "Fichier trop volumineux",
    UnsupportedInputError: "Type de fichier refusé",
    ExtractionError: "Fichier illisible",
    ConflictError: "Impossible",
    ValidationError: "Saisie invalide",
}


def flash(request: Request, text: str, kind: str = "success") -> None:
    request.session[FLASH_KEY] = {"kind": kind, "text": text}


def pop_notice(request: Request) -> dict[str, str] | None:
    """The pending notice of the versions section, removed from the session."""
    value = request.session.pop(FLASH_KEY, None)
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return {"kind": str(value.get("kind") or "success"), "text": value["text"]}
    return None


def _refused(request: Request, exc: TfeError) -> None:
    prefix = next((p for cls, p in _FR_PREFIX.items() if isinstance(exc, cls)), "Erreur")
    flash(request, f"{prefix} : {exc.message}", "error")


def _resembles(result: VersionResult) -> str:
    """« Elle ressemble à 92 % à « titre ». » for the best near-duplicate, if any."""
    if not result.similar:
        return ""
    best = result.similar[0]
    more = f" (et {len(result.similar) - 1} autre(s))" if len(result.similar) > 1 else ""
    return f" Elle ressemble à {best.percent} % à « {best.title} »{more}."


def _back(doc_id: str) -> RedirectResponse:
    return RedirectResponse(f"/documents/{doc_id}#versions", status_code=303)


@router.post("/documents/{doc_id}/versions")
def upload_version(
    request: Request,
    user: PageUser,
    runtime: RuntimeDep,
    doc_id: TargetId,
    file: Annotated[UploadFile, File()],
    comment: Annotated[str, Form(max_length=MAX_COMMENT)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_csrf(request, csrf)
    try:
        data = read_version_file(runtime, user, doc_id, file, channel="web")
        result = runtime.versions.add_version(
            user, doc_id, filename=file.filename, data=data, comment=comment or None, channel="web"
        )
    except _SHOWN_ERRORS as exc:
        _refused(request, exc)
    else:
        flash(request, f"Version {result.number} ajoutée ({result.version.filename}).{_resembles(result)}")
    return _back(doc_id)


@router.post("/documents/{doc_id}/versions/{number}/restaurer")
def restore_version(
    request: Request,
    user: PageUser,
    runtime: RuntimeDep,
    doc_id: TargetId,
    number: int,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_csrf(request, csrf)
    try:
        result = runtime.versions.restore(user, doc_id, number, channel="web")
    except _SHOWN_ERRORS as exc:
        _refused(request, exc)
    else:
        flash(request, f"Version {number} restaurée : elle est désormais la version {result.number}.")
    return _back(doc_id)


@router.post("/documents/{doc_id}/verrou")
def lock_document(
    request: Request,
    user: PageUser,
    runtime: RuntimeDep,
    doc_id: TargetId,
    minutes: Annotated[int | None, Form(ge=1, le=10080)] = None,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_csrf(request, csrf)
    try:
        lock = runtime.versions.lock(user, doc_id, minutes=minutes, channel="web")
    except _SHOWN_ERRORS as exc:
        _refused(request, exc)
    else:
        flash(request, f"Document {lock.describe_fr()}.")
    return _back(doc_id)


@router.post("/documents/{doc_id}/verrou/liberer")
def unlock_document(
    request: Request,
    user: PageUser,
    runtime: RuntimeDep,
    doc_id: TargetId,
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    require_csrf(request, csrf)
    released = runtime.versions.unlock(user, doc_id, channel="web")
    flash(request, "Document déverrouillé." if released else "Le document n'était pas verrouillé.")
    return _back(doc_id)


@router.get("/documents/{doc_id}/versions/diff")
def diff_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    scope: PageScopeDep,
    doc_id: TargetId,
    a: Annotated[int, Query(ge=1, le=MAX_VERSION)],
    b: Annotated[int, Query(ge=1, le=MAX_VERSION)],
) -> Response:
    result = diff_versions(session, doc_id, scope, a, b, channel="web")
    context: dict[str, Any] = {"user": user, "doc_id": doc_id, "result": result}
    return templates.TemplateResponse(request, "version_diff.html", context)
