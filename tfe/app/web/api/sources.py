"""``/api/sources``: the watch's source catalogue (list, create, read, edit, remove, preview, poll, OPML).

Reading needs a signed-in member (the network's sources and the caller's organisation's); every change
needs the curator role (own organisation's sources) or admin (all): ``veille.catalogue.SourceService``
applies the rules and audits with the ``api`` channel.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from tfe.app.web.deps import RuntimeDep, ScopeDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.sources import (
    ImportReportPublic,
    PollOutcomePublic,
    SourceCreate,
    SourceListPublic,
    SourcePreviewPublic,
    SourcePreviewRequest,
    SourcePublic,
    SourceRemovedPublic,
    SourceUpdate,
)
from tfe.core.errors import TooLargeError, ValidationError
from veille.source_rules import SourceSpec

router = APIRouter(prefix="/api/sources", tags=["watch"])

SourceId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Source id")]
Kind = Annotated[str | None, Query(pattern="^(feed|page|watch)$", description="Only this kind")]
HealthFilter = Annotated[
    str | None, Query(pattern="^(unknown|ok|slow|failing|dead|gone)$", description="Only this health")
]
Tag = Annotated[str | None, Query(min_length=1, max_length=100, description="Only sources with this tag")]
OPML_TYPE = "text/x-opml"


def _spec(body: SourcePreviewRequest) -> SourceSpec:
    data: dict[str, Any] = body.model_dump()
    return SourceSpec(**data)


@router.get("", summary="The source catalogue in the caller's sight", responses=error_responses(400, 401))
def list_sources(
    runtime: RuntimeDep, scope: ScopeDep, kind: Kind = None, health: HealthFilter = None, tag: Tag = None
) -> SourceListPublic:
    views = runtime.sources.list(scope, kind=kind, health=health, tag=tag, channel="api")
    return SourceListPublic.model_validate({"total": len(views), "sources": [v.as_dict() for v in views]})


@router.post(
    "",
    summary="Catalogue a source (a feed URL that answers HTML leads to the feed it advertises)",
    status_code=201,
    responses=error_responses(400, 401, 403),
)
def create_source(body: SourceCreate, runtime: RuntimeDep, scope: ScopeDep) -> SourcePublic:
    return SourcePublic.model_validate(runtime.sources.add(scope, _spec(body), "api").as_dict())


@router.post(
    "/preview",
    summary="Fetch a source once and show what it would yield (nothing saved)",
    responses=error_responses(400, 401, 403),
)
def preview_source(body: SourcePreviewRequest, runtime: RuntimeDep, scope: ScopeDep) -> SourcePreviewPublic:
    spec = SourceSpec(url=body.url, kind=body.kind, config=body.config)
    return SourcePreviewPublic.model_validate(runtime.sources.preview(scope, spec, "api").as_dict())


@router.get(
    "/export",
    summary="The feeds in the caller's sight as OPML 2.0",
    response_class=Response,
    responses={
        200: {"description": "OPML 2.0 document", "content": {OPML_TYPE: {"schema": {"type": "string"}}}},
        **error_responses(401),
    },
)
def export_sources(runtime: RuntimeDep, scope: ScopeDep) -> Response:
    data = runtime.sources.export_opml(scope, channel="api")
    headers = {"Content-Disposition": 'attachment; filename="sources.opml"'}
    return Response(content=data, media_type=OPML_TYPE, headers=headers)


async def _opml_bytes(request: Request, limit: int) -> bytes:
    """The OPML file: the ``file`` part of a multipart form, or the raw body."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationError("formulaire sans fichier OPML (champ « file »)")
        data = await upload.read(limit + 1)
    else:  # read the stream within the cap: the body-size middleware guards uploads of documents only
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLargeError(f"fichier OPML trop volumineux (plus de {limit} octets)")
            chunks.append(chunk)
        data = b"".join(chunks)
    if len(data) > limit:
        raise TooLargeError(f"fichier OPML trop volumineux (plus de {limit} octets)")
    if not data.strip():
        raise ValidationError("fichier OPML vide")
    return data


@router.post(
    "/import",
    summary="Import the feeds of an OPML file (multipart field `file`, or the raw body)",
    responses=error_responses(400, 401, 403, 413),
    openapi_extra={
        "requestBody": {
            "content": {
                OPML_TYPE: {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            }
        }
    },
)
async def import_sources(
    request: Request,
    runtime: RuntimeDep,
    scope: ScopeDep,
    org: Annotated[str | None, Query(max_length=64, description="Owner organisation slug or id")] = None,
    visibility: Annotated[str, Query(pattern="^(network|organisation)$")] = "network",
) -> ImportReportPublic:
    data = await _opml_bytes(request, runtime.settings.max_feed_bytes)
    report = await run_in_threadpool(
        runtime.sources.import_opml, scope, data, "api", org=org, visibility=visibility
    )
    return ImportReportPublic.model_validate(report.as_dict())


@router.get("/{source_id}", summary="One source", responses=error_responses(400, 401, 404))
def read_source(source_id: SourceId, runtime: RuntimeDep, scope: ScopeDep) -> SourcePublic:
    return SourcePublic.model_validate(runtime.sources.get(scope, source_id, channel="api").as_dict())


@router.patch("/{source_id}", summary="Edit a source", responses=error_responses(400, 401, 403, 404))
def update_source(
    source_id: SourceId, body: SourceUpdate, runtime: RuntimeDep, scope: ScopeDep
) -> SourcePublic:
    changes = body.model_dump(exclude_unset=True)
    return SourcePublic.model_validate(runtime.sources.update(scope, source_id, changes, "api").as_dict())


@router.delete(
    "/{source_id}",
    summary="Remove a source (its items are kept, detached)",
    responses=error_responses(400, 401, 403, 404),
)
def delete_source(source_id: SourceId, runtime: RuntimeDep, scope: ScopeDep) -> SourceRemovedPublic:
    return SourceRemovedPublic.model_validate(runtime.sources.remove(scope, source_id, "api"))


@router.post(
    "/{source_id}/poll",
    summary="Poll a source now",
    responses=error_responses(400, 401, 403, 404),
)
def poll_source(source_id: SourceId, runtime: RuntimeDep, scope: ScopeDep) -> PollOutcomePublic:
    runtime.sources.authorize_poll(scope, source_id, "api")
    return PollOutcomePublic.model_validate(runtime.poller.poll(source_id).as_dict())
