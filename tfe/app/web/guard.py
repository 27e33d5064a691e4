"""The exfiltration guard's hook in request handling: ``enforce`` is called by the authentication
dependencies (``tfe.app.web.deps``) for every authenticated request, after the user is known.

``COUNTED_ROUTES`` is the one table of what the guard counts: route template → kind (``read``,
``download``, ``export``, ``search``) and the path parameter naming the document, item or story read
(distinct documents feed the unusual-use rules). Other routes (writes, admin pages, lists of one's own
things) are not counted. ``tests/web/test_exfiltration_guard.py`` checks that the table names only
existing GET routes and that every route with "export" or "content" in its path is in it.

The counting, the budgets and the graded response live in ``tfe.core.security.guard``; the one ``Guard``
of the application is ``app.state.guard`` (made on first use, with a notifier that mails the admins of
each alert in a background thread).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from tfe.app.runtime import Runtime
from tfe.app.web.client import client_address
from tfe.core.models import User
from tfe.core.security import security_alerts
from tfe.core.security.guard import Guard, Use

__all__ = ["COUNTED_ROUTES", "Counted", "classify", "enforce", "guard_of"]


@dataclass(frozen=True)
class Counted:
    """How a route is counted: its kind, and the path parameter of the target (with its kind)."""

    kind: str
    param: str | None = None
    target_kind: str = "document"


_DOC = "doc_id"
COUNTED_ROUTES: dict[str, Counted] = {
    # reads of one document, item or story (API and pages)
    "/api/documents/{doc_id}": Counted("read", _DOC),
    "/api/documents/{doc_id}/versions": Counted("read", _DOC),
    "/api/documents/{doc_id}/versions/diff": Counted("read", _DOC),
    "/api/documents/{doc_id}/fields": Counted("read", _DOC),
    "/api/documents/{doc_id}/preview": Counted("read", _DOC),
    "/api/items/{item_id}": Counted("read", "item_id", "item"),
    "/api/stories/{story_id}": Counted("read", "story_id", "story"),
    "/documents/{doc_id}": Counted("read", _DOC),
    "/documents/{doc_id}/champs": Counted("read", _DOC),
    "/documents/{doc_id}/modifier": Counted("read", _DOC),
    "/documents/{doc_id}/versions/diff": Counted("read", _DOC),
    "/items/{item_id}": Counted("read", "item_id", "item"),
    "/veille/actualites/{story_id}": Counted("read", "story_id", "story"),
    # downloads of original files
    "/api/documents/{doc_id}/content": Counted("download", _DOC),
    # exports
    "/api/sources/export": Counted("export"),
    "/veille/sources/export.opml": Counted("export"),
    "/api/subscriptions/export": Counted("export"),
    "/tableaux-de-bord/export.csv": Counted("export"),
    "/tableaux-de-bord/region/{code}/export.csv": Counted("export"),
    "/tableaux-de-bord/organisation/{slug}/export.csv": Counted("export"),
    # search pages and lists that search
    "/": Counted("search"),
    "/recherche": Counted("search"),
    "/api/search": Counted("search"),
    "/api/documents/similar": Counted("search"),
    "/api/documents/{doc_id}/similar": Counted("search", _DOC),
    "/api/items/{item_id}/similar": Counted("search", "item_id", "item"),
    "/documents/ressemblances": Counted("search"),
    "/api/stories": Counted("search"),
    "/veille/actualites": Counted("search"),
}
_COUNTED_METHODS = frozenset({"GET", "HEAD"})
_lock = threading.Lock()


def classify(request: Request) -> Use | None:
    """The guard's view of ``request``, or None when the route is not counted."""
    if request.method not in _COUNTED_METHODS:
        return None
    route = request.scope.get("route")
    template = getattr(route, "path", None)
    counted = COUNTED_ROUTES.get(template) if isinstance(template, str) else None
    if counted is None or template is None:
        return None
    target = None
    if counted.param is not None:
        value = request.path_params.get(counted.param)
        target = f"{counted.target_kind}:{value}" if value is not None else None
    return Use(
        kind=counted.kind,
        target=target,
        address=client_address(request),
        route=template,
        channel="api" if template.startswith("/api/") else "web",
    )


def guard_of(app: FastAPI) -> Guard:
    """The application's guard (``app.state.guard``), made on first use."""
    guard = getattr(app.state, "guard", None)
    if isinstance(guard, Guard):
        return guard
    with _lock:
        guard = getattr(app.state, "guard", None)
        if not isinstance(guard, Guard):
            runtime: Runtime = app.state.runtime
            settings, factory = runtime.settings, runtime.session_factory
            guard = Guard(
                settings,
                on_alert=lambda alert_id: security_alerts.notify_in_background(settings, factory, alert_id),
            )
            app.state.guard = guard
    return guard


def enforce(
    request: Request, session: Session, user: User, *, token_id: int | None, session_id: str | None
) -> None:
    """Count this request against ``user``'s budgets. Raises ``RateLimitedError`` (429 + Retry-After) when
    over a budget, ``SuspendedError`` once the token or session is suspended; returns otherwise."""
    guard_of(request.app).check(session, user, classify(request), token_id=token_id, session_id=session_id)
