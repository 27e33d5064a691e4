"""Fixtures for taxonomy tests: one spaCy pipeline and one classifier per session, SQLite sessions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

import taxonomy.models
import tfe.core.models
from taxonomy.classifier import TaxonomyClassifier
from taxonomy.referential import Referential
from tfe.core.db import Base

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
