"""``tfe reindex``: rebuild the search index (a derived artefact) from the sealed passage texts."""

from __future__ import annotations


def reindex() -> None:
    """Reconstruire l'index de recherche à partir des passages stockés (chiffrés)."""
    raise NotImplementedError
