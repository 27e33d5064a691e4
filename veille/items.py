"""Read side of watch items: one item as the caller may see it, with its source and classifications."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from taxonomy.classifications import ClassificationView, classifications_of
from tfe.core.errors import NotFoundError
from tfe.core.security import audit
from tfe.core.security.scope import AccessScope
from veille.models import Item, Source

__all__ = ["ItemView", "read_item"]


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
        }


def read_item(session: Session, item_id: str, scope: AccessScope, *, channel: str) -> ItemView:
    """The item in the caller's scope (``NotFoundError`` otherwise, existence not disclosed), audited."""
    item = session.get(Item, item_id)
    if item is None or not scope.can_see(visibility=item.visibility, org_id=item.org_id, owner_user_id=None):
        raise NotFoundError(f"unknown item {item_id!r}")
    source = session.get(Source, item.source_id) if item.source_id is not None else None
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
    )
