"""Choose the search backend from settings: embedded by default, OpenSearch when users outgrow one machine."""

from __future__ import annotations

from search.backend import SearchBackend
from tfe.core.errors import ConfigurationError
from tfe.core.settings import Settings


def make_backend(settings: Settings) -> SearchBackend:
    """The configured backend (``TFE_SEARCH_BACKEND``); ``embedded``: Tantivy + vectors in ``index_dir``."""
    if settings.search_backend == "embedded":
        from search.embedded import EmbeddedBackend

        return EmbeddedBackend(settings.index_dir)
    if settings.search_backend == "opensearch":
        raise ConfigurationError("search backend 'opensearch' is not available yet")
    raise ConfigurationError(f"unknown search backend {settings.search_backend!r}")
