"""Typed dependencies shared by the routers: runtime, DB session, current user and access scope.

Authentication for ``/api``: ``Authorization: Bearer <token>`` or the signed session cookie set by
``/login``. A cookie-authenticated unsafe request must also carry the session's CSRF token in the
``X-CSRF-Token`` header (a bearer token needs none: browsers never send it on their own).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from ged.documents import BlobReader
from tfe.app.runtime import Runtime
from tfe.core.errors import AuthenticationError, PermissionDeniedError
from tfe.core.models import User
from tfe.core.security import administration, identity
from tfe.core.security.scope import AccessScope

ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"  # document and item ids (hex uuids today; ids stay URL-safe)
TargetId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]

SESSION_USER_KEY = "uid"
SESSION_CSRF_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """Raised by page dependencies; ``tfe.app.web.errors`` turns it into a redirect to ``/login?next=...``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    """One unit of work per request: committed when the endpoint returns, rolled back when it raises."""
    with runtime.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get(SESSION_CSRF_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF_KEY] = token
    return token


def csrf_valid(request: Request, submitted: str | None) -> bool:
    expected = request.session.get(SESSION_CSRF_KEY)
    return bool(
        isinstance(expected, str)
        and expected
        and submitted
        and secrets.compare_digest(expected.encode(), submitted.encode())
    )


def session_user(request: Request, session: Session) -> User | None:
    """The user of the signed session cookie, if any and still active."""
    user_id = request.session.get(SESSION_USER_KEY)
    if not isinstance(user_id, int):
        return None
    user = session.get(User, user_id)
    if user is None or not user.active:
        request.session.clear()
        return None
    return user


def sign_in(
    request: Request,
    session: Session,
    user: User,
    *,
    auth_method: str = "password",
    id_token: str | None = None,
) -> None:
    """Open a server-side session for ``user`` (``tfe.core.security.sessions.start``), put its id and a
    fresh CSRF token in the cookie, and audit ``auth.login`` with the method. Used by the password form and
    the OIDC callback. STUB by the lead (the sessions helper implements it; the signature stays)."""
    request.session.clear()
    request.session[SESSION_USER_KEY] = user.id
    csrf_token(request)


def get_api_user(request: Request, session: SessionDep) -> User:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise AuthenticationError("expected 'Authorization: Bearer <token>'")
        token_user = identity.authenticate_token(session, raw)
        session.commit()  # persist last_used_at now: never hold SQLite's write lock across the request
        return token_user
    user = session_user(request, session)
    if user is None:
        raise AuthenticationError("authentication required (bearer token or session cookie)")
    if request.method not in _SAFE_METHODS and not csrf_valid(request, request.headers.get(CSRF_HEADER)):
        raise PermissionDeniedError("missing or invalid CSRF token (X-CSRF-Token header)")
    return user


CurrentUser = Annotated[User, Depends(get_api_user)]


def get_page_user(request: Request, session: SessionDep) -> User:
    user = session_user(request, session)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    return user


PageUser = Annotated[User, Depends(get_page_user)]


def get_admin_page_user(user: PageUser) -> User:
    """A signed-in administrator; other users get 403 (``administration.require_admin``)."""
    administration.require_admin(user)
    return user


AdminPageUser = Annotated[User, Depends(get_admin_page_user)]


def get_page_scope(user: PageUser) -> AccessScope:
    return identity.scope_for(user)


PageScopeDep = Annotated[AccessScope, Depends(get_page_scope)]


def get_scope(user: CurrentUser) -> AccessScope:
    return identity.scope_for(user)


ScopeDep = Annotated[AccessScope, Depends(get_scope)]


def get_blob_store(runtime: RuntimeDep) -> BlobReader:
    return runtime.blob_store


BlobStoreDep = Annotated[BlobReader, Depends(get_blob_store)]
