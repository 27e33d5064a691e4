"""Reclassification after a taxonomy change (``tfe.app.jobs.reclassify``), curators and administrators:
``GET /api/taxonomy/changes/{id}/reclassify`` (preview), ``POST`` (start) and
``GET /api/taxonomy/reclassify/{run_id}`` (progress)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from taxonomy.models import ReclassifyRun, TaxonomyChange
from tfe.app.jobs import reclassify
from tfe.app.web.deps import CurrentUser, RuntimeDep, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.reclassify import ReclassifyRunPublic
from tfe.core.errors import NotFoundError, PermissionDeniedError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.audit import Actor

router = APIRouter(prefix="/api/taxonomy", tags=["taxonomy"])

CURATORS = frozenset({"curator", "admin"})
ChangeId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RunId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _curator(user: User) -> None:
    if user.role not in CURATORS:
        raise PermissionDeniedError("le reclassement est réservé aux curateurs et aux administrateurs")


def _change(session: SessionDep, change_id: int) -> TaxonomyChange:
    change = session.get(TaxonomyChange, change_id)
    if change is None:
        raise NotFoundError(f"modification du référentiel {change_id} introuvable")
    return change


@router.get(
    "/changes/{change_id}/reclassify",
    summary="Preview the reclassification of what a taxonomy change can affect (curators and admins)",
    responses=error_responses(400, 401, 403, 404),
)
def preview_reclassify(
    change_id: ChangeId, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> ReclassifyRunPublic:
    _curator(user)
    change = _change(session, change_id)
    run = reclassify.preview(session, change, user.id, rt=runtime)
    audit.record(
        session,
        "taxonomy.reclassify.preview",
        Actor.of_user(user, "api"),
        target_kind="taxonomy_change",
        target_id=str(change.id),
        detail={"run": run.id, "targets": run.total},
    )
    return ReclassifyRunPublic.model_validate(reclassify.as_dict(run))


@router.post(
    "/changes/{change_id}/reclassify",
    summary="Reclassify what a taxonomy change can affect: at once up to 200 targets, else as a job",
    responses=error_responses(400, 401, 403, 404),
)
def start_reclassify(
    change_id: ChangeId, runtime: RuntimeDep, session: SessionDep, user: CurrentUser
) -> ReclassifyRunPublic:
    _curator(user)
    change = _change(session, change_id)
    audit.record(
        session,
        "taxonomy.reclassify.start",
        Actor.of_user(user, "api"),
        target_kind="taxonomy_change",
        target_id=str(change.id),
    )
    return ReclassifyRunPublic.model_validate(reclassify.start(session, change, user.id, rt=runtime))


@router.get(
    "/reclassify/{run_id}",
    summary="A reclassification run: its status, progress and counts (curators and admins)",
    responses=error_responses(400, 401, 403, 404),
)
def get_reclassify(run_id: RunId, session: SessionDep, user: CurrentUser) -> ReclassifyRunPublic:
    _curator(user)
    run = session.get(ReclassifyRun, run_id)
    if run is None:
        raise NotFoundError(f"reclassement {run_id} introuvable")
    audit.record(
        session,
        "taxonomy.reclassify.read",
        Actor.of_user(user, "api"),
        target_kind="reclassify_run",
        target_id=str(run.id),
    )
    return ReclassifyRunPublic.model_validate(reclassify.as_dict(run))
