"""Fixtures for taxonomy tests: one spaCy pipeline and one classifier per session, SQLite sessions, and
databases on SQLite and PostgreSQL that several "processes" (engines) open at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

import taxonomy.models
import tfe.core.models
from taxonomy.classifier import TaxonomyClassifier
from taxonomy.loader import load_taxonomy
from taxonomy.referential import Referential
from tests.conftest import pg_schema
from tfe.core.db import Base, session_scope

if TYPE_CHECKING:
    from spacy.language import Language

assert tfe.core.models and taxonomy.models  # tables registered on Base.metadata


@pytest.fixture(scope="session")
def ref() -> Referential:
    return Referential.load()


@pytest.fixture(scope="session")
def nlp() -> Language:
    from taxonomy.nlp import load_nlp

    return load_nlp()


@pytest.fixture(scope="session")
def classifier(ref: Referential) -> TaxonomyClassifier:
    return TaxonomyClassifier(ref)


def _session_for(path: Path) -> sessionmaker[Session]:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return sessionmaker(bind=engine, expire_on_commit=False)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    yield _session_for(tmp_path / "taxonomy.sqlite")


@pytest.fixture
def other_db(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    yield _session_for(tmp_path / "other.sqlite")


Opener = Callable[[], sessionmaker[Session]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database with the tables created, on SQLite or in a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
        _create_tables(url)
        yield url
        return
    with pg_schema() as url:
        _create_tables(url)
        yield url


def _create_tables(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


@pytest.fixture
def open_db(db_url: str) -> Iterator[Opener]:
    """Opens the ``db_url`` database with a new engine each call (one per simulated process)."""
    engines: list[Engine] = []

    def _open() -> sessionmaker[Session]:
        engine = create_engine(db_url)
        engines.append(engine)
        return sessionmaker(bind=engine, expire_on_commit=False)

    yield _open
    for engine in engines:
        engine.dispose()


@pytest.fixture
def seeded(open_db: Opener) -> Opener:
    """``open_db`` after ``tfe init`` loaded the shipped taxonomy."""
    with session_scope(open_db()) as session:
        load_taxonomy(session)
    return open_db
