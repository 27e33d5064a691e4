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
    def everything(cls) -> AccessScope:
        """Scope for trusted internal jobs only (never for a request)."""
        return cls(system=True)

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

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
            return owner_user_id == self.user_id or (same_org and self.is_admin)
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
            {
                "operator": "AND",
                "conditions": [
                    {"field": "meta.visibility", "operator": "==", "value": "private"},
                    {"field": "meta.owner_user_id", "operator": "==", "value": self.user_id},
                ],
            },
        ]
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
