"""Taxonomy releases and SKOS import over the API: ``GET``/``POST /api/taxonomy/releases``,
``GET /api/taxonomy/releases/{name}/skos`` (Turtle) and ``POST /api/taxonomy/import`` (a Turtle file:
the plan, or with ``apply`` the one change it recorded). Writes are for curators and administrators;
every read and write is audited."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Path, UploadFile
from fastapi.responses import Response

from taxonomy.releases import create_release, get_release, list_releases, release_dict
from taxonomy.skos import export_turtle
from taxonomy.skos_diff import apply_import, preview_import
from tfe.app.web.api.taxonomy_views import change_view
from tfe.app.web.deps import CurrentUser, RuntimeDep, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.limits import too_large_message
from tfe.core.errors import PermissionDeniedError, TooLargeError, UnsupportedInputError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.audit import Actor

router = APIRouter(prefix="/api/taxonomy", tags=["taxonomy"])

CURATORS = frozenset({"curator", "admin"})
MAX_SKOS_BYTES = 20 * 1024 * 1024  # the shipped taxonomy is ~2 MB
TURTLE_TYPES = frozenset(
    {"text/turtle", "application/x-turtle", "text/plain", "application/octet-stream", ""}
)
ReleaseName = Annotated[str, Path(min_length=1, max_length=64)]


def _curator(user: User) -> None:
    if user.role not in CURATORS:
        raise PermissionDeniedError("modifier la taxonomie est réservé aux curateurs et aux administrateurs")


def _actor(user: User) -> Actor:
    return Actor.of_user(user, "api")


@router.get("/releases", summary="The taxonomy releases, newest first", responses=error_responses(401))
def get_releases(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    rows = [release_dict(r) for r in list_releases(session)]
    audit.record(
        session, "taxonomy.read", _actor(user), target_kind="release", detail={"releases": len(rows)}
    )
    return rows


@router.post(
    "/releases",
    summary="Record the current taxonomy as a named release (curators and admins)",
    status_code=201,
    responses=error_responses(400, 401, 403, 409),
)
def post_release(
    session: SessionDep,
    user: CurrentUser,
    name: Annotated[str, Body(min_length=1, max_length=64)],
    note: Annotated[str, Body(max_length=2000)] = "",
) -> dict[str, Any]:
    _curator(user)
    release = create_release(session, name, note=note, user_id=user.id)
    body = release_dict(release)
    audit.record(
        session,
        "taxonomy.release",
        _actor(user),
        target_kind="release",
        target_id=release.name,
        detail={"concepts": body["concepts"]},
    )
    session.commit()
    return body


@router.get(
    "/releases/{name}/skos",
    summary="A release's taxonomy as SKOS Turtle",
    response_class=Response,
    responses={200: {"content": {"text/turtle": {}}}, **error_responses(400, 401, 404)},
)
def get_release_skos(name: ReleaseName, session: SessionDep, user: CurrentUser) -> Response:
    release = get_release(session, name)
    with tempfile.TemporaryDirectory() as tmp:
        path = FilePath(tmp) / "taxonomie.ttl"
        export_turtle(session, path, release=release)
        data = path.read_bytes()
    audit.record(session, "taxonomy.export", _actor(user), target_kind="release", target_id=release.name)
    headers = {"Content-Disposition": f'attachment; filename="taxonomie-{release.id}.ttl"'}
    return Response(data, media_type="text/turtle; charset=utf-8", headers=headers)


def _read_turtle(upload: UploadFile, limit: int) -> bytes:
    kind = (upload.content_type or "").split(";")[0].strip().lower()
    name = (upload.filename or "").lower()
    if kind not in TURTLE_TYPES or not name.endswith((".ttl", ".turtle")):
        raise UnsupportedInputError("le fichier doit être en SKOS Turtle (.ttl, text/turtle)")
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(too_large_message(limit, "TFE_MAX_UPLOAD_BYTES"))
    if b"\x00" in data:
        raise UnsupportedInputError("le fichier doit être en SKOS Turtle (texte UTF-8)")
    return data


@router.post(
    "/import",
    summary="Preview (apply false) or apply a SKOS Turtle file as one revertible change (curators, admins)",
    responses=error_responses(400, 401, 403, 413, 415),
)
def post_import(
    runtime: RuntimeDep,
    session: SessionDep,
    user: CurrentUser,
    file: Annotated[UploadFile, Form(description="A SKOS Turtle file (.ttl)")],
    apply: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> dict[str, Any]:
    _curator(user)
    data = _read_turtle(file, min(MAX_SKOS_BYTES, runtime.settings.max_upload_bytes))
    with tempfile.TemporaryDirectory() as tmp:
        path = FilePath(tmp) / FilePath(file.filename or "import.ttl").name
        path.write_bytes(data)
        try:
            plan = preview_import(session, path)
        except ValidationError:
            session.rollback()
            raise
        body = plan.as_dict()
        change = apply_import(session, plan, user_id=user.id, reason=reason) if apply else None
    audit.record(
        session,
        "taxonomy.import" if apply else "taxonomy.import_preview",
        _actor(user),
        target_kind="file",
        target_id=body["file"][:64],
        detail={"counts": body["counts"], "change": change.id if change else None},
    )
    session.commit()
    return {"plan": body, "applied": apply, "change": change_view(change) if change else None}
