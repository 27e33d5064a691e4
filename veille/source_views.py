"""What the source catalogue answers: a source's view with its yield, its recent activity, an OPML
import's report; and how the views are built from the rows (one query for every listed source's yield).
"""

from __future__ import annotations

import builtins
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from veille.models import Item, Source, SourcePoll
from veille.source_rules import user_config


def iso(value: dt.datetime | None) -> str | None:
    """An optional instant as ISO 8601 text."""
    return value.isoformat() if value else None


@dataclass(frozen=True)
class SourceView:
    """A catalogue entry as the caller may see it, with its health and its yield."""

    id: int
    url: str
    kind: str
    title: str
    org_id: int | None
    org_slug: str | None
    visibility: str
    language: str | None
    sector_hints: list[str]
    country_hints: list[str]
    tags: list[str]
    config: dict[str, Any]
    full_text: bool
    paused: bool
    auto_accept_threshold: float | None
    interval_s: int
    min_interval_s: int
    max_interval_s: int
    next_poll_at: dt.datetime | None
    last_polled_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    health: str
    failures: int
    items_total: int = 0
    items_per_day: float = 0.0
    discovery: dict[str, Any] | None = None  # set by ``add`` when the feed was found on an HTML page

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "kind": self.kind,
            "title": self.title,
            "org": {"id": self.org_id, "slug": self.org_slug} if self.org_id is not None else None,
            "visibility": self.visibility,
            "language": self.language,
            "sector_hints": list(self.sector_hints),
            "country_hints": list(self.country_hints),
            "tags": list(self.tags),
            "config": dict(self.config),
            "full_text": self.full_text,
            "paused": self.paused,
            "auto_accept_threshold": self.auto_accept_threshold,
            "interval_s": self.interval_s,
            "min_interval_s": self.min_interval_s,
            "max_interval_s": self.max_interval_s,
            "next_poll_at": iso(self.next_poll_at),
            "last_polled_at": iso(self.last_polled_at),
            "last_success_at": iso(self.last_success_at),
            "last_status": self.last_status,
            "last_error": self.last_error,
            "health": self.health,
            "failures": self.failures,
            "items_total": self.items_total,
            "items_per_day": self.items_per_day,
            "discovery": self.discovery,
        }


@dataclass(frozen=True)
class SourceActivity:
    """A source's recent history: its last polls and its last items in the caller's sight, newest first."""

    polls: list[dict[str, Any]]  # {started_at, status, http_status, new_items, bytes, duration_ms, error}
    items: list[dict[str, Any]]  # {id, title, url, published_at, fetched_at, curator_status}


@dataclass
class ImportReport:
    """An OPML import: sources added, already in the catalogue, and refused (with the reason)."""

    added: list[dict[str, Any]] = field(default_factory=list)  # {id, url, title}
    existing: list[dict[str, Any]] = field(default_factory=list)  # {id (null if not visible), url}
    failed: list[dict[str, Any]] = field(default_factory=list)  # {url, reason}

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "existing": self.existing, "failed": self.failed}


def source_view(
    source: Source, slug: str | None, stats: tuple[int, int], discovery: dict[str, Any] | None = None
) -> SourceView:
    """The view of one source; ``stats``: its items in all and in the last 7 days."""
    return SourceView(
        id=source.id,
        url=source.url,
        kind=source.kind,
        title=source.title,
        org_id=source.org_id,
        org_slug=slug,
        visibility=source.visibility,
        language=source.language,
        sector_hints=[str(v) for v in source.sector_hints or []],
        country_hints=[str(v) for v in source.country_hints or []],
        tags=[str(v) for v in source.tags or []],
        config=user_config(source.kind, source.config or {}),
        full_text=source.full_text,
        paused=source.paused,
        auto_accept_threshold=source.auto_accept_threshold,
        interval_s=source.interval_s,
        min_interval_s=source.min_interval_s,
        max_interval_s=source.max_interval_s,
        next_poll_at=source.next_poll_at,
        last_polled_at=source.last_polled_at,
        last_success_at=source.last_success_at,
        last_status=source.last_status,
        last_error=source.last_error,
        health=source.health,
        failures=source.failures,
        items_total=stats[0],
        items_per_day=round(stats[1] / 7, 2),
        discovery=discovery,
    )


def source_views(
    session: Session, rows: builtins.list[tuple[Source, str | None]], now: dt.datetime
) -> builtins.list[SourceView]:
    """The views of ``rows`` (source, owner slug), their yields counted in one query."""
    ids = [source.id for source, _ in rows]
    stats: dict[int, tuple[int, int]] = {}
    if ids:
        since = now - dt.timedelta(days=7)
        recent = func.sum(case((Item.fetched_at >= since, 1), else_=0))
        query = (
            select(Item.source_id, func.count(Item.id), recent)
            .where(Item.source_id.in_(ids))
            .group_by(Item.source_id)
        )
        stats = {sid: (int(total), int(last7 or 0)) for sid, total, last7 in session.execute(query)}
    return [source_view(source, slug, stats.get(source.id, (0, 0))) for source, slug in rows]


def poll_row(poll: SourcePoll) -> dict[str, Any]:
    """One poll record as ``SourceActivity.polls`` lists it."""
    return {
        "started_at": poll.started_at,
        "status": poll.status,
        "http_status": poll.http_status,
        "new_items": poll.new_items,
        "bytes": poll.bytes,
        "duration_ms": poll.duration_ms,
        "error": poll.error,
    }


def item_row(item: Item) -> dict[str, Any]:
    """One item as ``SourceActivity.items`` lists it."""
    return {
        "id": item.id,
        "title": item.title,
        "url": item.url,
        "published_at": item.published_at,
        "fetched_at": item.fetched_at,
        "curator_status": item.curator_status,
    }
