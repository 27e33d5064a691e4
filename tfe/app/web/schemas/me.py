"""``/api/me``: the caller, their API tokens and their browser sessions (never a secret but once)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tfe.app.web.schemas.common import IsoDateTime

__all__ = [
    "MeOrganisationPublic",
    "MePublic",
    "SessionListPublic",
    "SessionPublic",
    "TokenCreate",
    "TokenCreatedPublic",
    "TokenListPublic",
    "TokenPublic",
]

Scope = Literal["read", "write", "admin"]
CredentialState = Literal["active", "revoked", "expired", "suspended"]


class MeOrganisationPublic(BaseModel):
    id: int
    slug: str = Field(examples=["cci-bretagne"])
    name: str = Field(examples=["CCI Bretagne"])


class MePublic(BaseModel):
    """Who the caller is, and how they authenticated."""

    id: int
    email: str = Field(examples=["ana@cci-bretagne.fr"])
    name: str
    role: Literal["reader", "contributor", "curator", "admin"]
    organisation: MeOrganisationPublic
    auth: Literal["token", "session"] = Field(description="Bearer token or session cookie")
    scopes: list[Scope] = Field(description="What this request's credential may do (a session: all three)")


class TokenPublic(BaseModel):
    """An API token as its owner sees it: the public prefix, never the secret."""

    id: int
    name: str
    prefix: str = Field(description="Public part of the token (`tfe_<prefix>_...`)", examples=["1a2b3c4d"])
    scopes: list[Scope]
    created_at: IsoDateTime
    last_used_at: IsoDateTime | None = Field(description="Recorded at most once a minute")
    expires_at: IsoDateTime | None
    revoked_at: IsoDateTime | None
    state: CredentialState


class TokenListPublic(BaseModel):
    total: int
    tokens: list[TokenPublic]


class TokenCreate(BaseModel):
    """A new token: its use, its scopes (a bearer caller may only grant scopes it holds) and its lifetime."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=100, description="What the token is for")
    scopes: list[Scope] = Field(default=["read", "write"], min_length=1, max_length=3)
    expires_days: int = Field(default=90, ge=1, le=3650, description="Lifetime in days (90 by default)")


class TokenCreatedPublic(BaseModel):
    """The new token: ``secret`` is the clear value, shown in this answer only (never stored)."""

    token: TokenPublic
    secret: str = Field(description="`Authorization: Bearer <secret>`; shown once")


class SessionPublic(BaseModel):
    """A browser session, named by its public id (never the cookie's secret)."""

    id: str = Field(description="Public id (16 hex digits)", examples=["3f9c2a7b1d0e4c68"])
    created_at: IsoDateTime
    last_seen_at: IsoDateTime = Field(description="Recorded at most once a minute")
    expires_at: IsoDateTime
    revoked_at: IsoDateTime | None
    address: str
    user_agent: str
    auth_method: str = Field(examples=["password", "oidc:proconnect"])
    state: CredentialState
    current: bool = Field(description="The session this request came with")


class SessionListPublic(BaseModel):
    total: int
    sessions: list[SessionPublic]
