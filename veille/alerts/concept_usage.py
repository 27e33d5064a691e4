"""Which alert subscriptions name a taxonomy concept in their filters (``sector``, ``country``, ``type``,
or any facet added later): the taxonomy refuses to deprecate such a concept without a replacement
(``taxonomy.editing.deprecate_concept``), since those alerts would silently stop matching."""

from __future__ import annotations

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from search.models import SavedSearch
from veille.alerts.models import Subscription

__all__ = ["subscriptions_using"]


def _names(filters: object, concept_id: str) -> bool:
    if not isinstance(filters, dict):
        return False
    return any(isinstance(values, list) and concept_id in values for values in filters.values())


def subscriptions_using(session: Session, concept_id: str) -> list[Subscription]:
    """The subscriptions whose saved search filters on ``concept_id`` (by id, exactly), oldest first."""
    rows = session.execute(
        select(Subscription, SavedSearch.filters)
        .join(SavedSearch, SavedSearch.id == Subscription.saved_search_id)
        .where(cast(SavedSearch.filters, String).contains(f'"{concept_id}"', autoescape=True))
        .order_by(Subscription.id)
    ).all()
    return [sub for sub, filters in rows if _names(filters, concept_id)]
