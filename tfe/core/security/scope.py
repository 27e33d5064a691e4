"""Access scope: what a caller may see, expressed once and applied inside every backend query.

Visibility levels of a document or item:

- ``public``: anyone, including anonymous callers;
- ``network``: any signed-in user of the network;
- ``organisation``: members of the owning organisation;
- ``private``: the owner only.

Administrators see everything of their own organisation (including its members' private documents);
nobody sees another organisation's private or organisation-only content.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, true
from sqlalchemy.orm import InstrumentedAttribute


@dataclass(frozen=True)
class AccessScope:
    """The caller's identity as far as read access is concerned."""

    user_id: int | None = None
    org_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    system: bool = False  # internal jobs (indexing, evaluation): sees everything

    @classmethod
    def anonymous(cls) -> AccessScope:
        return cls()

    @classmethod
    def member(cls, org_id: int | None, user_id: int | None = None) -> AccessScope:
        """What a member of ``org_id`` sees (a CLI import for an organisation, or its uploader)."""
        return cls(user_id=user_id, org_id=org_id)

    @classmethod
    def everything(cls) -> AccessScope:
        """Scope for trusted internal jobs only (never for a request)."""
        return cls(system=True)

    @property
    def authenticated(self) -> bool:
        """A signed-in user, or an organisation acting as itself (``member``)."""
        return self.user_id is not None or self.org_id is not None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def can_see(self, *, visibility: str, org_id: int | None, owner_user_id: int | None) -> bool:
        """The same rule as ``haystack_filter`` for a single record (used for direct reads by id)."""
        if self.system or visibility == "public":
            return True
        if not self.authenticated:
            return False
        if visibility == "network":
            return True
        same_org = org_id is not None and org_id == self.org_id
        if visibility == "organisation":
            return same_org
        if visibility == "private":
            own = self.user_id is not None and owner_user_id == self.user_id
            return own or (same_org and self.is_admin)
        return False

    def haystack_filter(self) -> dict[str, Any] | None:
        """The scope as a Haystack filter on ``meta.visibility``, ``meta.org_id``, ``meta.owner_user_id``.

        ``None`` means no restriction (system scope). Backends translate it into their native query.
        """
        if self.system:
            return None
        public = {"field": "meta.visibility", "operator": "==", "value": "public"}
        if not self.authenticated:
            return public
        clauses: list[dict[str, Any]] = [
            {"field": "meta.visibility", "operator": "in", "value": ["public", "network"]},
            {
                "operator": "AND",
                "conditions": [
                    {"field": "meta.visibility", "operator": "==", "value": "organisation"},
                    {"field": "meta.org_id", "operator": "==", "value": self.org_id},
                ],
            },
        ]
        if self.user_id is not None:
            clauses.append(
                {
                    "operator": "AND",
                    "conditions": [
                        {"field": "meta.visibility", "operator": "==", "value": "private"},
                        {"field": "meta.owner_user_id", "operator": "==", "value": self.user_id},
                    ],
                }
            )
        if self.is_admin:
            clauses.append(
                {
                    "operator": "AND",
                    "conditions": [
                        {"field": "meta.visibility", "operator": "==", "value": "private"},
                        {"field": "meta.org_id", "operator": "==", "value": self.org_id},
                    ],
                }
            )
        return {"operator": "OR", "conditions": clauses}

    def sql_clause(
        self,
        visibility: ColumnElement[str] | InstrumentedAttribute[str],
        org_id: ColumnElement[int | None] | InstrumentedAttribute[int | None],
        owner_user_id: ColumnElement[int | None] | InstrumentedAttribute[int | None],
    ) -> ColumnElement[bool]:
        """The same rule as a SQLAlchemy condition on a table's visibility, org and owner columns."""
        if self.system:
            return true()
        if not self.authenticated:
            return visibility == "public"
        clauses = [
            visibility.in_(("public", "network")),
            and_(visibility == "organisation", org_id == self.org_id),
        ]
        if self.user_id is not None:
            clauses.append(and_(visibility == "private", owner_user_id == self.user_id))
        if self.is_admin:
            clauses.append(and_(visibility == "private", org_id == self.org_id))
        return or_(*clauses)
