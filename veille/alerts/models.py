"""Alert tables: subscriptions (delivery settings of a saved search), the delivery ledger, messages.

A subscription is the delivery half of a ``search.models.SavedSearch`` (its query and facet filters): one
row per saved search turned into an alert. ``Delivery`` is the ledger that makes "never the same story
twice" hold: one row per (subscription, story or document) ever sent, with how many items and sources it
had then, so a story that grew can be announced as grown, never re-sent as new. ``AlertMessage`` is each
digest prepared for one channel: its rendered content, its state (pending, sent, failed, retrying) and
attempts; it is the outbox an admin reads when no SMTP relay is configured, and the history a user sees.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import search.models  # noqa: F401  (the saved_searches table subscriptions refer to)
import tfe.core.models  # noqa: F401  (the users table)
from tfe.core.crypto.columns import SealedJSON, SealedText
from tfe.core.db import Base, utcnow

FREQUENCIES = ("instant", "daily", "weekly")
SCOPES = ("items", "documents", "both")
CHANNELS = ("email", "atom", "webhook")
MESSAGE_STATUSES = ("pending", "sent", "retrying", "failed")


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    saved_search_id: Mapped[int] = mapped_column(
        ForeignKey("saved_searches.id", ondelete="CASCADE"), unique=True
    )
    scope: Mapped[str] = mapped_column(String(16), default="items")
    frequency: Mapped[str] = mapped_column(String(16), default="daily")
    send_time: Mapped[str] = mapped_column(String(5), default="08:00")  # local time, HH:MM
    weekday: Mapped[int | None] = mapped_column(default=None)  # 0 = Monday, weekly digests only
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    channels: Mapped[list[Any]] = mapped_column(default=list)
    webhook_url: Mapped[str | None] = mapped_column(Text, default=None)
    webhook_secret: Mapped[str | None] = mapped_column(String(128), default=None)
    atom_token_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    # per channel: {"webhook": {"failures": 3, "disabled": "HTTP 500 ×5"}, "email": {...}}
    channel_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    watermark: Mapped[dt.datetime | None] = mapped_column(default=None)  # matched up to this instant
    next_run_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    last_sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "target_kind", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(16))  # story, document
    target_id: Mapped[str] = mapped_column(String(64))
    item_count: Mapped[int] = mapped_column(default=1)
    source_count: Mapped[int] = mapped_column(default=1)
    first_sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AlertMessage(Base):
    __tablename__ = "alert_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    recipient: Mapped[str | None] = mapped_column(String(320), default=None)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(SealedText, default="")
    body_html: Mapped[str] = mapped_column(SealedText, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(SealedJSON, default=dict)  # the digest's entries, as JSON
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)


__all__ = ["AlertMessage", "Delivery", "Subscription"]
