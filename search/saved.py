"""Saved searches: a user names a search (text and facet filters) to run it again later.

Only the owner sees, renames, deletes or runs a saved search; anyone else's id answers ``NotFoundError``
(404), so their existence does not leak. A saved search stores the query, never results: running it
again applies the owner's access scope of that moment. Every change is audited (``saved_search.create``,
``saved_search.rename``, ``saved_search.delete``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from search.models import SavedSearch
from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, NotFoundError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.security.audit import Actor

FACET_NAMES = ("sector", "country", "type", "filiere", "signal")  # the search page's facets, in its URL order
MAX_NAME = 120
MAX_QUERY = 500
MAX_VALUES = 20  # per facet
MAX_VALUE_LENGTH = 64
MAX_PER_USER = 200

__all__ = [
    "FACET_NAMES",
    "SavedQuery",
    "create_saved_search",
    "delete_saved_search",
    "get_saved_search",
    "list_saved_searches",
    "rename_saved_search",
]


@dataclass(frozen=True)
class SavedQuery:
    """The query half of a saved search: text and the filter values per facet, validated."""

    q: str
    filters: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, q: str, filters: Mapping[str, Iterable[str]]) -> SavedQuery:
        """Normalise and check what a form sent (unknown facets, too many or too long values refused)."""
        unknown = set(filters) - set(FACET_NAMES)
        if unknown:
            raise ValidationError(f"unknown facet {sorted(unknown)[0]!r}")
        clean: dict[str, tuple[str, ...]] = {}
        for name in FACET_NAMES:
            values = tuple(dict.fromkeys(v.strip() for v in filters.get(name, ()) if v.strip()))
            if len(values) > MAX_VALUES or any(len(v) > MAX_VALUE_LENGTH for v in values):
                raise ValidationError(f"too many or too long values for facet {name!r}")
            clean[name] = values
        text = q.strip()
        if len(text) > MAX_QUERY:
            raise ValidationError(f"query longer than {MAX_QUERY} characters")
        if not text and not any(clean.values()):
            raise ValidationError("nothing to save: no query text and no filter")
        return cls(text, clean)

    @classmethod
    def of_row(cls, row: SavedSearch) -> SavedQuery:
        stored = row.filters or {}
        return cls(row.query, {name: tuple(stored.get(name, ())) for name in FACET_NAMES})

    def params(self) -> list[tuple[str, str]]:
        """The search page's query parameters, in its order (``q``, then each facet's values)."""
        pairs = [("q", self.q)] if self.q else []
        for name in FACET_NAMES:
            pairs.extend((name, value) for value in self.filters.get(name, ()))
        return pairs


def _name(name: str, query: SavedQuery) -> str:
    clean = " ".join(name.split())
    if not clean:
        clean = query.q or "Recherche sans texte"
    return clean[:MAX_NAME]


def list_saved_searches(session: Session, owner: User) -> list[SavedSearch]:
    """The owner's saved searches, most recently changed first."""
    query = (
        select(SavedSearch)
        .where(SavedSearch.user_id == owner.id)
        .order_by(SavedSearch.updated_at.desc(), SavedSearch.id.desc())
    )
    return list(session.scalars(query))


def get_saved_search(session: Session, owner: User, saved_id: int) -> SavedSearch:
    """One of the owner's saved searches, or ``NotFoundError`` (also for another user's)."""
    row = session.get(SavedSearch, saved_id)
    if row is None or row.user_id != owner.id:
        raise NotFoundError(f"unknown saved search {saved_id}")
    return row


def create_saved_search(
    session: Session, owner: User, name: str, query: SavedQuery, *, channel: str = "web"
) -> SavedSearch:
    """Save ``query`` under ``name`` (the query text when empty) for ``owner``."""
    owned = select(func.count()).select_from(SavedSearch).where(SavedSearch.user_id == owner.id)
    count = session.scalar(owned)
    if int(count or 0) >= MAX_PER_USER:
        raise ConflictError(f"at most {MAX_PER_USER} saved searches per user")
    now = utcnow()
    row = SavedSearch(
        user_id=owner.id,
        name=_name(name, query),
        query=query.q,
        filters={k: list(v) for k, v in query.filters.items() if v},
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "saved_search.create",
        Actor.of_user(owner, channel),
        target_kind="saved_search",
        target_id=str(row.id),
        detail={"name": row.name, "q": row.query, "filters": row.filters},
    )
    return row


def rename_saved_search(
    session: Session, owner: User, saved_id: int, name: str, *, channel: str = "web"
) -> SavedSearch:
    """Give one of the owner's saved searches a new name (blank names are refused)."""
    row = get_saved_search(session, owner, saved_id)
    clean = " ".join(name.split())[:MAX_NAME]
    if not clean:
        raise ValidationError("a saved search needs a name")
    if clean != row.name:
        previous, row.name, row.updated_at = row.name, clean, utcnow()
        session.flush()
        audit.record(
            session,
            "saved_search.rename",
            Actor.of_user(owner, channel),
            target_kind="saved_search",
            target_id=str(row.id),
            detail={"from": previous, "to": clean},
        )
    return row


def delete_saved_search(session: Session, owner: User, saved_id: int, *, channel: str = "web") -> None:
    """Delete one of the owner's saved searches."""
    row = get_saved_search(session, owner, saved_id)
    detail = {"name": row.name, "q": row.query, "filters": row.filters}
    session.delete(row)
    session.flush()
    audit.record(
        session,
        "saved_search.delete",
        Actor.of_user(owner, channel),
        target_kind="saved_search",
        target_id=str(saved_id),
        detail=detail,
    )
