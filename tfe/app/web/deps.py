"""Typed dependencies shared by the routers: runtime, DB session, current user and access scope.

Authentication for ``/api``: ``Authorization: Bearer <token>`` or the signed session cookie set by
``/login``. A cookie-authenticated unsafe request must also carry the session's CSRF token in the
``X-CSRF-Token`` header (a bearer token needs none: browsers never send it on their own).

The cookie carries the secret id of a server-side session (``tfe.core.security.sessions``), looked up at
every request, so logout, a password change, a deactivation or an administrator ends it at once. A bearer
token needs the ``read`` scope for GET/HEAD/OPTIONS, ``write`` for other methods, and ``admin`` (with the
admin role) under ``/api/admin``; bad tokens are throttled per client address and audited. Every
authenticated request then goes through the exfiltration guard (``tfe.app.web.guard.enforce``), with
``request.state.token_id`` / ``request.state.session_id`` naming the credential.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from typing import Annotated, NoReturn

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from ged.documents import BlobReader
from tfe.app.runtime import Runtime
from tfe.app.web import guard
from tfe.app.web.client import client_address
from tfe.core.errors import (
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    SuspendedError,
    TfeError,
)
from tfe.core.models import User
from tfe.core.security import administration, audit, identity, security_alerts, sessions
from tfe.core.security.audit import Actor
from tfe.core.security.models import UserSession
from tfe.core.security.scope import AccessScope
from tfe.core.security.throttle import TokenThrottle

ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"  # document and item ids (hex uuids today; ids stay URL-safe)
TargetId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]

SESSION_SECRET_KEY = "sid"  # the server-side session's secret id (tfe.core.security.sessions)
SESSION_CSRF_KEY = "csrf"
CSRF_HEADER = "x-csrf-token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WEB_API = Actor.system("api")
_SUSPENDED_API = "this session is suspended pending an administrator's review"
_SUSPENDED_FR = (
    "Votre session est suspendue après un usage inhabituel : un administrateur doit l'examiner. "
    "Déconnectez-vous puis reconnectez-vous, ou contactez l'administrateur de votre organisation."
)


class LoginRequired(Exception):
    """Raised by page dependencies; ``tfe.app.web.errors`` turns it into a redirect to ``/login?next=...``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def get_runtime(request: Request) -> Runtime:
    """The application's runtime (``async``: it reads an attribute, so it runs on the event loop instead
    of costing a hop to the thread pool on every request, as a plain function dependency would)."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    """One unit of work per request: committed when the endpoint returns, rolled back when it raises.
    While it is open it is also ``request.state.db``, for what a page's template reads
    (``request_session``)."""
    with runtime.session() as session:
        request.state.db = session
        try:
            yield session
        finally:
            request.state.db = None


def request_session(request: Request) -> Session | None:
    """The request's open unit of work, or ``None`` once it is closed (an error page rendered after it)."""
    session: Session | None = getattr(request.state, "db", None)
    return session


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


def current_session(request: Request, session: Session) -> tuple[UserSession | None, User | None]:
    """The cookie's session row and its user, without raising: ``(None, None)`` when there is no working
    session (the cookie is then cleared); a suspended row comes back with its user (callers decide)."""
    secret_id = request.session.get(SESSION_SECRET_KEY)
    if not isinstance(secret_id, str) or not secret_id:
        request.session.pop(SESSION_SECRET_KEY, None)
        return None, None
    row = sessions.lookup(session, secret_id)
    state = sessions.state(row) if row is not None else "missing"
    user = session.get(User, row.user_id) if row is not None and state in ("active", "suspended") else None
    if row is None or user is None or not user.active:
        request.session.clear()  # revoked, expired, unknown, or the user is inactive: signed out
        return None, None
    return row, user


def session_user(request: Request, session: Session) -> User | None:
    """The user of the cookie's server-side session, looked up at every request: a revoked or expired
    session, or an inactive user, is signed out (None); a suspended session raises ``SuspendedError``."""
    row, user = current_session(request, session)
    if row is None or user is None:
        return None
    if row.suspended_at is not None:
        audit.record(
            session,
            "auth.suspended",
            Actor.of_user(user, "web"),
            target_kind="session",
            target_id=sessions.public_id(row),
            detail={"path": request.url.path[:200]},
        )
        session.commit()  # the refusal is recorded even though the request answers an error
        raise SuspendedError(_SUSPENDED_API if _is_api(request) else _SUSPENDED_FR)
    if sessions.touch(row):
        session.commit()  # at most once a minute; never hold SQLite's write lock across the request
    request.state.session_id = row.id
    request.state.token_id = None
    return user


