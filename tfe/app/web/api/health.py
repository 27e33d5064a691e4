"""``GET /healthz``: liveness, a database round trip, the encryption keys and the search backend (no
authentication, no audit)."""

from __future__ import annotations

import logging
from typing import Any, Literal

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
            "description": "The database or the search cluster does not answer, or the encryption keys "
            "were revoked",
        }
    },
)
def healthz(runtime: RuntimeDep, response: Response) -> HealthPublic:
    keys = _keys(runtime)
    search: dict[str, Any] = {"search": _search(runtime), "search_backend": runtime.settings.search_backend}
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # report, do not raise: a health probe must always answer
        log.warning("health check: database unreachable error=%s", type(exc).__name__)
        response.status_code = 503
        return HealthPublic(status="degraded", db="error", keys=keys, previews=_previews(), **search)
    if keys != "ok" or search["search"] != "ok":  # keys revoked or unusable, or the search cluster down
        response.status_code = 503
        return HealthPublic(status="degraded", db="ok", keys=keys, previews=_previews(), **search)
    return HealthPublic(status="ok", db="ok", keys="ok", previews=_previews(), **search)


def _search(runtime: Runtime) -> Literal["ok", "error"]:
    """Whether the search backend answers: an OpenSearch cluster's health (bounded by its timeout); the
    embedded index is local (its failures show on the routes that use it)."""
    if runtime.settings.search_backend == "embedded":
        return "ok"
    try:
        probe = getattr(runtime.backend, "health", None)
        return "ok" if probe is not None and probe()["state"] == "ok" else "error"
    except Exception as exc:  # report, do not raise
        log.warning("health check: search backend unusable error=%s", type(exc).__name__)
        return "error"


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
