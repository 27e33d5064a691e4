"""A document's lifecycle: draft → in_review → validated → archived, and who may make each move.

The moves are data (``MOVES``; the table is also in docs/decisions.md). Roles are those of the owning
organisation; the owner may make the moves marked ``owner`` whatever their role (above nothing: an
inactive account makes none):

============  ============  ===============================  ==================================
from          to            who                              button
============  ============  ===============================  ==================================
draft         in_review     owner, contributor, curator,     « Soumettre pour relecture »
                            admin
in_review     validated     curator, admin                   « Valider »
draft         validated     curator, admin                   « Valider »
in_review     draft         curator, admin (comment needed)  « Renvoyer en brouillon »
validated     archived      owner, curator, admin            « Archiver »
archived      validated     curator, admin                   « Désarchiver »
============  ============  ===============================  ==================================

``transition`` checks the move (an unknown status is ``ValidationError``; a move the table does not have
is ``ConflictError``; one the user may not make is ``PermissionDeniedError``; a document the user cannot
see is ``NotFoundError``), records a ``DocumentTransition`` row, sets the retention review date on
validation (``ged.retention``), re-indexes the document at once (its passages carry the status, with a
fresh ``indexed_at``, so alerts see a newly validated document) and audits ``document.transition`` with
``from`` and ``to`` (the comment itself stays in the transition row, sealed, not in the audit trail).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ged import documents
from ged.documents import DocumentView, get_document
from ged.models import STATUSES, Document, DocumentTransition
from ged.reindex import reindex_document
from ged.retention import review_due
from search.backend import SearchBackend
from taxonomy.referential import Referential
from tfe.core.errors import ConflictError, PermissionDeniedError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit, identity

__all__ = [
    "MAX_COMMENT",
    "MOVES",
    "Move",
    "TransitionView",
    "allowed_moves",
    "apply_move",
    "check_move",
    "history",
    "status_fr",
    "transition",
    "validate_imported",
    "visible_document",
]

MAX_COMMENT = 2000
_CURATORS = frozenset({"curator", "admin"})


@dataclass(frozen=True)
class Move:
    """One allowed move: from, to, the organisation roles that may make it, and its button."""

    source: str
    target: str
    roles: frozenset[str]
    owner: bool  # the document's owner may make it too
    action: str  # stable name (forms, tests)
    label: str  # the French button
    comment_required: bool = False


MOVES: tuple[Move, ...] = (
    Move(
        "draft",
        "in_review",
        frozenset({"contributor", *_CURATORS}),
        True,
        "submit",
        "Soumettre pour relecture",
    ),
    Move("in_review", "validated", _CURATORS, False, "validate", "Valider"),
    Move("draft", "validated", _CURATORS, False, "validate", "Valider"),
    Move("in_review", "draft", _CURATORS, False, "send_back", "Renvoyer en brouillon", comment_required=True),
    Move("validated", "archived", _CURATORS, True, "archive", "Archiver"),
    Move("archived", "validated", _CURATORS, False, "unarchive", "Désarchiver"),
)

_STATUS_FR = {"draft": "brouillon", "in_review": "en relecture", "validated": "validé", "archived": "archivé"}


@dataclass(frozen=True)
class TransitionView:
    from_status: str
    to_status: str
    user_id: int | None
    user_name: str | None
    comment: str | None
    created_at: dt.datetime | None

    def as_dict(self) -> dict[str, object]:
        return {
            "from": self.from_status,
            "to": self.to_status,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "comment": self.comment,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


def _may(user: User, document: Document, move: Move) -> bool:
    if not user.active:
        return False
    if move.owner and document.owner_user_id is not None and document.owner_user_id == user.id:
        return True
    return document.org_id is not None and document.org_id == user.org_id and user.role in move.roles


def allowed_moves(user: User, document: Document) -> list[Move]:
    """The moves ``user`` may make from the document's current status (its buttons), table order."""
    return [m for m in MOVES if m.source == document.status and _may(user, document, m)]


def visible_document(session: Session, doc_id: str, user: User) -> Document:
    """The document if ``user`` may see it (status and trash rules included), else ``NotFoundError``."""
    return documents.visible_document(session, doc_id, identity.scope_for(user))


