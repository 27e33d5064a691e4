"""Search tables: the searches users save (query text and facet filters), one row per saved search.

A saved search is the query half of a future alert subscription: the alert work adds its delivery
settings (frequency, channels) to this row instead of copying the query, so a user turns a saved search
into an alert without re-entering it (see ``docs/decisions.md``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.crypto.columns import SealedText
from tfe.core.db import Base, utcnow


class SavedSearch(Base):
    """A user's named search: text and filters per facet (``{"sector": [...], "country": [...], ...}``)."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    query: Mapped[str] = mapped_column(String(500), default="")
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PassageText(Base):
    """The text of one indexed passage, sealed at rest: the search index stores no original text, so
    snippets and titles come from here at query time, and ``tfe reindex`` rebuilds the index from it."""

    __tablename__ = "passage_texts"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the passage id "{parent}:{position}"
    parent_id: Mapped[str] = mapped_column(String(64), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(SealedText, default="")
    text: Mapped[str] = mapped_column(SealedText, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the passage's filter metadata (no text)


__all__ = ["PassageText", "SavedSearch"]
