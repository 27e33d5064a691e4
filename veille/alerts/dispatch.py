"""Hand a prepared digest to each channel of its subscription, record every attempt, retry with backoff.

``prepare`` writes one ``AlertMessage`` per channel (``pending``) in the caller's transaction, the one that
also writes the delivery ledger, so a digest is either recorded with its ledger rows or not at all. A new
message is *claimed* by its creator (``next_attempt_at`` a few minutes ahead), which delivers it right
after the commit (``deliver``); if the process dies first, the claim lapses and ``retry_due`` picks it up.
``retry_due`` claims each due message with a conditional update, so two workers never send one twice.

An attempt ends as the channel says (``veille.channels.base.SendResult``):

- ``sent``: ``status = sent``, ``sent_at``;
- ``temporary`` (SMTP 4xx, timeouts, webhook 5xx): ``retrying`` with ``next_attempt_at`` backed off
  exponentially (1 min, 2, 4 … at most 1 h) until ``Settings.alert_max_attempts`` attempts, then ``failed``;
- ``permanent`` (SMTP 5xx, no address, webhook 4xx), a channel not configured here (its ``NotConfigured``
  message) or a webhook disabled: ``failed`` with the reason, never retried.

A webhook failing ``Settings.webhook_max_failures`` attempts in a row is disabled
(``channel_state["webhook"] = {"failures": n, "disabled": reason, "disabled_at": ...}``); a success resets
the count. Nothing here logs a recipient's address, a webhook secret or a digest's content.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tfe.core.db import session_scope, utcnow
from tfe.core.settings import Settings
from veille.alerts.digest import Digest, DigestEntry
from veille.alerts.models import AlertMessage, Subscription
from veille.channels.base import Channel, SendResult

__all__ = [
    "BACKOFF_MAX_S",
    "BACKOFF_S",
    "CLAIM_S",
    "ChannelSet",
    "Dispatcher",
    "backoff_s",
    "digest_from_payload",
    "registry_channels",
    "subject_of",
    "text_of",
]

log = logging.getLogger(__name__)

BACKOFF_S = 60.0
BACKOFF_MAX_S = 3600.0
CLAIM_S = 300.0  # how long a message being delivered is reserved to the process delivering it
RETRY_BATCH = 200
_PENDING = ("pending", "retrying")


@dataclass(frozen=True)
class ChannelSet:
    """The channels that run here (``ready``) and why the others do not (``off``: name → message)."""

    ready: Mapping[str, Channel] = field(default_factory=dict)
    off: Mapping[str, str] = field(default_factory=dict)


def registry_channels(settings: Settings, session_factory: Callable[[], Session] | None) -> ChannelSet:
    """The installation's channels from ``veille.channels.registry`` (e-mail, Atom, webhook)."""
    from veille.channels import registry

    return ChannelSet(
        registry.available(settings, session_factory), registry.unavailable(settings, session_factory)
    )


def backoff_s(attempts: int) -> float:
    """Delay before the next try after ``attempts`` failed ones: 1 min, 2, 4 … at most 1 h."""
    return float(min(BACKOFF_MAX_S, BACKOFF_S * 2 ** max(0, attempts - 1)))


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def subject_of(digest: Digest) -> str:
    """« [Veille TFE] <nom> : 3 actualités » (documents counted with the stories)."""
    return f"[Veille TFE] {digest.name} : {_plural(len(digest.entries), 'actualité', 'actualités')}"


