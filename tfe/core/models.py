"""Kernel tables: organisations, users, API tokens and the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.crypto.columns import SealedText
from tfe.core.db import Base, utcnow

ORG_KINDS = ("national_agency", "regional_chamber", "bank", "region", "partner_abroad")
ROLES = ("reader", "contributor", "curator", "admin")
TOKEN_SCOPES = ("read", "write", "admin")
VISIBILITIES = ("private", "organisation", "network", "public")


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="national_agency")
    # INSEE region code of a French organisation ("75", ``tfe.core.regions``); partners abroad: ``country``
    region: Mapped[str | None] = mapped_column(String(8), default=None, index=True)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="reader")
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # "local" (password), or "oidc:<provider>" for accounts provisioned by a sign-in provider
    auth_source: Mapped[str] = mapped_column(String(80), default="local")
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # comma-separated subset of TOKEN_SCOPES; "read" lets GET through, "write" unsafe methods, "admin" admin
    scopes: Mapped[str] = mapped_column(String(64), default="read,write")
    revoked_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    # set by the exfiltration guard; a suspended token answers 403 until an admin lifts it
    suspended_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AuditEvent(Base):
    """Append-only, hash-chained record of who did what.

    ``seq`` numbers the chain without gaps (1, 2, ...); ``hash`` is SHA-256 over the previous hash and the
    event's content (anyone can recompute it from an export); ``mac`` is HMAC-SHA256 of ``hash`` under the
    installation's audit key (only the key holder can recompute it, so edit-and-rechain is caught).
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int | None] = mapped_column(default=None, unique=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(default=None)
    actor_org_id: Mapped[int | None] = mapped_column(default=None)
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str | None] = mapped_column(String(32), default=None)
    target_id: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64), default="")


class IndicatorUserBucket(Base):
    """One person's activity in one closed week or month (``tfe.app.indicators.rollup``): per action metric
    and acting organisation, the events and the searches without result; ``metric = "@active"`` (organisation
    empty) marks the person active in the bucket. Distinct people of any set of buckets are exact."""

    __tablename__ = "indicator_user_buckets"
    # covering: the dashboards' queries read a period's buckets from the index alone (migration 0017)
    __table_args__ = (
        Index(
            "ix_indicator_user_buckets_cells",
            *("grain", "bucket", "org_id", "metric", "user_id", "events", "empty"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grain: Mapped[str] = mapped_column(String(8))  # "week" | "month"
    bucket: Mapped[dt.date] = mapped_column(Date)  # the Monday of the week, the first of the month
    user_id: Mapped[int] = mapped_column(index=True)
    org_id: Mapped[int | None] = mapped_column(default=None)
    metric: Mapped[str] = mapped_column(String(32))
    events: Mapped[int] = mapped_column(default=0)
    empty: Mapped[int] = mapped_column(default=0)


class IndicatorRollup(Base):
    """A bucket rolled up (written in the same transaction as its rows): the indicators read it instead of
    the audit trail."""

    __tablename__ = "indicator_rollups"

    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    rows: Mapped[int] = mapped_column(default=0)
    rolled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SurveyResponse(Base):
    """One user's answer to the quarterly satisfaction survey (``tfe.app.survey``), or their refusal
    (``declined``, no score). At most one per user and quarter (``2026-Q4``); the comment is personal, sealed
    at rest like the documents' texts."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("user_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(7), index=True)
    score: Mapped[int | None] = mapped_column(default=None)
    comment: Mapped[str | None] = mapped_column(SealedText, default=None)  # encrypted at rest
    declined: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


__all__ = [
    "ORG_KINDS",
    "ROLES",
    "TOKEN_SCOPES",
    "VISIBILITIES",
    "ApiToken",
    "AuditEvent",
    "IndicatorRollup",
    "IndicatorUserBucket",
    "Organisation",
    "SurveyResponse",
    "User",
]
