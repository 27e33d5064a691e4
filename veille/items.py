"""Read side of watch items: one item as the caller may see it, with its source, classifications and story.

Also the small scoped look-ups the story pages and the story-grouped search need: which story each item
belongs to (``story_ids_of``), how many items each story shows the caller (``story_sizes``), the items'
summaries (``summaries_of``); the conditions that keep items classified under a sector or a country
(``classified_under``) are ``veille.facets``'s, importable from here too. Every look-up applies the
caller's ``AccessScope`` inside its query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Integer, distinct, func, null, select
from sqlalchemy.orm import Session

from taxonomy.classifications import ClassificationView, classifications_of
from tfe.core.errors import NotFoundError
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope
from veille.curation_queue import may_curate
from veille.facets import classified_under
from veille.models import Item, Source

__all__ = [
    "ItemView",
    "classified_under",
    "read_item",
    "story_ids_of",
    "story_sizes",
    "summaries_of",
    "visible_items",
]


@dataclass(frozen=True)
class ItemView:
    id: str
    title: str
    summary: str
    url: str | None
    published_at: dt.datetime | None
    fetched_at: dt.datetime | None
    language: str | None
    visibility: str
    source_title: str | None
    source_url: str | None
    classifications: list[ClassificationView] = field(default_factory=list)
    story_id: str | None = None
    curator_status: str = "new"
    content_origin: str = "summary"  # what the item's text holds: summary, full_text, page or diff
    # the story as the caller sees it (visible, non-rejected items): how many items and sources
    story_items: int = 0
    story_sources: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "url": self.url,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
            "language": self.language,
            "visibility": self.visibility,
            "source": {"title": self.source_title, "url": self.source_url},
            "classifications": [c.as_dict() for c in self.classifications],
            "story_id": self.story_id,
            "curator_status": self.curator_status,
            "content_origin": self.content_origin,
        }


def visible_items(scope: AccessScope, *, include_rejected: bool = False) -> list[ColumnElement[bool]]:
    """Conditions on ``Item`` for the items ``scope`` sees (rejected ones only when asked)."""
    # items have no owner: a private item is seen by its organisation's administrators only
    clauses = [scope.sql_clause(Item.visibility, Item.org_id, null().cast(Integer))]
    if not include_rejected:
        clauses.append(Item.curator_status != "rejected")
    return clauses


def _story_counts(session: Session, scope: AccessScope, story_id: str) -> tuple[int, int]:
    row = session.execute(
        select(func.count(Item.id), func.count(distinct(Item.source_id))).where(
            Item.story_id == story_id, *visible_items(scope)
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0)


def visible_item(session: Session, item_id: str, scope: AccessScope) -> Item:
    """The item row if the caller may see it, else ``NotFoundError`` (existence not disclosed)."""
    item = session.get(Item, item_id)
    if item is None or not scope.can_see(visibility=item.visibility, org_id=item.org_id, owner_user_id=None):
        raise NotFoundError(f"unknown item {item_id!r}")
    return item


def read_item(session: Session, item_id: str, scope: AccessScope, *, channel: str) -> ItemView:
    """The item in the caller's scope (``NotFoundError`` otherwise, existence not disclosed), audited."""
    item = visible_item(session, item_id, scope)
    source = session.get(Source, item.source_id) if item.source_id is not None else None
    story_items, story_sources = _story_counts(session, scope, item.story_id) if item.story_id else (0, 0)
    audit.record(
        session, "item.read", audit.Actor.of_scope(scope, channel), target_kind="item", target_id=item_id
    )
    return ItemView(
        id=item.id,
        title=item.title,
        summary=item.summary or item.text[:1000],
        url=item.url,
        published_at=item.published_at,
        fetched_at=item.fetched_at,
        language=item.language,
        visibility=item.visibility,
        source_title=source.title if source else None,
        source_url=source.url if source else None,
        classifications=classifications_of(session, "item", item.id),
        story_id=item.story_id,
        curator_status=item.curator_status,
        content_origin=item.content_origin,
        story_items=story_items,
        story_sources=story_sources,
    )


def story_ids_of(session: Session, scope: AccessScope, item_ids: Iterable[str]) -> dict[str, str]:
    """Item id → story id for the given items that ``scope`` sees and that belong to a story (one query)."""
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Item.id, Item.story_id).where(
            Item.id.in_(ids), Item.story_id.is_not(None), *visible_items(scope, include_rejected=True)
        )
    )
    return {item_id: story_id for item_id, story_id in rows if story_id is not None}


def story_sizes(session: Session, scope: AccessScope, story_ids: Collection[str]) -> dict[str, int]:
    """Story id → the number of its items ``scope`` sees (rejected ones count for curators only)."""
    if not story_ids:
        return {}
    rows = session.execute(
        select(Item.story_id, func.count(Item.id))
        .where(Item.story_id.in_(list(story_ids)), *visible_items(scope, include_rejected=may_curate(scope)))
        .group_by(Item.story_id)
    )
    return {story_id: int(count) for story_id, count in rows if story_id is not None}


def summaries_of(session: Session, scope: AccessScope, item_ids: Iterable[str]) -> dict[str, str]:
    """Item id → its summary (or the start of its text) for the given items ``scope`` sees."""
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return {}
    # the whole text, cut here: title, summary and text are sealed at rest, SQL cannot cut them
    rows = session.execute(
        select(Item.id, Item.summary, Item.text).where(
            Item.id.in_(ids), *visible_items(scope, include_rejected=True)
        )
    )
    return {item_id: summary or (text or "")[:1000] for item_id, summary, text in rows}
