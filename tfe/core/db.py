"""Database: one SQLAlchemy ``Base``, engine and session factories, Alembic migrations.

SQLite (WAL, foreign keys on) under the data dir by default; PostgreSQL through ``TFE_DATABASE_URL``.
``make_engine`` attaches the vault (encryption at rest of the sealed columns, ``tfe.core.crypto``).
Tables are defined next to the code that owns them (``tfe.core.models``, ``taxonomy.models``, ``ged.models``,
``veille.models``, ``ingest.models``) on this one ``Base``; the migrations under ``tfe/core/migrations`` are
written by hand and ``tests/test_migrations.py`` checks they match the models.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from tfe.core import clock
from tfe.core.settings import Settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, dt.datetime: DateTime(timezone=True)}


def utcnow() -> dt.datetime:
    """The current UTC time of the platform's records (real, or simulated: ``tfe.core.clock``)."""
    return clock.now()


def make_engine(settings: Settings) -> Engine:
    """Create the engine with the installation's vault attached (its sealed columns are encrypted).

    SQLite gets WAL, a busy timeout and enforced foreign keys. The vault is built here so that every
    engine made from settings seals (``tfe.core.crypto.vault.build_vault``: a missing or unsafe key is a
    ``ConfigurationError``; revoked keys give a vault that answers ``KeyRevokedError``).
    """
    from tfe.core.crypto.columns import attach
    from tfe.core.crypto.vault import build_vault

    engine = _bare_engine(settings)
    try:
        attach(engine, build_vault(settings, engine))
    except BaseException:
        engine.dispose()
        raise
    return engine


def _bare_engine(settings: Settings) -> Engine:
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA secure_delete=ON")  # deleted rows zeroed in the file (erasure, GDPR)
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the latest revision (idempotent)."""
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def schema_state(engine: Engine) -> str:
    """ "current", "missing" (never migrated) or "outdated" (migrations pending); connection errors raise."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(_alembic_config()).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if not current:
        return "missing"
    return "current" if current == heads else "outdated"


STALE = 0.25  # a table's statistics are stale once its rows moved by more than this share


def refresh_statistics(session: Session, tables: tuple[str, ...]) -> list[str]:
    """``ANALYZE`` each of ``tables`` whose planner statistics are missing or stale (more than ``STALE`` of
    its rows added, changed or deleted since); the tables analysed. Without them SQLite's planner takes an
    equality to select ten rows, so it read every decided item by status to find one day's decisions
    (``items.curator_status`` has three values) and every item's classifications to find one day's items:
    seconds a day rolled up at a million items, where statistics make it milliseconds. PostgreSQL's
    autovacuum analyses on its own where it is on; where it is off (or has not caught up with a bulk load),
    an organisation's dashboard nested-loops a week of audit events per person. SQLite: the row count told
    by ``max(rowid)`` against ``sqlite_stat1``'s; PostgreSQL: ``pg_stat_user_tables``."""
    dialect = session.get_bind().dialect.name
    stale = _stale_sqlite if dialect == "sqlite" else _stale_postgresql if dialect == "postgresql" else None
    if stale is None:
        return []
    analysed = []
    for table in tables:
        if stale(session, table):
            session.execute(text(f'ANALYZE "{table}"'))
            analysed.append(table)
    return analysed


def _stale_sqlite(session: Session, table: str) -> bool:
    rows = int(session.scalar(text(f'SELECT coalesce(max(rowid), 0) FROM "{table}"')) or 0)
    known = session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"))
    stat = (
        session.scalar(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"), {"t": table})
        if known
        else None
    )
    if not stat:
        return rows > 0  # nothing to learn from an empty table
    was = int(str(stat).split()[0])
    return abs(rows - was) > STALE * max(was, 1)


def _stale_postgresql(session: Session, table: str) -> bool:
    row = session.execute(
        text(
            "SELECT n_live_tup, n_mod_since_analyze, coalesce(last_analyze, last_autoanalyze) IS NOT NULL"
            " FROM pg_stat_user_tables WHERE relname = :t AND schemaname = current_schema()"
        ),
        {"t": table},
    ).first()
    if row is None:
        return False
    live, changed, analysed = int(row[0] or 0), int(row[1] or 0), bool(row[2])
    if not analysed:
        return live + changed > 0
    return changed > STALE * max(live, 1)