def check_move(user: User, document: Document, to_status: str, comment: str | None) -> Move:
    """The move from the document's status to ``to_status`` if ``user`` may make it; else a clear error."""
    if to_status not in STATUSES:
        raise ValidationError(f"unknown status {to_status!r} (expected one of {', '.join(STATUSES)})")
    if to_status == document.status:
        raise ConflictError(f"the document is already {to_status}")
    move = next((m for m in MOVES if m.source == document.status and m.target == to_status), None)
    if move is None:
        possible = [m.target for m in MOVES if m.source == document.status]
        raise ConflictError(
            f"a document cannot go from {document.status} to {to_status} "
            f"(from {document.status}: {', '.join(possible) or 'nothing'})"
        )
    if not _may(user, document, move):
        who = "its owner or " if move.owner else ""
        raise PermissionDeniedError(
            f"moving a document from {move.source} to {move.target} is for {who}"
            f"the {', '.join(sorted(move.roles))} roles of its organisation"
        )
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise ValidationError(f"the comment must have at most {MAX_COMMENT} characters")
    if move.comment_required and not text:
        raise ValidationError("sending a document back to draft needs a comment saying what to change")
    return move


def apply_move(
    session: Session,
    user: User | None,
    document: Document,
    move: Move,
    comment: str | None,
    *,
    channel: str,
    now: dt.datetime | None = None,
) -> dict[str, object]:
    """Make a checked move: the status, the transition row, the review date and the audit event.

    ``user`` ``None`` is a system move (``validate_imported``). The caller re-indexes the document
    (``reindex_document(..., status_changed=True)``).
    """
    moment = now or dt.datetime.now(dt.UTC)
    document.status = move.target
    if move.target == "validated" and move.source != "archived":
        document.review_due_at = review_due(document.doc_type, moment)
    text = (comment or "").strip() or None
    session.add(
        DocumentTransition(
            document_id=document.id,
            from_status=move.source,
            to_status=move.target,
            user_id=user.id if user is not None else None,
            comment=text,
        )
    )
    session.flush()
    detail: dict[str, object] = {"from": move.source, "to": move.target, "commented": text is not None}
    audit.record(
        session,
        "document.transition",
        audit.Actor.of_user(user, channel) if user is not None else audit.Actor.system(channel),
        target_kind="document",
        target_id=document.id,
        detail=detail,
    )
    return detail


def validate_imported(
    session: Session,
    backend: SearchBackend,
    referential: Referential,
    doc_ids: list[str],
    *,
    channel: str,
    comment: str = "import de documents déjà relus",
) -> int:
    """Validate the drafts among ``doc_ids`` that a trusted import brings as already reviewed (the demo
    corpus): a system move draft → validated each, recorded, audited and re-indexed; how many moved."""
    move = next(m for m in MOVES if (m.source, m.target) == ("draft", "validated"))
    moved = 0
    for doc_id in dict.fromkeys(doc_ids):
        document = session.get(Document, doc_id)
        if document is None or document.deleted_at is not None or document.status != "draft":
            continue
        apply_move(session, None, document, move, comment, channel=channel)
        reindex_document(session, backend, referential, document, status_changed=True)
        moved += 1
    return moved


def transition(
    session: Session,
    backend: SearchBackend,
    referential: Referential,
    user: User,
    doc_id: str,
    to_status: str,
    comment: str | None = None,
    *,
    channel: str,
) -> DocumentView:
    """Move the document to ``to_status`` for ``user`` (in the caller's transaction); the document after."""
    document = visible_document(session, doc_id, user)
    move = check_move(user, document, to_status, comment)
    apply_move(session, user, document, move, comment, channel=channel)
    reindex_document(session, backend, referential, document, status_changed=True)
    return get_document(session, doc_id, identity.scope_for(user))


def status_fr(status: str) -> str:
    """The French name of a status in running text (« validé »)."""
    return _STATUS_FR.get(status, status)


def history(session: Session, user: User, doc_id: str) -> list[TransitionView]:
    """The document's moves, oldest first, if ``user`` may see it."""
    visible_document(session, doc_id, user)
    rows = session.execute(
        select(DocumentTransition, User.name, User.email)
        .outerjoin(User, User.id == DocumentTransition.user_id)
        .where(DocumentTransition.document_id == doc_id)
        .order_by(DocumentTransition.created_at, DocumentTransition.id)
    ).all()
    return [
        TransitionView(
            from_status=t.from_status,
            to_status=t.to_status,
            user_id=t.user_id,
            user_name=name or email,
            comment=t.comment,
            created_at=t.created_at,
        )
        for t, name, email in rows
    ]
