"""Upload refusals the route never sees: a body over the cap is refused by ``BodySizeLimitMiddleware``
before the form is parsed, so no route code runs. ``record_refusal`` records it all the same (a failed
ingest record of run kind ``upload`` and a ``document.upload`` audit event with status ``refused``) when
the request is authenticated; an anonymous request is only logged, so that strangers cannot fill the
audit trail.

The acceptance policy itself (allowed types, magic numbers, name sanitising) lives below the web layer,
in ``ingest.acceptance``, where the CLI runner uses it too; the route applies it through
``ged.service.DocumentService.upload``.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import Scope

from tfe.app.runtime import Runtime
from tfe.app.web.deps import get_api_user
from tfe.core.errors import TfeError

__all__ = ["record_refusal"]

log = logging.getLogger(__name__)


def _declared_size(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return max(int(value), 0)
            except ValueError:
                return 0
    return 0


def _record(runtime: Runtime, scope: Scope, message: str) -> None:
    request = Request(scope)
    with runtime.session() as session:
        try:
            user = get_api_user(request, session)
        except TfeError:
            log.info("anonymous upload refused path=%s reason=%s", scope.get("path"), message)
            return
    runtime.documents.refuse(user, filename=None, size=_declared_size(scope), reason=message, channel="api")


async def record_refusal(scope: Scope, message: str) -> None:
    """``BodySizeLimitMiddleware``'s ``on_refused``: record a 413 for the authenticated uploader."""
    app = scope.get("app")
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    if not isinstance(runtime, Runtime):
        return
    await run_in_threadpool(_record, runtime, scope, message)