def text_of(digest: Digest) -> str:
    """A plain-text rendering of the digest (the message's history; channels render their own)."""
    lines = [subject_of(digest), ""]
    for entry in digest.entries:
        grown = (
            f" ({_plural(entry.grown_by, 'nouvelle source', 'nouvelles sources')})" if entry.grown_by else ""
        )
        lines.append(f"- {entry.title}{grown}")
        if entry.sources:
            lines.append(f"  Sources : {', '.join(entry.sources)}")
        lines.append(f"  {entry.url}")
    lines += ["", f"Gérer mes alertes : {digest.manage_url}", f"Se désabonner : {digest.unsubscribe_url}"]
    return "\n".join(lines) + "\n"


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def digest_from_payload(payload: Mapping[str, Any], *, email: str | None, name: str) -> Digest:
    """The ``Digest`` a message was prepared from (``Digest.as_dict``), to try it again."""
    entries = []
    for raw in payload.get("entries") or []:
        data = dict(raw)
        data["published_at"] = _time(data.get("published_at"))
        known = {k: v for k, v in data.items() if k in DigestEntry.__dataclass_fields__}
        entries.append(DigestEntry(**known))
    return Digest(
        subscription_id=int(payload["subscription_id"]),
        name=str(payload.get("name") or ""),
        frequency=str(payload.get("frequency") or "instant"),
        recipient_email=email,
        recipient_name=name,
        entries=entries,
        generated_at=_time(payload.get("generated_at")) or utcnow(),
        manage_url=str(payload.get("manage_url") or ""),
        unsubscribe_url=str(payload.get("unsubscribe_url") or ""),
    )


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


