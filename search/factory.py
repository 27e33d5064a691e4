"""Choose the search backend from settings: embedded by default, OpenSearch when users outgrow one machine."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from search.backend import SearchBackend
from tfe.core.errors import ConfigurationError
from tfe.core.settings import Settings


def make_backend(settings: Settings, session_factory: sessionmaker[Session] | None = None) -> SearchBackend:
    """The configured backend (``TFE_SEARCH_BACKEND``); ``embedded``: Tantivy + vectors in ``index_dir``,
    the passage texts sealed in the database of ``session_factory`` (``search.passage_store``; without
    one, in memory for the life of the backend: tests and temporary indexes only)."""
    if settings.search_backend == "embedded":
        from search.embedded import EmbeddedBackend
        from search.passage_store import PassageStore

        texts = PassageStore(session_factory) if session_factory is not None else None
        return EmbeddedBackend(settings.index_dir, texts)
    if settings.search_backend == "opensearch":
        raise ConfigurationError("search backend 'opensearch' is not available yet")
    raise ConfigurationError(f"unknown search backend {settings.search_backend!r}")
