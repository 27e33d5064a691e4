"""Watch sources and items."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.db import Base, utcnow


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="feed")
    url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="network")
    etag: Mapped[str | None] = mapped_column(String(300), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(100), default=None)
    interval_s: Mapped[int] = mapped_column(default=3600)
    failures: Mapped[int] = mapped_column(default=0)
    health: Mapped[str] = mapped_column(String(16), default="unknown")
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Item(Base):
    __tablename__ = "items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True, default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    guid: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(1000), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="network")
    curator_status: Mapped[str] = mapped_column(String(16), default="new")
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
