"""Watch tables: the source catalogue, each poll's record, items, stories and curators' decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DDL, Boolean, Date, Float, ForeignKey, Index, LargeBinary, String, Text, event, inspect
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
    __table_args__ = (Index("ix_items_source_guid", "source_id", "guid"),)

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
    curator_status: Mapped[str] = mapped_column(String(16), default="new", index=True)
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


class WatchRollupRow(Base):
    """The watch indicators' roll-up (``tfe.app.rollups_watch``), one row per bucket, kind and item scope.

    ``grain = "day"``: per day and items' ``(org_id, visibility)``, the items per source (``kind = "source"``,
    ``key`` the source id or ``""``), per sector division and country (``"sector_country"``, ``key`` the
    division, ``key2`` the country), still undecided (``"backlog"``, by day fetched) and the decisions
    (``"decision"``, by day decided, ``value`` the wait in seconds). ``grain`` week, month, quarter or year:
    the distinct stories of the items shared with the network (``"stories"``, one row), their 50 first
    stories by items (``"top"``), and each story of the items not shared (``"story_private"``: ``items``
    those items, ``extra`` the story's shared items in the bucket)."""

    __tablename__ = "watch_rollup_rows"
    __table_args__ = (Index("ix_watch_rollup_rows_grain_bucket_kind", "grain", "bucket", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grain: Mapped[str] = mapped_column(String(8))
    bucket: Mapped[dt.date] = mapped_column(Date)  # the day, the Monday, the first of month/quarter/year
    kind: Mapped[str] = mapped_column(String(16))
    org_id: Mapped[int | None] = mapped_column(default=None)
    visibility: Mapped[str] = mapped_column(String(16), default="network")
    key: Mapped[str] = mapped_column(String(64), default="")
    key2: Mapped[str] = mapped_column(String(64), default="")
    items: Mapped[int] = mapped_column(default=0)
    extra: Mapped[int] = mapped_column(default=0)
    value: Mapped[float | None] = mapped_column(Float, default=None)


class WatchRollupMark(Base):
    """A bucket of the watch roll-up written (in the same transaction as its rows)."""

    __tablename__ = "watch_rollup_marks"

    grain: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    rows: Mapped[int] = mapped_column(default=0)
    rolled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WatchRollupDirty(Base):
    """A rolled-up day whose items changed since (written by the database's triggers on ``items`` and
    ``classifications``; ``changes`` counts them): the indicators read the day, and every bucket holding it,
    live until the job rolls them again."""

    __tablename__ = "watch_rollup_dirty"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    changes: Mapped[int] = mapped_column(default=1)


# The triggers that mark a rolled-up day dirty when an item of it, or one of its classifications, changes:
# every write, whatever path it takes (ORM, bulk statements, SQL). Only days already rolled up are marked,
# so today's ingestion never touches the table. Created by the migration 0012 and, for the databases built
# from the models (tests, benchmarks), after ``create_all``.
_ITEM_COLUMNS = "fetched_at, org_id, visibility, source_id, story_id, curator_status, decided_at"
_SQLITE_MARK = (
    "INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks "
    "WHERE grain = 'day' AND bucket IN ({days}) ON CONFLICT (day) DO UPDATE SET changes = changes + 1;"
)
_SQLITE_CLASS_MARK = (
    "INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 "
    "FROM watch_rollup_marks AS m, items AS i WHERE {row}.target_kind = 'item' AND i.id = {row}.target_id "
    "AND m.grain = 'day' AND m.bucket = date(i.fetched_at) "
    "ON CONFLICT (day) DO UPDATE SET changes = changes + 1;"
)
SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_insert AFTER INSERT ON items BEGIN "
    + _SQLITE_MARK.format(days="date(NEW.fetched_at), date(NEW.decided_at)")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_delete AFTER DELETE ON items BEGIN "
    + _SQLITE_MARK.format(days="date(OLD.fetched_at), date(OLD.decided_at)")
    + " END",
    f"CREATE TRIGGER IF NOT EXISTS watch_rollup_item_update AFTER UPDATE OF {_ITEM_COLUMNS} ON items BEGIN "
    + _SQLITE_MARK.format(
        days="date(OLD.fetched_at), date(OLD.decided_at), date(NEW.fetched_at), date(NEW.decided_at)"
    )
    + " END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_class_insert AFTER INSERT ON classifications "
    "WHEN NEW.target_kind = 'item' BEGIN " + _SQLITE_CLASS_MARK.format(row="NEW") + " END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_class_delete AFTER DELETE ON classifications "
    "WHEN OLD.target_kind = 'item' BEGIN " + _SQLITE_CLASS_MARK.format(row="OLD") + " END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_class_update "
    "AFTER UPDATE OF target_kind, target_id, concept_id, method, score ON classifications "
    "WHEN OLD.target_kind = 'item' OR NEW.target_kind = 'item' BEGIN "
    + _SQLITE_CLASS_MARK.format(row="OLD")
    + " "
    + _SQLITE_CLASS_MARK.format(row="NEW")
    + " END",
]
_PG_DAY = "((({0}) AT TIME ZONE 'UTC')::date)"
POSTGRESQL_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION watch_rollup_mark(d date) RETURNS void AS $$
BEGIN
  IF d IS NOT NULL AND EXISTS (SELECT 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket = d) THEN
    INSERT INTO watch_rollup_dirty (day, changes) VALUES (d, 1)
    ON CONFLICT (day) DO UPDATE SET changes = watch_rollup_dirty.changes + 1;
  END IF;
END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION watch_rollup_item() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM watch_rollup_mark({_PG_DAY.format("OLD.fetched_at")});
    PERFORM watch_rollup_mark({_PG_DAY.format("OLD.decided_at")});
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM watch_rollup_mark({_PG_DAY.format("NEW.fetched_at")});
    PERFORM watch_rollup_mark({_PG_DAY.format("NEW.decided_at")});
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION watch_rollup_class() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.target_kind = 'item' THEN
    PERFORM watch_rollup_mark({_PG_DAY.format("fetched_at")}) FROM items WHERE id = OLD.target_id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.target_kind = 'item' THEN
    PERFORM watch_rollup_mark({_PG_DAY.format("fetched_at")}) FROM items WHERE id = NEW.target_id;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS watch_rollup_item ON items",
    f"CREATE TRIGGER watch_rollup_item AFTER INSERT OR DELETE OR UPDATE OF {_ITEM_COLUMNS} ON items "
    "FOR EACH ROW EXECUTE FUNCTION watch_rollup_item()",
    "DROP TRIGGER IF EXISTS watch_rollup_class ON classifications",
    "CREATE TRIGGER watch_rollup_class AFTER INSERT OR DELETE "
    "OR UPDATE OF target_kind, target_id, concept_id, method, score ON classifications "
    "FOR EACH ROW EXECUTE FUNCTION watch_rollup_class()",
]


class QualityRollupRow(Base):
    """The quality indicators' roll-up (``tfe.app.rollups_watch``): per closed day of the classifications'
    creation, target kind and target's owner (a document's organisation, an item's ``(org_id,
    visibility)``), scheme and confidence band, the machine proposals kept, reviewed, corrected, and the
    concepts curators added. Its days share the watch's marks and dirty days (``watch_rollup_marks``)."""

    __tablename__ = "quality_rollup_rows"
    __table_args__ = (Index("ix_quality_rollup_rows_day", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    target_kind: Mapped[str] = mapped_column(String(16))
    org_id: Mapped[int | None] = mapped_column(default=None)
    visibility: Mapped[str | None] = mapped_column(String(16), default=None)
    scheme: Mapped[str] = mapped_column(String(64))
    band: Mapped[str] = mapped_column(String(8))
    kept: Mapped[int] = mapped_column(default=0)
    seen: Mapped[int] = mapped_column(default=0)
    corrected: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)


# The quality's dirty days: a classification's day of creation, and every classification day of a document,
# an item or a concept whose owner, visibility or scheme (what the quality cells filter and group on)
# changes, or that appears or goes.
_SQLITE_CREATED_MARK = (
    "INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks "
    "WHERE grain = 'day' AND bucket IN ({days}) ON CONFLICT (day) DO UPDATE SET changes = changes + 1;"
)
_SQLITE_TARGET_MARK = (
    "INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 "
    "FROM watch_rollup_marks AS m, classifications AS c WHERE {where} "
    "AND m.grain = 'day' AND m.bucket = date(c.created_at) "
    "ON CONFLICT (day) DO UPDATE SET changes = changes + 1;"
)


def _sqlite_target(name: str, event: str, table: str, where: str) -> str:
    rows = ["OLD", "NEW"] if event.startswith("UPDATE") else ["NEW" if event == "INSERT" else "OLD"]
    body = " ".join(_SQLITE_TARGET_MARK.format(where=where.format(row=row)) for row in rows)
    return f"CREATE TRIGGER IF NOT EXISTS watch_rollup_{name} AFTER {event} ON {table} BEGIN {body} END"


_OF_ITEM = "c.target_kind = 'item' AND c.target_id = {row}.id"
_OF_DOCUMENT = "c.target_kind = 'document' AND c.target_id = {row}.id"
_OF_CONCEPT = "c.concept_id = {row}.id"
SQLITE_QUALITY_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qclass_insert AFTER INSERT ON classifications BEGIN "
    + _SQLITE_CREATED_MARK.format(days="date(NEW.created_at)")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qclass_delete AFTER DELETE ON classifications BEGIN "
    + _SQLITE_CREATED_MARK.format(days="date(OLD.created_at)")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_qclass_update AFTER UPDATE OF target_kind, target_id, "
    "concept_id, method, score, explanation, created_at ON classifications BEGIN "
    + _SQLITE_CREATED_MARK.format(days="date(OLD.created_at), date(NEW.created_at)")
    + " END",
    _sqlite_target("qitem_insert", "INSERT", "items", _OF_ITEM),
    _sqlite_target("qitem_delete", "DELETE", "items", _OF_ITEM),
    _sqlite_target("qitem_update", "UPDATE OF id, org_id, visibility", "items", _OF_ITEM),
    _sqlite_target("qdoc_insert", "INSERT", "documents", _OF_DOCUMENT),
    _sqlite_target("qdoc_delete", "DELETE", "documents", _OF_DOCUMENT),
    _sqlite_target("qdoc_update", "UPDATE OF id, org_id", "documents", _OF_DOCUMENT),
    _sqlite_target("qconcept_delete", "DELETE", "concepts", _OF_CONCEPT),
    _sqlite_target("qconcept_update", "UPDATE OF id, scheme_id", "concepts", _OF_CONCEPT),
]
_PG_TARGET = """CREATE OR REPLACE FUNCTION watch_rollup_{name}() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM watch_rollup_mark(((c.created_at AT TIME ZONE 'UTC')::date)) FROM classifications AS c
    WHERE {old};
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM watch_rollup_mark(((c.created_at AT TIME ZONE 'UTC')::date)) FROM classifications AS c
    WHERE {new};
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""


def _pg_target(name: str, table: str, where: str, events: str) -> list[str]:
    return [
        _PG_TARGET.format(name=name, old=where.format(row="OLD"), new=where.format(row="NEW")),
        f"DROP TRIGGER IF EXISTS watch_rollup_{name} ON {table}",
        f"CREATE TRIGGER watch_rollup_{name} AFTER {events} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION watch_rollup_{name}()",
    ]


POSTGRESQL_QUALITY_TRIGGERS = [
    f"""CREATE OR REPLACE FUNCTION watch_rollup_qclass() RETURNS trigger AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM watch_rollup_mark({_PG_DAY.format("OLD.created_at")});
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM watch_rollup_mark({_PG_DAY.format("NEW.created_at")});
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS watch_rollup_qclass ON classifications",
    "CREATE TRIGGER watch_rollup_qclass AFTER INSERT OR DELETE OR UPDATE OF target_kind, target_id, "
    "concept_id, method, score, explanation, created_at ON classifications "
    "FOR EACH ROW EXECUTE FUNCTION watch_rollup_qclass()",
    *_pg_target("qitem", "items", _OF_ITEM, "INSERT OR DELETE OR UPDATE OF id, org_id, visibility"),
    *_pg_target("qdoc", "documents", _OF_DOCUMENT, "INSERT OR DELETE OR UPDATE OF id, org_id"),
    *_pg_target("qconcept", "concepts", _OF_CONCEPT, "DELETE OR UPDATE OF id, scheme_id"),
]


def triggers(dialect: str, *, quality: bool = True) -> list[str]:
    """The statements creating the dirty-day triggers on ``dialect`` (none for another database); the
    watch's, and unless ``quality`` is false the quality's (on documents and concepts too)."""
    if dialect == "sqlite":
        return SQLITE_TRIGGERS + (SQLITE_QUALITY_TRIGGERS if quality else [])
    if dialect == "postgresql":
        return POSTGRESQL_TRIGGERS + (POSTGRESQL_QUALITY_TRIGGERS if quality else [])
    return []


@event.listens_for(Base.metadata, "after_create")
def _create_triggers(target: Any, connection: Any, **kw: Any) -> None:
    # the tables the database holds once this create_all is done: one table's own create_all (a passage
    # store's, in a database of its own) or a partial schema has none of the watch's, so no triggers
    names = set(inspect(connection).get_table_names())
    if not {"items", "classifications", "watch_rollup_marks", "watch_rollup_dirty"} <= names:
        return  # a partial schema (tests of another package): no triggers to hang
    quality = {"concepts", "documents"} <= names
    for statement in triggers(connection.dialect.name, quality=quality):
        connection.execute(DDL(statement.replace("%", "%%")))
