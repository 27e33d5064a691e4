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

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
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
    """SQLite: ``ANALYZE`` each of ``tables`` whose planner statistics are missing or stale (its row count
    moved by more than ``STALE`` since, told by ``max(rowid)``); the tables analysed. Without them SQLite's
    planner assumes an equality picks ten rows, so it reads every undecided item by status to find one
    day's (``items.curator_status`` has three values), or every item's classifications to find one day's
    items: seconds a day rolled up at a million items, where the statistics make it milliseconds.
    PostgreSQL's autovacuum keeps its own statistics: nothing to do there."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "sqlite":
        return []
    analysed = []
    known = bool(session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")))
    for table in tables:
        rows = int(session.scalar(text(f'SELECT coalesce(max(rowid), 0) FROM "{table}"')) or 0)
        stat = (
            session.scalar(text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t LIMIT 1"), {"t": table})
            if known
            else None
        )
        was = int(str(stat).split()[0]) if stat else None
        if was is None and rows == 0:
            continue  # nothing to learn from an empty table
        if was is None or abs(rows - was) > STALE * max(was, 1):
            session.execute(text(f'ANALYZE "{table}"'))
            analysed.append(table)
    return analysed
