"""``GET /healthz``: liveness, a database round trip and the encryption keys (no authentication, no audit)."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Response
from sqlalchemy import text

from tfe.app.runtime import Runtime
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
    keys = _keys(runtime)
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # report, do not raise: a health probe must always answer
        log.warning("health check: database unreachable error=%s", type(exc).__name__)
        response.status_code = 503
        return HealthPublic(status="degraded", db="error", keys=keys, previews=_previews())
    if keys != "ok":  # tfe keys revoke ran, or the key is unusable: nothing can be read
        response.status_code = 503
        return HealthPublic(status="degraded", db="ok", keys=keys, previews=_previews())
    return HealthPublic(status="ok", db="ok", keys="ok", previews=_previews())


def _keys(runtime: Runtime) -> Literal["ok", "revoked", "error"]:
    """Whether the encryption keys can be used (``tfe.core.crypto.vault``)."""
    try:
        return "revoked" if runtime.vault.revoked_on(fresh=True) is not None else "ok"
    except Exception as exc:  # a key file refused at start: report, do not raise
        log.warning("health check: keys unusable error=%s", type(exc).__name__)
        return "error"


def _previews() -> PreviewsPublic:
    """Thumbnail renderers detected at start (``ged.previews.capabilities``, cached per process)."""
    from ged.previews import capabilities

    return PreviewsPublic.model_validate(capabilities().as_dict())
