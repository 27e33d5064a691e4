"""Validity end dates: « expiré » badges and reminder e-mails to the owner before a document expires.

``Document.valid_until`` is the last day a document is valid (midnight, naive UTC); it is expired from
the next day on (``is_expired``; ``expired_ids`` for a page of search hits, one query).

``send_expiry_reminders`` (the scheduler's hourly housekeeping job, or a direct call) e-mails the owner of
each document whose end date is ``expiry_reminder_days`` days away or less (or already past) and that
was not reminded yet (``Document.expiry_reminded_at``): once per date, since a new ``valid_until``
clears the stamp (``ged.editing``). Archived documents, documents in the trash and documents without an
owner (or whose owner has no active account) get none. A message that cannot be sent leaves the stamp
unset, so the next run tries again; each sent reminder is audited (``document.expiry_reminder``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ged.models import Document
from tfe.core.db import session_scope
from tfe.core.mailer import Mail, MailError, MailNotConfigured, send_mail
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.settings import Settings

__all__ = ["ReminderReport", "expired_ids", "is_expired", "reminder_mail", "send_expiry_reminders"]

log = logging.getLogger(__name__)

_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def _today(now: dt.datetime | None) -> dt.date:
    moment = now or dt.datetime.now(dt.UTC)
    return (moment.astimezone(dt.UTC) if moment.tzinfo else moment).date()


def is_expired(valid_until: dt.datetime | dt.date | None, now: dt.datetime | None = None) -> bool:
    """Past its last valid day."""
    if valid_until is None:
        return False
    last = valid_until.date() if isinstance(valid_until, dt.datetime) else valid_until
    return _today(now) > last


def expired_ids(session: Session, ids: Iterable[str], now: dt.datetime | None = None) -> set[str]:
    """Those of ``ids`` that are expired documents (the caller already holds them in its scope)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return set()
    rows = session.execute(
        select(Document.id, Document.valid_until).where(
            Document.id.in_(wanted), Document.valid_until.is_not(None)
        )
    )
    return {doc_id for doc_id, until in rows if is_expired(until, now)}


def _date_fr(value: dt.date) -> str:
    return f"{value.day} {_MONTHS_FR[value.month - 1]} {value.year}"


def reminder_mail(
    settings: Settings, document: Document, owner: User, now: dt.datetime | None = None
) -> Mail:
    """The French reminder for ``owner`` about ``document`` (subject, body with the document's link)."""
    assert document.valid_until is not None
    last = document.valid_until.date()
    link = f"{settings.public_url.rstrip('/')}/documents/{document.id}"
    left = (last - _today(now)).days
    if left < 0:
        when = f"a expiré le {_date_fr(last)}"
    elif left == 0:
        when = f"expire aujourd'hui ({_date_fr(last)})"
    else:
        when = f"expire le {_date_fr(last)}, dans {left} jour{'s' if left > 1 else ''}"
    title = " ".join(document.title.split())
    text = (
        f"Bonjour {owner.name or owner.email},\n\n"
        f"Le document « {title} », dont vous êtes propriétaire, {when}.\n\n"
        "Vérifiez s'il est toujours à jour : modifiez sa date de validité, déposez une nouvelle version "
        "ou archivez-le.\n\n"
        f"Ouvrir le document : {link}\n\n"
        "— La plateforme Team France Export (message automatique, merci de ne pas y répondre)\n"
    )
    return Mail(to=owner.email, subject=f"[TFE] Document bientôt expiré : {title[:150]}", text=text)


@dataclass
class ReminderReport:
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    not_configured: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"sent": self.sent, "failed": self.failed, "not_configured": self.not_configured}


def _due(session: Session, settings: Settings, now: dt.datetime | None) -> list[str]:
    horizon = dt.datetime.combine(_today(now) + dt.timedelta(days=settings.expiry_reminder_days), dt.time())
    return list(
        session.scalars(
            select(Document.id)
            .where(
                Document.valid_until.is_not(None),
                Document.valid_until <= horizon,
                Document.expiry_reminded_at.is_(None),
                Document.deleted_at.is_(None),
                Document.status != "archived",
                Document.owner_user_id.is_not(None),
            )
            .order_by(Document.valid_until, Document.id)
        )
    )


def send_expiry_reminders(
    session_factory: sessionmaker[Session], settings: Settings, *, now: dt.datetime | None = None
) -> ReminderReport:
    """E-mail the owners of documents expiring soon (see the module docstring); what was sent."""
    report = ReminderReport()
    with session_scope(session_factory) as session:
        due = _due(session, settings, now)
    for doc_id in due:
        with session_scope(session_factory) as session:
            document = session.get(Document, doc_id)
            if document is None or document.expiry_reminded_at is not None or document.valid_until is None:
                continue
            owner = session.get(User, document.owner_user_id) if document.owner_user_id else None
            if owner is None or not owner.active or not owner.email:
                continue
            try:
                send_mail(settings, reminder_mail(settings, document, owner, now))
            except MailNotConfigured as exc:
                log.warning("expiry reminders not sent: %s", exc.message)
                report.not_configured = True
                return report
            except MailError as exc:
                log.warning("expiry reminder for document=%s not sent: %s", doc_id, exc.message)
                report.failed[doc_id] = exc.message
                continue
            moment = now or dt.datetime.now(dt.UTC)
            document.expiry_reminded_at = moment.astimezone(dt.UTC).replace(tzinfo=None)
            audit.record(
                session,
                "document.expiry_reminder",
                audit.Actor.system(),
                target_kind="document",
                target_id=doc_id,
                detail={"to_user_id": owner.id, "valid_until": document.valid_until.date().isoformat()},
            )
            report.sent.append(doc_id)
    if report.sent or report.failed:
        log.info("expiry reminders: %d sent, %d failed", len(report.sent), len(report.failed))
    return report