def sign_in(
    request: Request,
    session: Session,
    user: User,
    *,
    auth_method: str = "password",
    id_token: str | None = None,
) -> UserSession:
    """Open a server-side session for ``user`` (``tfe.core.security.sessions.start``), put its secret id
    and a fresh CSRF token in the cookie, and audit ``auth.login`` with the method. Used by the password
    form and the OIDC callback. A session the browser already had is ended (``replaced``)."""
    if security_alerts.holds_sign_in(session, user.id):
        audit.record(
            session, "auth.login_held", Actor.of_user(user, "web"), target_kind="user", target_id=str(user.id)
        )
        session.commit()  # the refusal is recorded although the request ends in an error
        raise SuspendedError(
            "Compte suspendu par la protection contre l'exfiltration : un administrateur doit lever "
            "l'alerte avant une nouvelle connexion."
        )
    previous = request.session.get(SESSION_SECRET_KEY)
    if isinstance(previous, str) and previous:
        old = sessions.lookup(session, previous)
        if old is not None:
            sessions.revoke(session, old, "replaced")
    settings = request.app.state.runtime.settings
    row, secret_id = sessions.start(
        session,
        user,
        address=client_address(request),
        user_agent=request.headers.get("user-agent", ""),
        max_age_s=settings.session_max_age_s,
        auth_method=auth_method,
        id_token=id_token,
    )
    audit.record(
        session,
        "auth.login",
        Actor.of_user(user, "web"),
        target_kind="user",
        target_id=str(user.id),
        detail={"method": auth_method, "session": sessions.public_id(row), "address": row.address},
    )
    request.session.clear()
    request.session[SESSION_SECRET_KEY] = secret_id
    csrf_token(request)  # a fresh token for the signed-in session
    request.state.session_id = row.id
    return row


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _needed_scopes(request: Request) -> tuple[str, ...]:
    """What a bearer token needs for this request: read (safe methods) or write, plus admin under
    ``/api/admin``."""
    needed: tuple[str, ...] = ("read",) if request.method in _SAFE_METHODS else ("write",)
    path = request.url.path
    if path == "/api/admin" or path.startswith("/api/admin/"):
        needed += ("admin",)
    return needed


def _refuse(session: Session, action: str, detail: Mapping[str, object], error: TfeError) -> NoReturn:
    """Record why a bearer token was refused, commit at once (the request answers an error, so the unit
    of work would roll back; and SQLite's write lock is not held), then raise ``error``."""
    audit.record(session, action, WEB_API, target_kind="token", detail=dict(detail))
    session.commit()
    raise error


def _token_user(request: Request, session: Session, raw: str) -> User:
    """The user of a bearer token, after the bad-token throttle, the lookup and the scope check."""
    address = client_address(request)
    throttle: TokenThrottle = request.app.state.token_throttle
    wait = throttle.retry_after(address)
    if wait > 0:
        error = RateLimitedError("too many bad API tokens from this address; retry later", wait)
        _refuse(session, "auth.token_throttled", {"address": address}, error)
    prefix = identity.public_prefix(raw)
    try:
        token, user = identity.verify_token(session, raw)
    except SuspendedError:
        session.rollback()
        _refuse(
            session,
            "auth.suspended",
            {"prefix": prefix, "address": address},
            SuspendedError("this API token is suspended pending an administrator's review"),
        )
    except AuthenticationError as exc:
        session.rollback()
        throttle.failed(address)
        _refuse(session, "auth.token_failed", {"prefix": prefix, "address": address}, exc)
    granted = identity.token_scopes(token)
    needed = _needed_scopes(request)
    for scope in needed:
        if scope not in granted:
            detail = {"prefix": token.prefix, "scope": scope, "path": request.url.path[:200]}
            _refuse(  # its commit keeps last_used_at too
                session, "auth.token_scope", detail, PermissionDeniedError(f"token lacks the {scope!r} scope")
            )
    if "admin" in needed:
        administration.require_admin(user)
    session.commit()  # persist last_used_at now: never hold SQLite's write lock across the request
    request.state.token_id = token.id
    request.state.session_id = None
    request.state.token_scopes = granted
    return user


def get_api_user(request: Request, session: SessionDep) -> User:
    """The caller of an ``/api`` route: a bearer token (scopes checked) or the session cookie (CSRF
    checked on unsafe methods); then the exfiltration guard counts the request."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise AuthenticationError("expected 'Authorization: Bearer <token>'")
        user = _token_user(request, session, raw)
    else:
        found = session_user(request, session)
        if found is None:
            raise AuthenticationError("authentication required (bearer token or session cookie)")
        user = found
        if request.method not in _SAFE_METHODS and not csrf_valid(request, request.headers.get(CSRF_HEADER)):
            raise PermissionDeniedError("missing or invalid CSRF token (X-CSRF-Token header)")
    guard.enforce(
        request,
        session,
        user,
        token_id=getattr(request.state, "token_id", None),
        session_id=getattr(request.state, "session_id", None),
    )
    return user


CurrentUser = Annotated[User, Depends(get_api_user)]


def get_page_user(request: Request, session: SessionDep) -> User:
    """The signed-in user of a page (redirect to ``/login`` otherwise); the guard counts the request."""
    user = session_user(request, session)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    guard.enforce(
        request, session, user, token_id=None, session_id=getattr(request.state, "session_id", None)
    )
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
