"""Shared fixtures: settings on a temporary data dir, and databases on SQLite and PostgreSQL.

PostgreSQL runs at 127.0.0.1:5432 on dev and CI machines (``.ci/run`` starts it); each test gets its own
schema, so tests never see each other's rows. ``TFE_TEST_POSTGRES_URL`` overrides the server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# one embedding thread per process (every installation and subprocess the tests start): the workers already
# keep both cores busy, and a second thread per model only makes them wait on each other
os.environ.setdefault("TFE_EMBED_THREADS", "1")

import pytest
from sqlalchemy import Engine, create_engine, text

from tfe.core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

POSTGRES_URL = os.environ.get(
    "TFE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    base: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "environment": "test",
        "admin_password": "admin-password-123",
        "fetch_allow_private": True,  # the tests' servers are on loopback
    }
    base.update(overrides)
    return Settings(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="session", autouse=True)
def _passage_vectors_once(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[None]:
    """Each distinct passage and query is embedded once per session, by the real model
    (``tests.vector_memo``)."""
    from search.embeddings import Embedder
    from tests.vector_memo import VectorMemo

    root = tmp_path_factory.getbasetemp()
    memo = VectorMemo((root if worker_id == "master" else root.parent) / "passage-vectors.sqlite")
    original = Embedder._encode
    Embedder._encode = memo.wrap(original)  # type: ignore[method-assign]
    yield
    Embedder._encode = original  # type: ignore[method-assign]
    stats = memo.path.parent / f"passage-vectors-{worker_id}.txt"
    stats.write_text(f"hits {memo.hits} misses {memo.misses}\n")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@contextmanager
def tables(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on ``settings``' database with every imported model's table created (no migrations, no
    installation): for tests of one package's queries. Import the model modules the test needs first."""
    from tfe.core.db import Base, make_engine, make_session_factory

    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings)
    Base.metadata.create_all(engine)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped afterwards; the URL it yields selects it via search_path."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin: Engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    with pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings whose database is SQLite or PostgreSQL (every database test runs on both)."""
    if request.param == "sqlite":
        return make_settings(tmp_path)
    url = request.getfixturevalue("pg_schema_url")
    return make_settings(tmp_path, database_url=url)
