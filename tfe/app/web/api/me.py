"""``/api/me``: the caller, and their own API tokens and browser sessions (list, create, revoke).

Every route acts on the caller's own credentials only: another user's token or session answers 404.
A bearer caller may only create a token with scopes its own token holds (a read-only token cannot mint a
writing one); every creation and revocation is audited (``tfe.core.security.credentials``, channel api).
A token's secret is in the creation answer only; sessions are named by a public id, never the cookie's
secret.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlalchemy.orm import Session

from tfe.app.web.deps import CurrentUser, SessionDep
from tfe.app.web.errors import error_responses
from tfe.app.web.schemas.me import (
    MePublic,
    SessionListPublic,
    SessionPublic,
    TokenCreate,
    TokenCreatedPublic,
    TokenListPublic,
    TokenPublic,
)
from tfe.core.errors import PermissionDeniedError
from tfe.core.models import TOKEN_SCOPES, ApiToken, Organisation, User
from tfe.core.security import audit, credentials, identity, sessions
from tfe.core.security.audit import Actor
from tfe.core.security.models import UserSession

router = APIRouter(prefix="/api/me", tags=["account"])

TokenId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Token id")]
SessionId = Annotated[
    str, Path(min_length=16, max_length=16, pattern=r"^[0-9a-f]{16}$", description="Public session id")
]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def token_public(token: ApiToken) -> TokenPublic:
    return TokenPublic.model_validate(
        {
            "id": token.id,
            "name": token.name,
            "prefix": token.prefix,
            "scopes": list(identity.token_scopes(token)),
            "created_at": token.created_at.isoformat(),
            "last_used_at": _iso(token.last_used_at),
            "expires_at": _iso(token.expires_at),
            "revoked_at": _iso(token.revoked_at),
            "state": identity.token_state(token),
        }
    )


def session_public(row: UserSession, current_id: str | None) -> SessionPublic:
    return SessionPublic.model_validate(
        {
            "id": sessions.public_id(row),
            "created_at": row.created_at.isoformat(),
            "last_seen_at": row.last_seen_at.isoformat(),
            "expires_at": row.expires_at.isoformat(),
            "revoked_at": _iso(row.revoked_at),
            "address": row.address,
            "user_agent": row.user_agent,
            "auth_method": row.auth_method,
            "state": sessions.state(row),
            "current": row.id == current_id,
        }
    )


def _caller_scopes(request: Request) -> tuple[str, ...]:
    """The scopes of this request's credential: a token's own, or all three for a session."""
    if getattr(request.state, "token_id", None) is None:
        return TOKEN_SCOPES
    scopes: tuple[str, ...] = getattr(request.state, "token_scopes", ())
    return scopes


def _read(session: Session, user: User, action: str) -> None:
    audit.record(session, action, Actor.of_user(user, "api"), target_kind="user", target_id=str(user.id))


@router.get(
    "", summary="The caller: account, organisation and credential", responses=error_responses(401, 403)
)
def me(request: Request, session: SessionDep, user: CurrentUser) -> MePublic:
    org = session.get(Organisation, user.org_id)
    token_id = getattr(request.state, "token_id", None)
    _read(session, user, "account.read")
    return MePublic.model_validate(
        {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "organisation": {
                "id": user.org_id,
                "slug": org.slug if org else "",
                "name": org.name if org else "",
            },
            "auth": "token" if token_id is not None else "session",
            "scopes": list(_caller_scopes(request)),
        }
    )


@router.get("/tokens", summary="The caller's API tokens (no secret)", responses=error_responses(401, 403))
def list_tokens(session: SessionDep, user: CurrentUser) -> TokenListPublic:
    tokens = credentials.list_own_tokens(session, user)
    _read(session, user, "token.list")
    return TokenListPublic(total=len(tokens), tokens=[token_public(t) for t in tokens])


@router.post(
    "/tokens",
    summary="Create an API token; its secret is in this answer only",
    status_code=201,
    responses=error_responses(400, 401, 403),
)
def create_token(
    body: TokenCreate, request: Request, session: SessionDep, user: CurrentUser
) -> TokenCreatedPublic:
    held = _caller_scopes(request)
    beyond = [scope for scope in body.scopes if scope not in held]
    if beyond:
        raise PermissionDeniedError(f"this token cannot grant the {beyond[0]!r} scope it lacks")
    token, raw = credentials.create_own_token(
        session, user, name=body.name, scopes=body.scopes, expires_in_days=body.expires_days, channel="api"
    )
    return TokenCreatedPublic(token=token_public(token), secret=raw)


@router.delete(
    "/tokens/{token_id}",
    summary="Revoke one of the caller's tokens (it stops at its next request)",
    responses=error_responses(400, 401, 403, 404),
)
def revoke_token(token_id: TokenId, session: SessionDep, user: CurrentUser) -> TokenPublic:
    return token_public(credentials.revoke_own_token(session, user, token_id, channel="api"))


@router.get(
    "/sessions",
    summary="The caller's browser sessions (open ones and those ended recently)",
    responses=error_responses(401, 403),
)
def list_sessions(request: Request, session: SessionDep, user: CurrentUser) -> SessionListPublic:
    rows = credentials.list_own_sessions(session, user)
    current = getattr(request.state, "session_id", None)
    _read(session, user, "session.list")
    return SessionListPublic(total=len(rows), sessions=[session_public(r, current) for r in rows])


@router.delete(
    "/sessions/{session_id}",
    summary="End one of the caller's browser sessions (it stops at its next request)",
    responses=error_responses(400, 401, 403, 404),
)
def revoke_session(
    session_id: SessionId, request: Request, session: SessionDep, user: CurrentUser
) -> SessionPublic:
    row = credentials.revoke_own_session(session, user, session_id, channel="api")
    return session_public(row, getattr(request.state, "session_id", None))
