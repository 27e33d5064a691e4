"""Documents and their versions (the GED's system of record)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.db import Base, utcnow

STATUSES = ("draft", "validated", "archived")


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    doc_type: Mapped[str | None] = mapped_column(String(64), default=None)  # concept id "doctype:..."
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True, default=None)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="organisation")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    author: Mapped[str | None] = mapped_column(String(300), default=None)
    source_uri: Mapped[str | None] = mapped_column(Text, default=None)
    valid_from: Mapped[dt.datetime | None] = mapped_column(default=None)
    valid_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DocumentVersion(Base):
    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    mime: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger)
    blob_key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
