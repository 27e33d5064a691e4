"""Choose the search backend from settings: embedded by default, OpenSearch when users outgrow one machine."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from search.backend import SearchBackend
from tfe.core.errors import ConfigurationError
from tfe.core.settings import Settings


def make_backend(settings: Settings, session_factory: sessionmaker[Session] | None = None) -> SearchBackend:
    """The configured backend (``TFE_SEARCH_BACKEND``); ``embedded``: Tantivy + vectors in ``index_dir``,
    the passage texts sealed in the database of ``session_factory`` (``search.passage_store``; without
    one, in memory for the life of the backend: tests and temporary indexes only); ``opensearch``: the
    cluster at ``opensearch_url`` (``search.opensearch``), the texts in the same store."""
    if settings.search_backend == "embedded":
        from search.embedded import EmbeddedBackend
        from search.passage_store import PassageStore

        texts = PassageStore(session_factory) if session_factory is not None else None
        return EmbeddedBackend(settings.index_dir, texts)
    if settings.search_backend == "opensearch":
        from search.opensearch import OpenSearchBackend
        from search.passage_store import PassageStore

        if not settings.opensearch_url:
            raise ConfigurationError("TFE_SEARCH_BACKEND=opensearch needs TFE_OPENSEARCH_URL")
        texts = PassageStore(session_factory) if session_factory is not None else None
        return OpenSearchBackend(
            settings.opensearch_url,
            texts,
            index=settings.opensearch_index,
            timeout_s=settings.opensearch_timeout_s,
            replicas=settings.opensearch_replicas,
        )
    raise ConfigurationError(f"unknown search backend {settings.search_backend!r}")