class Dispatcher:
    """Records digests as messages and delivers them through ``channels()`` (see the module docstring)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        channels: Callable[[], ChannelSet],
    ) -> None:
        self._sessions = session_factory
        self.settings = settings
        self._channels = channels

    # -- recording -------------------------------------------------------------------------------------

    def prepare(
        self, session: Session, sub: Subscription, digest: Digest, *, now: dt.datetime
    ) -> list[AlertMessage]:
        """One ``pending`` message per channel of ``sub``, claimed by the caller; flushed, not committed."""
        rows = []
        for name in dict.fromkeys(sub.channels or []):
            recipient = (
                digest.recipient_email if name == "email" else sub.webhook_url if name == "webhook" else None
            )
            row = AlertMessage(
                subscription_id=sub.id,
                channel=str(name),
                status="pending",
                attempts=0,
                next_attempt_at=now + dt.timedelta(seconds=CLAIM_S),
                recipient=(recipient or None) and str(recipient)[:320],
                subject=subject_of(digest)[:300],
                body_text=text_of(digest),
                body_html="",
                payload=digest.as_dict(),
                created_at=now,
            )
            session.add(row)
            rows.append(row)
        session.flush()
        return rows

    # -- delivering ------------------------------------------------------------------------------------

    def deliver(self, message_ids: list[int], *, now: dt.datetime | None = None) -> dict[int, str]:
        """Try each (already claimed) message once; their statuses afterwards."""
        channels = self._channels()
        out: dict[int, str] = {}
        for message_id in message_ids:
            at = now or utcnow()
            with session_scope(self._sessions) as session:
                row = session.get(AlertMessage, message_id)
                if row is None or row.status not in _PENDING:
                    continue
                self._attempt(session, row, channels, at)
                out[message_id] = row.status
        return out

    def retry_due(self, *, now: dt.datetime | None = None, limit: int = RETRY_BATCH) -> dict[str, int]:
        """Claim and try the messages whose next attempt is due; counts of their outcomes."""
        at = now or utcnow()
        with session_scope(self._sessions) as session:
            due = list(
                session.scalars(
                    select(AlertMessage.id)
                    .where(
                        AlertMessage.status.in_(_PENDING),
                        or_(AlertMessage.next_attempt_at.is_(None), AlertMessage.next_attempt_at <= at),
                    )
                    .order_by(AlertMessage.id)
                    .limit(limit)
                )
            )
        claimed = [mid for mid in due if self._claim(mid, at)]
        statuses = self.deliver(claimed, now=at)
        counts = {"retried": len(claimed), "sent": 0, "retrying": 0, "failed": 0}
        for status in statuses.values():
            if status in counts:
                counts[status] += 1
        return counts

    def _claim(self, message_id: int, now: dt.datetime) -> bool:
        with session_scope(self._sessions) as session:
            result = session.execute(
                update(AlertMessage)
                .where(
                    AlertMessage.id == message_id,
                    AlertMessage.status.in_(_PENDING),
                    or_(AlertMessage.next_attempt_at.is_(None), AlertMessage.next_attempt_at <= now),
                )
                .values(next_attempt_at=now + dt.timedelta(seconds=CLAIM_S))
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    def _attempt(self, session: Session, row: AlertMessage, channels: ChannelSet, now: dt.datetime) -> None:
        from tfe.core.models import User

        sub = session.get(Subscription, row.subscription_id)
        if sub is None:  # deleted meanwhile: the cascade removes the message too
            return
        user = session.get(User, sub.user_id)
        result = self._refusal(sub, row, channels)
        if result is None:
            digest = digest_from_payload(
                row.payload or {},
                email=row.recipient if row.channel == "email" else None,
                name=user.name if user else "",
            )
            channel = channels.ready[row.channel]
            secret = sub.webhook_secret if row.channel == "webhook" else None
            try:
                result = channel.send(digest, target=row.recipient, secret=secret)
            except Exception as exc:  # a channel's bug must not lose the message: try again later
                log.exception("alert channel %s raised for message=%s", row.channel, row.id)
                result = SendResult("temporary", f"erreur interne du canal ({type(exc).__name__})")
            row.attempts = (row.attempts or 0) + 1
        self._record(session, sub, row, result, now)

    def _refusal(self, sub: Subscription, row: AlertMessage, channels: ChannelSet) -> SendResult | None:
        if row.channel not in channels.ready:
            reason = (
                channels.off.get(row.channel) or f"canal {row.channel} non disponible sur cette installation"
            )
            return SendResult("permanent", reason)
        if row.channel == "email" and not (row.recipient or "").strip():
            return SendResult("permanent", "aucune adresse e-mail pour ce destinataire")
        if row.channel == "webhook":
            state = (sub.channel_state or {}).get("webhook") or {}
            if isinstance(state, dict) and state.get("disabled"):
                return SendResult("permanent", f"webhook désactivé : {state['disabled']}")
        return None

    def _record(
        self, session: Session, sub: Subscription, row: AlertMessage, result: SendResult, now: dt.datetime
    ) -> None:
        if result.outcome == "sent":
            row.status, row.sent_at, row.error, row.next_attempt_at = "sent", now, None, None
        elif result.outcome == "temporary" and row.attempts < self.settings.alert_max_attempts:
            row.status, row.error = "retrying", result.detail[:2000]
            row.next_attempt_at = now + dt.timedelta(seconds=backoff_s(row.attempts))
        else:
            row.status, row.error, row.next_attempt_at = "failed", result.detail[:2000], None
        if row.channel == "webhook" and row.attempts:
            self._webhook_state(sub, result, now)
        log.info(
            "alert message=%s subscription=%s channel=%s attempt=%s status=%s",
            row.id,
            sub.id,
            row.channel,
            row.attempts,
            row.status,
        )
        session.flush()

    def _webhook_state(self, sub: Subscription, result: SendResult, now: dt.datetime) -> None:
        state = dict(sub.channel_state or {})
        hook = dict(state.get("webhook") or {})
        if result.outcome == "sent":
            hook["failures"] = 0
        else:
            hook["failures"] = int(hook.get("failures") or 0) + 1
            hook["last_error"] = result.detail[:300]
            if hook["failures"] >= self.settings.webhook_max_failures and not hook.get("disabled"):
                hook["disabled"] = f"{hook['failures']} échecs consécutifs, dernier : {result.detail[:200]}"
                hook["disabled_at"] = now.isoformat(timespec="seconds")
        state["webhook"] = hook
        sub.channel_state = state  # a new dict: SQLAlchemy notices a reassigned JSON column
