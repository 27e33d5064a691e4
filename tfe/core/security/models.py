"""Security tables: server-side sessions, sign-in identities and organisation mappings, sign-up requests
waiting for an admin, the audit chain's head and signed anchors, guard budgets and security alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.crypto.columns import SealedText
from tfe.core.db import Base, utcnow

__all__ = [
    "AuditAnchor",
    "AuditHead",
    "GuardBudget",
    "OrgMapping",
    "SecurityAlert",
    "SignupRequest",
    "UserIdentity",
    "UserSession",
]


class UserSession(Base):
    """One signed-in browser session; the cookie carries only its random id, this row says if it still works.

    ``id`` is the SHA-256 of the secret id in the cookie (a database dump does not give usable cookies).
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    suspended_at: Mapped[dt.datetime | None] = mapped_column(default=None)  # by the exfiltration guard
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    auth_method: Mapped[str] = mapped_column(String(80), default="password")  # "password" | "oidc:<name>"
    # the provider's ID token, kept for RP-initiated logout (id_token_hint); sealed like other secrets
    id_token: Mapped[str | None] = mapped_column(SealedText, default=None)


class UserIdentity(Base):
    """A user's account at a sign-in provider (``provider`` name, ``subject`` = the ID token's ``sub``)."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class OrgMapping(Base):
    """How a provider's claims name an organisation: ``kind`` "siret" or "domain" (of the e-mail)."""

    __tablename__ = "org_mappings"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SignupRequest(Base):
    """A first sign-in whose organisation no mapping knows: no account exists until an admin approves."""

    __tablename__ = "signup_requests"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    siret: Mapped[str | None] = mapped_column(String(32), default=None)
    organisation_hint: Mapped[str | None] = mapped_column(String(255), default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AuditHead(Base):
    """The one row that serialises appends to the audit chain: its update takes the write lock first."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    seq: Mapped[int] = mapped_column(default=0)
    head_hash: Mapped[str] = mapped_column(String(64), default="")


class AuditAnchor(Base):
    """A signed statement of the chain head (``seq``, ``head_hash``) ; truncation below it shows."""

    __tablename__ = "audit_anchors"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10), index=True)  # ISO date the anchor covers
    seq: Mapped[int] = mapped_column()
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    key_id: Mapped[str] = mapped_column(String(64), default="")
    signature: Mapped[str] = mapped_column(Text)  # base64 Ed25519 over the canonical statement


class GuardBudget(Base):
    """What one account of a role may read per window before the guard slows, then suspends it."""

    __tablename__ = "guard_budgets"

    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    per_minute: Mapped[int] = mapped_column()
    per_hour: Mapped[int] = mapped_column()
    per_day: Mapped[int] = mapped_column()
    updated_by: Mapped[int | None] = mapped_column(default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SecurityAlert(Base):
    """An unusual use the guard detected and what it did; open until an admin lifts or confirms it."""

    __tablename__ = "security_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True, default=None)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, default=None)
    token_id: Mapped[int | None] = mapped_column(default=None)
    session_id: Mapped[str | None] = mapped_column(String(64), default=None)
    rule: Mapped[str] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(String(16))  # "throttled" | "suspended" | "notified"
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | lifted | confirmed
    reviewed_by: Mapped[int | None] = mapped_column(default=None)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    review_note: Mapped[str | None] = mapped_column(Text, default=None)
