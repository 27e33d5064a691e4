"""Edit a document: title, type, visibility, status, validity end and its sector and country classifications.

One use case for the API (``PATCH /api/documents/{id}``) and the page (``/documents/{id}/modifier``):

- who may edit (``may_edit``, ``may_classify``, ``may_change_status``): the document's owner and the
  contributors, curators and administrators of the owning organisation; classifications need the curator
  or admin role; readers never. A document the caller may not see is ``NotFoundError`` (as for reads);
  one they may see but not edit is ``PermissionDeniedError``.
- a new status is a lifecycle move (``ged.lifecycle``: the same table, transition row and
  ``document.transition`` audit event as ``POST /api/documents/{id}/transitions``; a status sent
  unchanged is no change); a move the user may not make is ``PermissionDeniedError``, one the table
  does not have ``ConflictError``. The edit page offers the status to curators and admins only
  (contributors submit from the document page).
- ``valid_until`` (the last day the document is valid; ``clear_valid_until`` removes it): a new date
  re-arms the expiry reminder (``ged.expiry``).
- a person's classification is a ``curator`` row; removing a concept leaves a ``curator`` rejection row
  (``taxonomy.classifications.REJECTED``), so no reclassification brings it back.
- the search index follows at once (``ged.reindex.reindex_document``: the stored passages get the new
  title and metadata; a new status also gives them a fresh ``indexed_at``, so alerts send a document
  once it is validated) and the edit is audited as ``document.update`` with what changed
  (``"status": [old, new]`` for a status change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ged.doctypes import resolve_doc_type
from ged.documents import DocumentView, get_document, visible_document
from ged.lifecycle import Move, apply_move, check_move
from ged.models import STATUSES, Document
from ged.proposals import retype_fields
from ged.reindex import reindex_document
from search.backend import SearchBackend
from taxonomy.classifications import classifications_of, record_curator_decision
from taxonomy.referential import Referential
from tfe.core.errors import PermissionDeniedError, ValidationError
from tfe.core.models import VISIBILITIES, User
from tfe.core.security import audit, identity

__all__ = [
    "CLASSIFY_ROLES",
    "EDIT_ROLES",
    "DocumentChanges",
    "EditResult",
    "edit_document",
    "editable_document",
    "may_change_status",
    "may_classify",
    "may_edit",
]

EDIT_ROLES = frozenset({"contributor", "curator", "admin"})
CLASSIFY_ROLES = frozenset({"curator", "admin"})
_SCHEMES = {"sectors": ("naf", "sector"), "countries": ("country", "country")}
MAX_TITLE = 500


@dataclass(frozen=True)
class DocumentChanges:
    """What to change; ``None`` and empty tuples leave a field as it is. Concepts are ids or names."""

    title: str | None = None
    doc_type: str | None = None
    visibility: str | None = None
    status: str | None = None
    status_comment: str | None = None
    valid_until: dt.date | None = None
    clear_valid_until: bool = False
    add_sectors: tuple[str, ...] = ()
    remove_sectors: tuple[str, ...] = ()
    add_countries: tuple[str, ...] = ()
    remove_countries: tuple[str, ...] = ()

    @property
    def classifies(self) -> bool:
        return bool(self.add_sectors or self.remove_sectors or self.add_countries or self.remove_countries)

    @property
    def empty(self) -> bool:
        return (
            self.title is None
            and self.doc_type is None
            and self.visibility is None
            and self.status is None
            and self.valid_until is None
            and not self.clear_valid_until
            and not self.classifies
        )


@dataclass(frozen=True)
class EditResult:
    """The document after the edit and what changed (the audit detail; empty when nothing did)."""

    view: DocumentView
    changed: dict[str, Any] = field(default_factory=dict)


def may_edit(user: User, document: Document) -> bool:
    """Owner or member of the owning organisation, with a role above reader."""
    if not user.active or user.role not in EDIT_ROLES:
        return False
    own = document.owner_user_id is not None and document.owner_user_id == user.id
    return own or (document.org_id is not None and document.org_id == user.org_id)


def may_classify(user: User, document: Document) -> bool:
    """``may_edit`` and a curator or admin role (classifications are the curators' work)."""
    return may_edit(user, document) and user.role in CLASSIFY_ROLES


def may_change_status(user: User, document: Document) -> bool:
    """Whether the edit page offers the status: to curators and admins (``may_classify``); the moves
    themselves are ``ged.lifecycle``'s (``allowed_moves``)."""
    return may_classify(user, document)


def editable_document(session: Session, doc_id: str, user: User) -> Document:
    """The document ``user`` may edit; ``NotFoundError`` if they cannot see it, else
    ``PermissionDeniedError`` if they cannot edit it."""
    document = visible_document(session, doc_id, identity.scope_for(user))
    if not may_edit(user, document):
        raise PermissionDeniedError(
            "editing a document needs the contributor, curator or admin role in its organisation"
        )
    return document


def _resolve(referential: Referential, value: str, scheme: str, what: str) -> str:
    concept_id = referential.resolve(value, scheme)
    if concept_id is None:
        raise ValidationError(f"unknown {what} {value.strip()!r}")
    return concept_id


def _assigned(session: Session, doc_id: str, scheme: str) -> list[str]:
    return [c.concept_id for c in classifications_of(session, "document", doc_id) if c.scheme == scheme]


def _decide(session: Session, doc_id: str, concept_id: str, *, keep: bool, user: User) -> None:
    """Replace every row of one concept on the document by the curator's decision (kept or rejected)."""
    record_curator_decision(session, "document", doc_id, [concept_id], keep=keep, user_id=user.id)


def _classify(
    session: Session,
    referential: Referential,
    user: User,
    doc_id: str,
    kind: str,
    add: Iterable[str],
    remove: Iterable[str],
) -> dict[str, Any]:
    scheme, what = _SCHEMES[kind]
    to_add = list(dict.fromkeys(_resolve(referential, v, scheme, what) for v in add))
    to_remove = list(dict.fromkeys(_resolve(referential, v, scheme, what) for v in remove))
    clash = set(to_add) & set(to_remove)
    if clash:
        raise ValidationError(f"cannot both add and remove {', '.join(sorted(clash))}")
    for concept_id in to_add:
        _decide(session, doc_id, concept_id, keep=True, user=user)
    for concept_id in to_remove:
        _decide(session, doc_id, concept_id, keep=False, user=user)
    session.flush()
    out: dict[str, Any] = {}
    if to_add:
        out[f"{kind}_added"] = to_add
    if to_remove:
        out[f"{kind}_removed"] = to_remove
    return out


def _retype(
    session: Session, referential: Referential, user: User, document: Document, value: str
) -> dict[str, Any]:
    """A new type is the document's ``doc_type`` and its one ``doctype`` classification (curator)."""
    concept_id = resolve_doc_type(referential, value)
    if concept_id is None or concept_id == document.doc_type:
        return {}
    old = document.doc_type
    for other in _assigned(session, document.id, "doctype"):
        if other != concept_id:
            _decide(session, document.id, other, keep=False, user=user)
    _decide(session, document.id, concept_id, keep=True, user=user)
    document.doc_type = concept_id
    out: dict[str, Any] = {"doc_type": [old, concept_id]}
    # typed fields (``ged.proposals.retype_fields``): same-name values valid in the new type are kept
    dropped = retype_fields(document, old, referential)
    if dropped:
        out["fields_dropped"] = dropped
    return out


def _revalidity(document: Document, changes: DocumentChanges) -> dict[str, Any]:
    """A new ``valid_until`` (midnight of its last valid day, naive UTC) re-arms the expiry reminder."""
    if changes.valid_until is not None and changes.clear_valid_until:
        raise ValidationError("give valid_until or clear it, not both")
    if changes.valid_until is not None:
        new: dt.datetime | None = dt.datetime.combine(changes.valid_until, dt.time())
    elif changes.clear_valid_until:
        new = None
    else:
        return {}
    old = document.valid_until
    if old == new:
        return {}
    document.valid_until = new
    document.expiry_reminded_at = None
    return {"valid_until": [old.date().isoformat() if old else None, new.date().isoformat() if new else None]}


def _simple_fields(document: Document, changes: DocumentChanges, user: User) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if changes.title is not None:
        title = " ".join(changes.title.split())
        if not title or len(title) > MAX_TITLE:
            raise ValidationError(f"the title must have 1 to {MAX_TITLE} characters")
        if title != document.title:
            out["title"] = [document.title, title]
            document.title = title
    if changes.visibility is not None and changes.visibility != document.visibility:
        if changes.visibility not in VISIBILITIES:
            raise ValidationError(f"unknown visibility {changes.visibility!r}")
        out["visibility"] = [document.visibility, changes.visibility]
        document.visibility = changes.visibility
        if changes.visibility == "private" and document.owner_user_id is None:
            document.owner_user_id = user.id  # a private document needs an owner who can still see it
            out["owner_user_id"] = [None, user.id]
    return out


def edit_document(
    session: Session,
    backend: SearchBackend,
    referential: Referential,
    user: User,
    doc_id: str,
    changes: DocumentChanges,
    *,
    channel: str,
) -> EditResult:
    """Apply ``changes`` for ``user`` in the caller's transaction, re-index and audit what changed.

    Checks come first (scope, role, names), so a refused edit changes nothing. The index is rewritten
    after the rows are flushed; if that fails the error propagates and the caller's transaction rolls back.
    """
    if changes.empty:
        raise ValidationError(
            "nothing to change: give a title, doc_type, visibility, status, valid_until, sectors or countries"
        )
    if changes.status is not None and changes.status not in STATUSES:
        raise ValidationError(f"unknown status {changes.status!r} (expected one of {', '.join(STATUSES)})")
    document = editable_document(session, doc_id, user)
    if changes.classifies and not may_classify(user, document):
        raise PermissionDeniedError("changing sectors or countries needs the curator or admin role")
    move: Move | None = None
    if changes.status is not None and changes.status != document.status:
        move = check_move(user, document, changes.status, changes.status_comment)
    changed = _simple_fields(document, changes, user)
    changed.update(_revalidity(document, changes))
    if changes.doc_type is not None:
        changed.update(_retype(session, referential, user, document, changes.doc_type))
    changed.update(
        _classify(session, referential, user, doc_id, "sectors", changes.add_sectors, changes.remove_sectors)
    )
    changed.update(
        _classify(
            session, referential, user, doc_id, "countries", changes.add_countries, changes.remove_countries
        )
    )
    if move is not None:
        apply_move(session, user, document, move, changes.status_comment, channel=channel)
        changed["status"] = [move.source, move.target]
    session.flush()
    if changed:
        reindex_document(session, backend, referential, document, status_changed="status" in changed)
        audit.record(
            session,
            "document.update",
            audit.Actor.of_user(user, channel),
            target_kind="document",
            target_id=doc_id,
            detail=changed,
        )
    return EditResult(get_document(session, doc_id, identity.scope_for(user)), changed)
