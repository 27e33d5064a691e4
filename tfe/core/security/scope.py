"""Access scope: what a caller may see, expressed once and applied inside every backend query.

Visibility levels of a document or item:

- ``public``: anyone, including anonymous callers;
- ``network``: any signed-in user of the network;
- ``organisation``: members of the owning organisation;
- ``private``: the owner only.

Administrators see everything of their own organisation (including its members' private documents);
nobody sees another organisation's private or organisation-only content.

Documents also have a lifecycle status (``ged.lifecycle``: draft, in_review, validated, archived) and may be
in the trash. On top of the visibility rule:

- a draft or a document in review is seen by its own organisation (and its owner) only, whatever its
  visibility: other organisations see validated (and archived) documents only;
- archived documents are read by id as validated ones are, but leave searches unless the caller asked
  for them (``include_archived``, « Inclure les archives »);
- a document in the trash is seen by nobody but system jobs (the trash has its own queries, ``ged.trash``;
  its passages are also removed from the index).

Records without a status (watch items, passages written before statuses existed) follow the visibility rule
alone. ``can_see`` and ``sql_clause`` apply the status rule when given the status (and deletion) of the
record; ``document_filter`` is its search form (``search.filters.visible_filter`` adds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
    include_archived: bool = False  # a search that asked for archived documents too
    national: bool = False  # the caller's organisation is the national agency (network-wide administration)

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

    @property
    def manages_network(self) -> bool:
        """An internal job, or an administrator of the national agency: network-wide catalogue rights.
        An administrator of any other organisation administers their own organisation only."""
        return self.system or (self.is_admin and self.national)

    def with_archived(self, include: bool = True) -> AccessScope:
        """The same caller, asking (or not) for archived documents in searches."""
        return replace(self, include_archived=include)

    def _status_allows(self, status: str, org_id: int | None, owner_user_id: int | None) -> bool:
        """The status rule for one document read by id (archived documents are readable)."""
        if self.system or status not in UNPUBLISHED:
            return True
        same_org = org_id is not None and org_id == self.org_id
        own = self.user_id is not None and owner_user_id == self.user_id
        return same_org or own

    def can_see(
        self,
        *,
        visibility: str,
        org_id: int | None,
        owner_user_id: int | None,
        status: str | None = None,
        deleted: bool = False,
    ) -> bool:
        """The same rule as ``haystack_filter`` for a single record (used for direct reads by id).

        ``status`` (documents): drafts and documents in review stay within their organisation;
        ``deleted``: a document in the trash is seen by system jobs only.
        """
        if deleted and not self.system:
            return False
        if status is not None and not self._status_allows(status, org_id, owner_user_id):
            return False
        return self._visible(visibility, org_id, owner_user_id)

    def _visible(self, visibility: str, org_id: int | None, owner_user_id: int | None) -> bool:
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

    def document_filter(self) -> dict[str, Any] | None:
        """The status rule as a Haystack filter on ``meta.status``, ``meta.org_id``, ``meta.owner_user_id``.

        Passages without a status (watch items) pass (``not in`` matches a missing field); drafts and
        documents in review pass for their organisation and owner; archived ones only when the caller
        asked for them (``include_archived``). ``None``: no restriction (system scope).
        """
        if self.system:
            return None
        hidden = list(UNPUBLISHED) if self.include_archived else [*UNPUBLISHED, "archived"]
        clauses: list[dict[str, Any]] = [{"field": "meta.status", "operator": "not in", "value": hidden}]
        not_archived = {"field": "meta.status", "operator": "!=", "value": "archived"}
        if self.org_id is not None:
            clauses.append(
                {
                    "operator": "AND",
                    "conditions": [
                        {"field": "meta.org_id", "operator": "==", "value": self.org_id},
                        not_archived,
                    ],
                }
            )
        if self.user_id is not None:
            clauses.append(
                {
                    "operator": "AND",
                    "conditions": [
                        {"field": "meta.owner_user_id", "operator": "==", "value": self.user_id},
                        not_archived,
                    ],
                }
            )
        return clauses[0] if len(clauses) == 1 else {"operator": "OR", "conditions": clauses}

    def sql_clause(
        self,
        visibility: ColumnElement[str] | InstrumentedAttribute[str],
        org_id: ColumnElement[int | None] | InstrumentedAttribute[int | None],
        owner_user_id: ColumnElement[int | None] | InstrumentedAttribute[int | None],
        *,
        status: ColumnElement[str] | InstrumentedAttribute[str] | None = None,
        deleted_at: ColumnElement[Any] | InstrumentedAttribute[Any] | None = None,
    ) -> ColumnElement[bool]:
        """The same rule as a SQLAlchemy condition on a table's visibility, org and owner columns.

        With ``status`` and ``deleted_at`` (documents) it is ``can_see`` with the status and trash rules.
        """
        if self.system:
            return true()
        rule = self._visibility_clause(visibility, org_id, owner_user_id)
        extra: list[ColumnElement[bool]] = []
        if deleted_at is not None:
            extra.append(deleted_at.is_(None))
        if status is not None:
            mine: list[ColumnElement[bool]] = [status.not_in(UNPUBLISHED)]
            if self.org_id is not None:
                mine.append(org_id == self.org_id)
            if self.user_id is not None:
                mine.append(owner_user_id == self.user_id)
            extra.append(or_(*mine) if len(mine) > 1 else mine[0])
        return and_(rule, *extra) if extra else rule

    def _visibility_clause(
        self,
        visibility: ColumnElement[str] | InstrumentedAttribute[str],
        org_id: ColumnElement[int | None] | InstrumentedAttribute[int | None],
        owner_user_id: ColumnElement[int | None] | InstrumentedAttribute[int | None],
    ) -> ColumnElement[bool]:
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


UNPUBLISHED = ("draft", "in_review")
"""Statuses seen by the document's own organisation (and owner) only."""
