"""Watch tables: the source catalogue, each poll's record, items, stories and curators' decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

import tfe.core.models  # noqa: F401  (the organisations and users tables these refer to)
from tfe.core.crypto.columns import SealedText
from tfe.core.db import Base, utcnow

SOURCE_KINDS = ("feed", "page", "watch")
# unknown: never polled; ok; slow: answers, but slowly or after retries; failing: recent consecutive
# failures; dead: ``dead_after_failures`` in a row (still retried at the longest interval); gone: 410
HEALTHS = ("unknown", "ok", "slow", "failing", "dead", "gone")
CURATOR_STATUSES = ("new", "accepted", "auto_accepted", "rejected")
POLL_STATUSES = ("ok", "not_modified", "failed", "deferred")


class Source(Base):
    """One entry of the source catalogue: a feed, a listing page crawled by selectors, or a watched page.

    ``config`` holds what the kind needs: for ``page`` the CSS/XPath selectors of the listing's article
    links and of each article's fields, for ``watch`` the selector of the watched region and the last
    snapshot. ``org_id`` is the owner; ``visibility`` ``network`` puts it in the shared catalogue.
    """

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="feed")
    url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="network")
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    sector_hints: Mapped[list[Any]] = mapped_column(default=list)
    country_hints: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    full_text: Mapped[bool] = mapped_column(Boolean, default=False)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_accept_threshold: Mapped[float | None] = mapped_column(Float, default=None)
    # polling state
    etag: Mapped[str | None] = mapped_column(String(300), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(100), default=None)
    interval_s: Mapped[int] = mapped_column(default=3600)
    min_interval_s: Mapped[int] = mapped_column(default=900)
    max_interval_s: Mapped[int] = mapped_column(default=86400)
    next_poll_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    failures: Mapped[int] = mapped_column(default=0)
    health: Mapped[str] = mapped_column(String(16), default="unknown")
    last_polled_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_new_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_status: Mapped[int | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SourcePoll(Base):
    """What one poll of a source did: every poll ends recorded, with its reason when it failed."""

    __tablename__ = "source_polls"
    __table_args__ = (Index("ix_source_polls_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(default=None)
    new_items: Mapped[int] = mapped_column(default=0)
    bytes: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class Story(Base):
    """Items reporting the same news, from one or several sources; the id never changes as it grows.

    The row keeps counters for all items; what a caller is shown (title, sources, items) is recomputed
    from the items in their scope (``veille.stories``), so a private item never leaks through a story.
    """

    __tablename__ = "stories"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(SealedText, default="")
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    item_count: Mapped[int] = mapped_column(default=0)
    source_count: Mapped[int] = mapped_column(default=0)


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_source_guid", "source_id", "guid"),
        # the curation queue and backlog: the undecided items by day fetched (migration 0017)
        Index("ix_items_status_fetched", "curator_status", "fetched_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"), index=True, default=None)
    url: Mapped[str | None] = mapped_column(Text, default=None)
    guid: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(SealedText, default="")
    summary: Mapped[str] = mapped_column(SealedText, default="")
    text: Mapped[str] = mapped_column(SealedText, default="")
    # what ``text`` holds: the feed's summary, the article's extracted full text, a crawled page, a diff
    content_origin: Mapped[str] = mapped_column(String(16), default="summary")
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    fetched_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="network")
    curator_status: Mapped[str] = mapped_column(String(16), default="new")
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    story_id: Mapped[str | None] = mapped_column(ForeignKey("stories.id"), index=True, default=None)
    # the story clusterer's features: the e5 vector of the headline and lead (float32) and a MinHash
    story_vector: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    story_signature: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ItemDecision(Base):
    """A curator's decision on an item (accept, reject, correct), kept for the classifier to learn from."""

    __tablename__ = "item_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decision: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)


# the watch indicators' roll-up tables and the triggers that keep them honest, registered with the metadata
# whenever the watch's tables are
import veille.rollup_models  # noqa: E402, F401
