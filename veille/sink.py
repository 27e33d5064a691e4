"""The Veille side of ingestion: feed entries become ``Item`` rows under an upserted feed ``Source``."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.item import IngestItem, Processed
from ingest.sink import classification_rows
from taxonomy.models import Classification
from tfe.core.db import session_scope
from veille.models import Item, Source

__all__ = ["ItemSink"]


class ItemSink:
    """``ContentSink`` for watch items (``target_kind == "item"``); dedupes by content hash and by
    (source, guid), so an entry edited upstream is not stored twice."""

    target_kind = "item"

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def find_by_hash(self, content_hash: str) -> str | None:
        with session_scope(self.session_factory) as session:
            return session.scalar(select(Item.id).where(Item.content_hash == content_hash).limit(1))

    def find_duplicate(self, item: IngestItem, content_hash: str) -> str | None:
        found = self.find_by_hash(content_hash)
        if found is not None or not item.guid:
            return found
        with session_scope(self.session_factory) as session:
            source_id = item.source_id or self._source_id(session, item, create=False)
            if source_id is None:
                return None
            return session.scalar(
                select(Item.id).where(Item.source_id == source_id, Item.guid == item.guid).limit(1)
            )

    def source_for(self, url: str, title: str = "", visibility: str = "network") -> int:
        """The id of the feed ``Source`` for ``url``, created if new (title filled in when learnt)."""
        with session_scope(self.session_factory) as session:
            item = IngestItem(
                key=url, kind="item", visibility=visibility, meta={"feed_url": url, "feed_title": title}
            )
            source_id = self._source_id(session, item, create=True)
            assert source_id is not None
            return source_id

    def _source_id(self, session: Session, item: IngestItem, *, create: bool) -> int | None:
        url = str(item.meta.get("feed_url") or "")
        if not url:
            return None
        source = session.scalar(select(Source).where(Source.url == url))
        if source is None:
            if not create:
                return None
            source = Source(
                kind="feed",
                url=url,
                title=str(item.meta.get("feed_title") or "")[:500],
                org_id=item.org_id,
                visibility=item.visibility or "network",
            )
            session.add(source)
            session.flush()
        elif not source.title and item.meta.get("feed_title"):
            source.title = str(item.meta["feed_title"])[:500]
        return source.id

    def save(self, item: IngestItem, processed: Processed) -> str:
        """Create the ``Item`` row (and its ``Source`` if new) and its classifications; returns the id."""
        item_id = uuid.uuid4().hex
        with session_scope(self.session_factory) as session:
            source_id = item.source_id or self._source_id(session, item, create=True)
            session.add(
                Item(
                    id=item_id,
                    source_id=source_id,
                    url=item.url,
                    guid=item.guid or item.key,
                    title=(processed.title or item.title)[:1000],
                    summary=str(item.meta.get("summary") or ""),
                    text=processed.text,
                    content_origin=str(item.meta.get("content_origin") or "summary")[:16],
                    published_at=item.published_at,
                    language=processed.language,
                    content_hash=processed.content_hash,
                    org_id=item.org_id,
                    visibility=item.visibility or "network",
                    meta={k: v for k, v in item.meta.items() if isinstance(v, str | int | float | bool)},
                )
            )
            session.flush()
            classification_rows(session, self.target_kind, item_id, processed)
        return item_id

    def discard(self, target_id: str) -> None:
        with session_scope(self.session_factory) as session:
            session.execute(
                delete(Classification).where(
                    Classification.target_kind == self.target_kind, Classification.target_id == target_id
                )
            )
            session.execute(delete(Item).where(Item.id == target_id))
