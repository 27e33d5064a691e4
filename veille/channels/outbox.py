"""The local outbox: where alert e-mails go when no SMTP relay is configured (``TFE_SMTP_URL`` unset).

Decision: the e-mail channel is *replaced*, not bent. ``veille.channels.registry.available`` gives an
``OutboxChannel`` under the name ``email`` when there is no relay and a database is at hand; it composes
exactly the message ``EmailChannel`` would send (``veille.channels.email.compose``) and stores it, headers,
text, HTML and the raw RFC 5322 source, as an ``AlertMessage`` with channel ``outbox`` and status
``sent``. The dispatcher's own ``email`` message rows stay as they are (the subscriber's history); the
``outbox`` rows are what an administrator reads at ``/admin/boite-d-envoi``, so the demo shows a real
digest without a mail server.

``send`` writes in a session of its own and commits: call it outside a write transaction, as for any
channel. ``list_messages`` and ``read_message`` are the outbox's read side, limited to one organisation's
subscribers unless ``org_id`` is ``None`` (the national administrators).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tfe.core.db import utcnow
from tfe.core.errors import NotFoundError
from tfe.core.models import User
from tfe.core.settings import Settings
from veille.alerts.digest import Digest
from veille.alerts.models import AlertMessage, Subscription
from veille.channels.base import SendResult
from veille.channels.email import compose

__all__ = ["OUTBOX", "OutboxChannel", "OutboxPage", "headers_of", "list_messages", "read_message", "sent_at"]

OUTBOX = "outbox"  # the AlertMessage.channel of outbox rows

SessionFactory = Callable[[], Session]


class OutboxChannel:
    """Stands in for ``EmailChannel`` without a relay: each e-mail is kept, complete, in the database."""

    name = "email"

    def __init__(self, settings: Settings, session_factory: SessionFactory) -> None:
        self.settings = settings
        self.session_factory = session_factory

    def send(self, digest: Digest, *, target: str | None, secret: str | None = None) -> SendResult:
        if not digest.entries:
            raise ValueError("an empty digest is never sent")
        recipient = (target or "").strip()
        if not recipient or "@" not in recipient or any(c.isspace() for c in recipient):
            return SendResult("permanent", "aucune adresse e-mail valide pour ce destinataire")
        message = compose(digest, self.settings, recipient)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        row = AlertMessage(
            subscription_id=digest.subscription_id,
            channel=OUTBOX,
            status="sent",
            attempts=1,
            recipient=recipient,
            subject=str(message["Subject"]),
            body_text=text.get_content() if text is not None else "",
            body_html=html.get_content() if html is not None else "",
            payload={
                "headers": [[k, str(v)] for k, v in message.items()],
                "raw": message.as_string(),
                "digest": digest.as_dict(),
            },
            sent_at=utcnow(),
        )
        try:
            session = self.session_factory()
            try:
                session.add(row)
                session.commit()
                row_id = row.id
            finally:
                session.close()
        except SQLAlchemyError as exc:
            return SendResult("temporary", f"boîte d'envoi indisponible ({type(exc).__name__})")
        return SendResult("sent", f"boîte d'envoi n° {row_id}")


@dataclass(frozen=True)
class OutboxPage:
    total: int
    messages: list[AlertMessage]


def _scoped(org_id: int | None) -> Any:
    query = select(AlertMessage).where(AlertMessage.channel == OUTBOX)
    if org_id is not None:
        query = (
            query.join(Subscription, Subscription.id == AlertMessage.subscription_id)
            .join(User, User.id == Subscription.user_id)
            .where(User.org_id == org_id)
        )
    return query


def list_messages(session: Session, *, org_id: int | None, limit: int = 50, offset: int = 0) -> OutboxPage:
    """Outbox messages, newest first; only to ``org_id``'s users unless ``org_id`` is ``None``."""
    query = _scoped(org_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AlertMessage.created_at.desc(), AlertMessage.id.desc()).limit(limit).offset(offset)
    )
    return OutboxPage(total=int(total), messages=list(rows))


def read_message(session: Session, message_id: int, *, org_id: int | None) -> AlertMessage:
    """One outbox message (``NotFoundError`` if unknown or outside ``org_id``)."""
    row = session.scalar(_scoped(org_id).where(AlertMessage.id == message_id))
    if row is None:
        raise NotFoundError(f"message {message_id} introuvable dans la boîte d'envoi")
    return row


def headers_of(message: AlertMessage) -> list[tuple[str, str]]:
    """The stored headers of an outbox message, in order."""
    stored = (message.payload or {}).get("headers") or []
    return [
        (str(pair[0]), str(pair[1])) for pair in stored if isinstance(pair, list | tuple) and len(pair) == 2
    ]


def sent_at(message: AlertMessage) -> dt.datetime:
    return message.sent_at or message.created_at
