"""The check-out lock of a document: who holds it and until when (``Document.locked_by_user_id``,
``locked_until``).

``take_lock`` gives the document to one person for a number of minutes (taking it again extends it;
someone else's lock in force is 409 ``DocumentLockedError``, whose message names the holder and the
time, in Paris time and ISO 8601 UTC). ``release_lock`` frees it: its holder, or an admin who may edit
the document. An expired lock is no lock (``lock_state`` answers ``None``); ``ged.versions`` refuses a
version from anyone but the holder while it holds and releases it on the holder's version. Both writes
are audited (``document.lock``, ``document.unlock``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ged.documents import visible_document
from ged.editing import editable_document, may_edit
from ged.models import Document
from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, PermissionDeniedError, ValidationError
from tfe.core.models import User
from tfe.core.security import audit, identity

__all__ = [
    "MAX_LOCK_MINUTES",
    "DocumentLockedError",
    "LockView",
    "lock_state",
    "not_deleted",
    "paris_time",
    "release_lock",
    "take_lock",
]

MAX_LOCK_MINUTES = 10080  # one week
PARIS = ZoneInfo("Europe/Paris")


def _aware(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def paris_time(value: dt.datetime) -> str:
    """``02/12/2026 à 14:30`` in Paris time."""
    return _aware(value).astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


@dataclass(frozen=True)
class LockView:
    """An active check-out lock: who holds it and until when (UTC)."""

    user_id: int
    user: str  # name, else e-mail
    email: str | None
    until: dt.datetime

    def describe_fr(self) -> str:
        return f"verrouillé par {self.user} jusqu'au {paris_time(self.until)} (heure de Paris)"

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "user": self.user, "until": self.until.isoformat()}


class DocumentLockedError(ConflictError):
    """409: the document is checked out by someone else; ``lock`` says by whom and until when."""

    def __init__(self, lock: LockView) -> None:
        super().__init__(f"Document {lock.describe_fr()} ; until {lock.until.isoformat()}.")
        self.lock = lock


def lock_state(session: Session, document: Document, now: dt.datetime | None = None) -> LockView | None:
    """The document's lock if it still holds (an expired one is ``None``)."""
    if document.locked_by_user_id is None or document.locked_until is None:
        return None
    until = _aware(document.locked_until)
    if until <= (now or utcnow()):
        return None
    holder = session.get(User, document.locked_by_user_id)
    name = (
        (holder.name or holder.email) if holder is not None else f"utilisateur {document.locked_by_user_id}"
    )
    return LockView(document.locked_by_user_id, name, holder.email if holder else None, until)


def not_deleted(document: Document) -> None:
    if document.deleted_at is not None:
        raise ConflictError("le document est dans la corbeille : restaurez-le avant de le modifier")


def take_lock(session: Session, user: User, doc_id: str, minutes: int, *, channel: str) -> LockView:
    """Lock the document for ``user`` for ``minutes``, in the caller's transaction (see the module)."""
    if not 1 <= minutes <= MAX_LOCK_MINUTES:
        raise ValidationError(f"the lock lasts 1 to {MAX_LOCK_MINUTES} minutes")
    document = editable_document(session, doc_id, user)
    not_deleted(document)
    held = lock_state(session, document)
    if held is not None and held.user_id != user.id:
        raise DocumentLockedError(held)
    until = utcnow() + dt.timedelta(minutes=minutes)
    document.locked_by_user_id, document.locked_until = user.id, until
    session.flush()
    view = lock_state(session, document)
    assert view is not None
    audit.record(
        session,
        "document.lock",
        audit.Actor.of_user(user, channel),
        target_kind="document",
        target_id=doc_id,
        detail={"until": until.isoformat(), "minutes": minutes},
    )
    return view


def release_lock(session: Session, user: User, doc_id: str, *, channel: str) -> LockView | None:
    """Free the document's lock, in the caller's transaction; the lock released, or ``None``."""
    document = visible_document(session, doc_id, identity.scope_for(user))
    held = lock_state(session, document)
    if (
        held is not None
        and held.user_id != user.id
        and not (user.role == "admin" and may_edit(user, document))
    ):
        raise PermissionDeniedError(
            f"Seuls la personne qui a verrouillé le document ou un administrateur de son "
            f"organisation peuvent le déverrouiller ({held.describe_fr()})."
        )
    if held is None and not may_edit(user, document):
        raise PermissionDeniedError("unlocking a document needs the right to edit it")
    document.locked_by_user_id, document.locked_until = None, None
    audit.record(
        session,
        "document.unlock",
        audit.Actor.of_user(user, channel),
        target_kind="document",
        target_id=doc_id,
        detail={"released": held is not None, "holder": held.user_id if held else None},
    )
    return held
