"""The watch side of an erasure: forget what alerts recorded about erased documents or accounts.

``forget_targets`` removes the delivery ledger's rows that name the targets and takes them out of the
prepared alert messages that quote them (the digest's ``payload`` entries and the plain-text body are
rebuilt without them; a message left with no entry is deleted). ``forget_users`` removes the saved
searches and alert subscriptions of accounts being erased, with their deliveries and messages.

The GED never imports the watch: the composition layer (``tfe.app.erasure``) passes these to
``ged.erasure`` as its ``forget`` hook.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from search.models import SavedSearch
from veille.alerts.dispatch import digest_from_payload, subject_of, text_of
from veille.alerts.models import AlertMessage, Delivery, Subscription

__all__ = ["forget_targets", "forget_users"]


def _rowcount(session: Session, stmt: object) -> int:
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[call-overload, attr-defined]


def forget_targets(session: Session, kind: str, ids: list[str]) -> dict[str, int]:
    """Deliveries of targets ``kind``/``ids`` deleted, the alert messages quoting them rewritten or deleted.

    The messages looked at are those of the subscriptions the ledger says received a target (a digest
    entry is always recorded in the ledger in the same transaction as its message).
    """
    if not ids:
        return {"deliveries": 0, "alert_messages_rewritten": 0, "alert_messages_deleted": 0}
    wanted = set(ids)
    subscription_ids = set(
        session.scalars(
            select(Delivery.subscription_id).where(Delivery.target_kind == kind, Delivery.target_id.in_(ids))
        )
    )
    deliveries = _rowcount(
        session, delete(Delivery).where(Delivery.target_kind == kind, Delivery.target_id.in_(ids))
    )
    rewritten = deleted = 0
    if subscription_ids:
        messages = session.scalars(
            select(AlertMessage).where(AlertMessage.subscription_id.in_(subscription_ids))
        )
        for message in list(messages):
            payload = dict(message.payload or {})
            entries = list(payload.get("entries") or [])
            kept = [e for e in entries if not (e.get("kind") == kind and e.get("id") in wanted)]
            if len(kept) == len(entries):
                continue
            if not kept:
                session.delete(message)
                deleted += 1
                continue
            payload["entries"] = kept
            digest = digest_from_payload(payload, email=message.recipient, name="")
            message.payload = payload
            message.subject = subject_of(digest)[:300]
            message.body_text = text_of(digest)
            message.body_html = ""
            rewritten += 1
        session.flush()
    return {
        "deliveries": deliveries,
        "alert_messages_rewritten": rewritten,
        "alert_messages_deleted": deleted,
    }


def forget_users(session: Session, user_ids: list[int]) -> dict[str, int]:
    """The accounts' subscriptions (their deliveries and messages) and saved searches deleted."""
    if not user_ids:
        return {"subscriptions": 0, "saved_searches": 0}
    sub_ids = list(session.scalars(select(Subscription.id).where(Subscription.user_id.in_(user_ids))))
    counts = {"subscriptions": len(sub_ids)}
    if sub_ids:
        counts["deliveries"] = _rowcount(
            session, delete(Delivery).where(Delivery.subscription_id.in_(sub_ids))
        )
        counts["alert_messages_deleted"] = _rowcount(
            session, delete(AlertMessage).where(AlertMessage.subscription_id.in_(sub_ids))
        )
        _rowcount(session, delete(Subscription).where(Subscription.id.in_(sub_ids)))
    counts["saved_searches"] = _rowcount(
        session, delete(SavedSearch).where(SavedSearch.user_id.in_(user_ids))
    )
    return counts
