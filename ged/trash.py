"""The trash: deleting a document moves it there; it is restorable for ``trash_retention_days``, then purged.

- ``trash_document``: who may edit the document (``ged.editing.may_edit``) may delete it. It gets
  ``deleted_at`` and ``deleted_by_user_id``, its passages leave the index at once (``delete_parent``: a
  document in the trash is found by no search, alert or suggestion, whatever the filter) and no read sees
  it any more (``AccessScope.can_see(deleted=True)``); audited ``document.trash``.
- ``trash_list``: what the user may restore: their organisation's documents in the trash for its
  contributors and curators (other members' private documents aside), all of them for its administrators,
  and their own documents.
- ``restore_document``: same rule (anyone else is told the document is not in the trash: 404), until
  the purge erases it (past the delay, within the hour); the rows are as they were, the passages are
  rebuilt from the stored text of the latest version (vectors back-filled), audited ``document.restore``.
- ``purge_expired``: documents in the trash for longer than the delay are erased for good by
  ``ged.erasure.erase_document`` (crypto-shredding, rows, index, signed receipt), behind ``erase`` here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from ged.editing import may_edit
from ged.models import Document
from ged.reindex import reindex_document
from search.backend import SearchBackend
from taxonomy.referential import Referential
from tfe.core.db import session_scope
from tfe.core.errors import BackendError, NotFoundError, PermissionDeniedError
from tfe.core.models import User
from tfe.core.security import audit, identity

__all__ = [
    "PURGE_REASON",
    "Eraser",
    "PurgeReport",
    "TrashEntry",
    "erase",
    "eraser",
    "may_restore",
    "purge_expired",
    "restore_document",
    "trash_document",
    "trash_list",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrashEntry:
    id: str
    title: str
    org_id: int | None
    deleted_at: dt.datetime
    deleted_by_user_id: int | None
    deleted_by: str | None
    purge_at: dt.datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "org_id": self.org_id,
            "deleted_at": self.deleted_at.isoformat(),
            "deleted_by_user_id": self.deleted_by_user_id,
            "deleted_by": self.deleted_by,
            "purge_at": self.purge_at.isoformat(),
        }


def _naive_utc(when: dt.datetime | None) -> dt.datetime:
    moment = when or dt.datetime.now(dt.UTC)
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


def may_restore(user: User, document: Document) -> bool:
    """``may_edit``, and another member's private document only for the organisation's administrators."""
    if not may_edit(user, document):
        return False
    if document.visibility != "private" or document.owner_user_id == user.id:
        return True
    return user.role == "admin" and document.org_id is not None and document.org_id == user.org_id


def _seen(user: User, document: Document) -> bool:
    """Whether ``user`` could see the document were it not in the trash (else: reported as missing)."""
    return identity.scope_for(user).can_see(
        visibility=document.visibility,
        org_id=document.org_id,
        owner_user_id=document.owner_user_id,
        status=document.status,
    )


def _drop_passages(backend: SearchBackend, doc_id: str) -> None:
    try:
        backend.delete_parent(doc_id)
        backend.commit()
    except BackendError:
        raise
    except Exception as exc:
        raise BackendError(f"could not remove document {doc_id} from the index: {exc}") from exc


def trash_document(
    session: Session,
    backend: SearchBackend,
    user: User,
    doc_id: str,
    *,
    retention_days: int,
    channel: str,
    now: dt.datetime | None = None,
) -> TrashEntry:
    """Move the document to the trash (in the caller's transaction) and drop its passages."""
    document = session.get(Document, doc_id)
    if document is None or document.deleted_at is not None or not _seen(user, document):
        raise NotFoundError(f"unknown document {doc_id!r}")
    if not may_edit(user, document):
        raise PermissionDeniedError(
            "deleting a document needs to own it or the contributor, curator or admin role "
            "in its organisation"
        )
    moment = _naive_utc(now)
    document.deleted_at = moment
    document.deleted_by_user_id = user.id
    session.flush()
    _drop_passages(backend, doc_id)
    audit.record(
        session,
        "document.trash",
        audit.Actor.of_user(user, channel),
        target_kind="document",
        target_id=doc_id,
    )
    log.info("document=%s moved to the trash by user=%s", doc_id, user.id)
    return _entry(document, user.name or user.email, retention_days)


def _entry(document: Document, deleted_by: str | None, retention_days: int) -> TrashEntry:
    assert document.deleted_at is not None
    return TrashEntry(
        id=document.id,
        title=document.title,
        org_id=document.org_id,
        deleted_at=document.deleted_at,
        deleted_by_user_id=document.deleted_by_user_id,
        deleted_by=deleted_by,
        purge_at=document.deleted_at + dt.timedelta(days=retention_days),
    )


def trash_list(session: Session, user: User, *, retention_days: int) -> list[TrashEntry]:
    """The documents in the trash ``user`` may restore, most recently deleted first."""
    if not user.active:
        return []
    mine = [Document.owner_user_id == user.id]
    if user.org_id is not None:
        mine.append(Document.org_id == user.org_id)
    rows = session.execute(
        select(Document, User.name, User.email)
        .outerjoin(User, User.id == Document.deleted_by_user_id)
        .where(Document.deleted_at.is_not(None), or_(*mine))
        .order_by(Document.deleted_at.desc(), Document.id)
    ).all()
    return [
        _entry(document, name or email, retention_days)
        for document, name, email in rows
        if may_restore(user, document)
    ]


def restore_document(
    session: Session,
    backend: SearchBackend,
    referential: Referential,
    user: User,
    doc_id: str,
    *,
    channel: str,
) -> Document:
    """Take the document out of the trash (in the caller's transaction) and index it again."""
    document = session.get(Document, doc_id)
    # the trash is seen by those who may restore from it only: for anyone else, nothing is there
    if document is None or document.deleted_at is None or not may_restore(user, document):
        raise NotFoundError(f"document {doc_id!r} is not in the trash")
    deleted_at = document.deleted_at
    document.deleted_at = None
    document.deleted_by_user_id = None
    session.flush()
    reindex_document(session, backend, referential, document)
    audit.record(
        session,
        "document.restore",
        audit.Actor.of_user(user, channel),
        target_kind="document",
        target_id=doc_id,
        detail={"deleted_at": deleted_at.isoformat()},
    )
    return document


PURGE_REASON = "trash retention elapsed"
Eraser = Callable[[str], Any]
"""Erases one document for good, given its id (the composition root's ``tfe.app.erasure.erase_document``
with the operator's signer; ``eraser`` below without one)."""


def eraser(session_factory: sessionmaker[Session], backend: SearchBackend, blob_store: Any) -> Eraser:
    """An ``Eraser`` over ``ged.erasure.erase_document`` (unsigned receipts: tests, tools)."""
    return lambda doc_id: erase(session_factory, backend, blob_store, doc_id)


def erase(
    session_factory: sessionmaker[Session], backend: SearchBackend, blob_store: Any, doc_id: str
) -> Any:
    """Erase one document for good (``ged.erasure.erase_document``); its receipt."""
    from ged import erasure  # imported when used: the erasure module is the purge's only caller here

    return erasure.erase_document(
        session_factory,
        backend,
        blob_store,
        doc_id,
        actor=audit.Actor.system(),
        reason=PURGE_REASON,
    )


@dataclass
class PurgeReport:
    purged: list[str]
    failed: dict[str, str]

    def as_dict(self) -> dict[str, object]:
        return {"purged": self.purged, "failed": self.failed}


def purge_expired(
    session_factory: sessionmaker[Session],
    erase_one: Eraser,
    *,
    retention_days: int,
    now: dt.datetime | None = None,
    limit: int = 500,
) -> PurgeReport:
    """Erase every document in the trash for ``retention_days`` or more (at most ``limit`` per call).

    One document's failure is logged and reported; the others are still purged (next run retries it).
    """
    cutoff = _naive_utc(now) - dt.timedelta(days=retention_days)
    with session_scope(session_factory) as session:
        due = list(
            session.scalars(
                select(Document.id)
                .where(Document.deleted_at.is_not(None), Document.deleted_at <= cutoff)
                .order_by(Document.deleted_at)
                .limit(limit)
            )
        )
    report = PurgeReport([], {})
    for doc_id in due:
        try:
            erase_one(doc_id)
        except Exception as exc:  # one document must not stop the purge of the others
            log.warning("purge of document=%s failed: %s", doc_id, exc)
            report.failed[doc_id] = f"{type(exc).__name__}: {exc}"[:300]
        else:
            report.purged.append(doc_id)
    if due:
        log.info("trash purge: %d erased, %d failed", len(report.purged), len(report.failed))
    return report
