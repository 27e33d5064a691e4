"""``/deposer``: upload one or many documents from the browser (contributors, curators, admins).

With JavaScript (``static/upload.js``) each dropped or chosen file goes to ``POST /api/documents`` with
the session cookie and the ``X-CSRF-Token`` header, with its own progress bar and outcome. Without it,
the form posts every file here and the page shows the outcomes; both paths call the same use case
(``DocumentService.upload``, which screens every file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ged.neardup import SimilarRef
from tfe.app.runtime import Runtime
from tfe.app.web.deps import PageUser, RuntimeDep, SessionDep, csrf_token, csrf_valid
from tfe.app.web.limits import MULTIPART_OVERHEAD, too_large_message
from tfe.app.web.templating import templates
from tfe.core.errors import (
    PermissionDeniedError,
    TfeError,
    TooLargeError,
    UnsupportedInputError,
    ValidationError,
)
from tfe.core.models import VISIBILITIES, Organisation, User

router = APIRouter(tags=["pages"], include_in_schema=False)

UPLOAD_ROLES = frozenset({"contributor", "curator", "admin"})
MAX_FILES = 20
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Outcome:
    """One file's fate, as the page shows it (the reason in French where it is ours)."""

    filename: str
    status: str  # ok | duplicate | failed
    id: str | None = None
    title: str | None = None
    reason: str | None = None
    similar: list[SimilarRef] = field(default_factory=list)  # near-duplicates (ged.neardup)


def require_uploader(user: User) -> None:
    if user.role not in UPLOAD_ROLES:
        raise PermissionDeniedError(
            "Le dépôt de documents est réservé aux contributeurs, curateurs et administrateurs."
        )


def upload_limit(runtime: Runtime) -> int:
    """The per-file cap (the same as the API's)."""
    return min(runtime.settings.max_upload_bytes, runtime.settings.max_file_bytes)


def _read(upload: UploadFile, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while chunk := upload.file.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise TooLargeError(f"file over the {limit}-byte upload limit")
        parts.append(chunk)
    return b"".join(parts)


def _french(exc: TfeError, limit: int) -> str:
    """The reason shown for a file the screening refused (ours, so in French; the detail stays as is)."""
    if isinstance(exc, TooLargeError):
        return f"Fichier trop volumineux (limite : {limit // 1024} Ko par fichier)."
    if isinstance(exc, UnsupportedInputError):
        return f"Fichier refusé : type ou contenu non accepté ({exc.message})."
    return f"Dépôt refusé ({exc.message})."


def upload_one(
    runtime: Runtime, user: User, upload: UploadFile, visibility: str, doc_type: str | None
) -> Outcome:
    """Read and ingest one file of the plain form; every refusal or failure becomes an outcome.

    Screening (name, type, content) is the use case's; a file over the cap is refused here, recorded by
    ``DocumentService.refuse`` as the API does.
    """
    name = upload.filename or ""
    limit = upload_limit(runtime)
    try:
        data = _read(upload, limit)
    except TooLargeError as exc:
        runtime.documents.refuse(
            user,
            filename=name,
            size=upload.size or limit + 1,
            reason=exc.message,
            channel="web",
            visibility=visibility,
            doc_type=doc_type,
        )
        return Outcome(name or "(sans nom)", "failed", reason=_french(exc, limit))
    try:
        result = runtime.documents.upload(
            user, filename=name, data=data, visibility=visibility, doc_type=doc_type, channel="web"
        )
    except ValidationError as exc:
        return Outcome(name or "(sans nom)", "failed", reason=_french(exc, limit))
    shown = result.filename or name
    if result.status == "failed":
        detail = result.reason or "raison inconnue"
        reason = f"Contenu illisible : le texte du fichier n'a pas pu être extrait ({detail})."
        return Outcome(shown, "failed", reason=reason)
    return Outcome(shown, result.status, result.id, result.title, similar=result.similar)


def page_context(
    request: Request, session: Session, runtime: Runtime, user: User, **extra: Any
) -> dict[str, Any]:
    """What ``upload.html`` needs: the types, visibilities, the user's organisation and the file cap."""
    org = session.get(Organisation, user.org_id) if user.org_id is not None else None
    doctypes = sorted(runtime.referential.concepts("doctype"), key=lambda c: c.label_fr)
    return {
        "user": user,
        "csrf": csrf_token(request),
        "org": org,
        "doctypes": doctypes,
        "visibilities": list(VISIBILITIES),
        "visibility": "organisation",
        "doc_type": "",
        "limit": upload_limit(runtime),
        "max_files": MAX_FILES,
        "outcomes": [],
        "error": "",
        **extra,
    }


@router.get("/deposer")
def upload_page(request: Request, session: SessionDep, user: PageUser, runtime: RuntimeDep) -> Response:
    require_uploader(user)
    return templates.TemplateResponse(request, "upload.html", page_context(request, session, runtime, user))


@router.post("/deposer")
async def upload_submit(
    request: Request, session: SessionDep, user: PageUser, runtime: RuntimeDep
) -> Response:
    """The plain form (no JavaScript): every file through the same use case, outcomes on the page.

    The form is parsed here, after a ``Content-Length`` check against the per-request cap
    (``TFE_MAX_UPLOAD_BYTES``), since the body-size middleware only guards ``/api/documents``.
    """
    require_uploader(user)
    cap = runtime.settings.max_upload_bytes + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > cap:
        raise TooLargeError(too_large_message(runtime.settings.max_upload_bytes))
    form = await request.form(max_files=MAX_FILES + 1, max_fields=10)
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    visibility = str(form.get("visibility") or "organisation")[:16]
    doc_type = str(form.get("doc_type") or "")[:64]
    kept = {"visibility": visibility, "doc_type": doc_type}
    error = ""
    if not csrf_valid(request, str(form.get("csrf") or "")):
        error = "Votre session a expiré : veuillez réessayer."
    elif visibility not in VISIBILITIES:
        error = "Visibilité inconnue."
    elif not files:
        error = "Choisissez au moins un fichier."
    elif len(files) > MAX_FILES:
        error = f"{MAX_FILES} fichiers au plus par dépôt."
    if error:
        context = page_context(request, session, runtime, user, error=error, **kept)
        return templates.TemplateResponse(request, "upload.html", context, status_code=400)
    outcomes = [
        await run_in_threadpool(upload_one, runtime, user, f, visibility, doc_type or None) for f in files
    ]
    context = page_context(request, session, runtime, user, outcomes=outcomes, **kept)
    return templates.TemplateResponse(request, "upload.html", context)
