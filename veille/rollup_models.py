"""The watch indicators' roll-up tables (``tfe.app.rollups_watch`` writes them, ``tfe.app.indicators``
reads them) and the database triggers that mark a rolled-up day dirty when its items, their
classifications, the documents' or the concepts change; ``veille.models`` registers them with the watch's
tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DDL, Date, Float, Index, String, event, false, inspect
from sqlalchemy.orm import Mapped, mapped_column

from tfe.core.db import Base, utcnow


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
    ``classifications``; ``changes`` counts them): the indicators read the day live until the job rolls it
    again. ``stories``: a change of the day's items' stories (an item fetched that day added, deleted, moved
    to another day, story, owner or visibility): every week, month, quarter and year holding the day is read
    live and rolled again too; a curator's decision, a reclassification or a review leaves it false, so
    only the day is (the stories' rows read none of these)."""

    __tablename__ = "watch_rollup_dirty"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    changes: Mapped[int] = mapped_column(default=1)
    stories: Mapped[bool] = mapped_column(default=False, server_default=false())


# The triggers that mark a rolled-up day dirty when an item of it, or one of its classifications, changes:
# every write, whatever path it takes (ORM, bulk statements, SQL). Only days already rolled up are marked,
# so today's ingestion never touches the table. Created by the migration 0012 (the items' ones replaced by
# 0016, which sets ``stories``) and, for the databases built from the models (tests, benchmarks), after
# ``create_all``. The classifications' (and the quality's, below) leave ``stories`` as it is.
_ITEM_COLUMNS = "fetched_at, org_id, visibility, source_id, story_id, curator_status, decided_at"
# what the stories' rows of a week, month, quarter or year read of an item (``rollups_watch``)
STORY_COLUMNS = ("fetched_at", "org_id", "visibility", "story_id")
_SQLITE_STORIES_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in STORY_COLUMNS)
_SQLITE_MARK = (
    "INSERT INTO watch_rollup_dirty (day, changes) SELECT bucket, 1 FROM watch_rollup_marks "
    "WHERE grain = 'day' AND bucket IN ({days}) ON CONFLICT (day) DO UPDATE SET changes = changes + 1;"
)
_SQLITE_STORIES_MARK = (
    "INSERT INTO watch_rollup_dirty (day, changes, stories) SELECT bucket, 1, {stories} "
    "FROM watch_rollup_marks WHERE grain = 'day' AND bucket IN ({days}) "
    "ON CONFLICT (day) DO UPDATE SET changes = changes + 1, stories = max(stories, excluded.stories);"
)
_SQLITE_CLASS_MARK = (
    "INSERT INTO watch_rollup_dirty (day, changes) SELECT m.bucket, 1 "
    "FROM watch_rollup_marks AS m, items AS i WHERE {row}.target_kind = 'item' AND i.id = {row}.target_id "
    "AND m.grain = 'day' AND m.bucket = date(i.fetched_at) "
    "ON CONFLICT (day) DO UPDATE SET changes = changes + 1;"
)
SQLITE_ITEM_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_insert AFTER INSERT ON items BEGIN "
    + _SQLITE_STORIES_MARK.format(days="date(NEW.fetched_at)", stories="1")
    + " "
    + _SQLITE_MARK.format(days="date(NEW.decided_at)")
    + " END",
    "CREATE TRIGGER IF NOT EXISTS watch_rollup_item_delete AFTER DELETE ON items BEGIN "
    + _SQLITE_STORIES_MARK.format(days="date(OLD.fetched_at)", stories="1")
    + " "
    + _SQLITE_MARK.format(days="date(OLD.decided_at)")
    + " END",
    f"CREATE TRIGGER IF NOT EXISTS watch_rollup_item_update AFTER UPDATE OF {_ITEM_COLUMNS} ON items BEGIN "
    + _SQLITE_STORIES_MARK.format(
        days="date(OLD.fetched_at), date(NEW.fetched_at)", stories=f"({_SQLITE_STORIES_CHANGED})"
    )
    + " "
    + _SQLITE_MARK.format(days="date(OLD.decided_at), date(NEW.decided_at)")
    + " END",
]
SQLITE_TRIGGERS = [
    *SQLITE_ITEM_TRIGGERS,
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
_PG_STORIES_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in STORY_COLUMNS)
POSTGRESQL_ITEM_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION watch_rollup_mark(d date, moved boolean) RETURNS void AS $$
BEGIN
  IF d IS NOT NULL AND EXISTS (SELECT 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket = d) THEN
    INSERT INTO watch_rollup_dirty (day, changes, stories) VALUES (d, 1, moved)
    ON CONFLICT (day) DO UPDATE
    SET changes = watch_rollup_dirty.changes + 1, stories = watch_rollup_dirty.stories OR EXCLUDED.stories;
  END IF;
END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION watch_rollup_item() RETURNS trigger AS $$
DECLARE
  moved boolean := TG_OP <> 'UPDATE';
BEGIN
  IF TG_OP = 'UPDATE' THEN
    moved := {_PG_STORIES_CHANGED};
  END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM watch_rollup_mark({_PG_DAY.format("OLD.fetched_at")}, moved);
    PERFORM watch_rollup_mark({_PG_DAY.format("OLD.decided_at")});
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM watch_rollup_mark({_PG_DAY.format("NEW.fetched_at")}, moved);
    PERFORM watch_rollup_mark({_PG_DAY.format("NEW.decided_at")});
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
]
POSTGRESQL_TRIGGERS = [
    """CREATE OR REPLACE FUNCTION watch_rollup_mark(d date) RETURNS void AS $$
BEGIN
  IF d IS NOT NULL AND EXISTS (SELECT 1 FROM watch_rollup_marks WHERE grain = 'day' AND bucket = d) THEN
    INSERT INTO watch_rollup_dirty (day, changes) VALUES (d, 1)
    ON CONFLICT (day) DO UPDATE SET changes = watch_rollup_dirty.changes + 1;
  END IF;
END $$ LANGUAGE plpgsql""",
    *POSTGRESQL_ITEM_TRIGGERS,
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
