"""Ingest bookkeeping: every input of every run ends in a recorded state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.db import Base, utcnow

STATES = ("pending", "ok", "duplicate", "failed")


class IngestRun(Base):
    __tablename__ = "ingest_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "files" | "feed"
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    args: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)


class IngestRecord(Base):
    """The state of one input (a file path or a feed entry) in one run."""

    __tablename__ = "ingest_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("ingest_runs.id"), index=True)
    input_key: Mapped[str] = mapped_column(Text)  # absolute path, or "feed-url#guid"
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    target_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    target_id: Mapped[str | None] = mapped_column(String(64), default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
