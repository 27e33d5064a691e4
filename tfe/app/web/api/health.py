"""``GET /healthz``: liveness plus a database round trip (no authentication, no audit)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from sqlalchemy import text

from tfe.app.web.deps import RuntimeDep
from tfe.app.web.schemas.health import HealthPublic, PreviewsPublic

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    summary="Liveness and database check",
    responses={
        503: {
            "model": HealthPublic,
            "description": "The database does not answer, or the encryption keys were revoked",
        }
    },
)
def healthz(runtime: RuntimeDep, response: Response) -> HealthPublic:
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # report, do not raise: a health probe must always answer
        log.warning("health check: database unreachable error=%s", type(exc).__name__)
        response.status_code = 503
        return HealthPublic(status="degraded", db="error", previews=_previews())
    if runtime.vault.revoked_on(fresh=True) is not None:  # tfe keys revoke: nothing can be read
        response.status_code = 503
        return HealthPublic(status="degraded", db="ok", keys="revoked", previews=_previews())
    return HealthPublic(status="ok", db="ok", previews=_previews())


def _previews() -> PreviewsPublic:
    """Thumbnail renderers detected at start (``ged.previews.capabilities``, cached per process)."""
    from ged.previews import capabilities

    return PreviewsPublic.model_validate(capabilities().as_dict())
