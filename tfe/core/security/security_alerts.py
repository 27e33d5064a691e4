"""Security alerts of the exfiltration guard: recorded, mailed to the organisation's administrators,
reviewed by them.

- ``raise_alert`` records a ``SecurityAlert`` (open) and audits ``guard.<response>`` (``guard.suspended``,
  ``guard.notified``, ``guard.throttled``) in the caller's transaction;
- ``notify_admins`` mails the administrators who manage the account (the active admins of its
  organisation and those of the national agency, never the account itself) through ``tfe.core.mailer``;
  a relay that is down or refuses is recorded in the alert (``detail["mail"]``) and audited
  ``guard.mail_failed``, never raised: the request that tripped the guard is not broken by a mail.
  ``notify_in_background`` does it in a thread (a slow relay does not hold the request);
- ``list_alerts`` / ``get_alert``: the alerts of the organisations an admin manages (another
  organisation's alert answers 404 unless the admin is national);
- ``review``: **lift** (a false alarm: the token or session works again, the guard's counters for the
  account are cleared so it is not suspended again at once) or **confirm** (the use was not legitimate:
  the suspended token is revoked or the session ended for good, and, when asked, the account is
  deactivated, which ends all its sessions). Audited ``guard.alert_lifted`` / ``guard.alert_confirmed``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from tfe.core.db import utcnow
from tfe.core.errors import ConflictError, NotFoundError, TfeError, ValidationError
from tfe.core.mailer import Mail, send_mail
from tfe.core.models import ApiToken, Organisation, User
from tfe.core.security import administration, audit, sessions
from tfe.core.security.audit import Actor
from tfe.core.security.models import SecurityAlert, UserSession
from tfe.core.settings import Settings

__all__ = [
    "DECISIONS",
    "RULE_LABELS",
    "AlertView",
    "admin_recipients",
    "get_alert",
    "holds_sign_in",
    "list_alerts",
    "notify_admins",
    "notify_in_background",
    "raise_alert",
    "review",
]

log = logging.getLogger(__name__)

DECISIONS = ("lift", "confirm")
STATUSES = ("open", "lifted", "confirmed")
RULE_LABELS = {
    "budget_minute": "Budget par minute dépassé à répétition",
    "budget_hour": "Budget horaire épuisé",
    "budget_day": "Budget journalier épuisé",
    "volume_hour": "Volume horaire inhabituel",
    "distinct_day": "Nombreux documents distincts",
    "off_hours": "Lecture en masse hors des heures de travail",
    "new_network": "Lecture en masse depuis un nouveau réseau",
    "rules": "Plusieurs signaux d'usage inhabituel",
}
RESPONSE_LABELS = {"suspended": "Suspendu", "notified": "Signalé", "throttled": "Ralenti"}

#: Called on lift with (user_id, token_id, session_id): the guard clears its counters for them.
LiftHook = Callable[[int | None, int | None, str | None], None]


@dataclass(frozen=True)
class AlertView:
    """An alert with what the pages and the API show beside it."""

    alert: SecurityAlert
    user: User | None
    org: Organisation | None
    token_prefix: str | None

    @property
    def session_public_id(self) -> str | None:
        return self.alert.session_id[:16] if self.alert.session_id else None

    @property
    def rule_label(self) -> str:
        return RULE_LABELS.get(self.alert.rule, self.alert.rule)

    @property
    def response_label(self) -> str:
        return RESPONSE_LABELS.get(self.alert.response, self.alert.response)

    @property
    def explanation(self) -> str:
        return str(self.alert.detail.get("explanation", ""))

    @property
    def counts(self) -> dict[str, Any]:
        value = self.alert.detail.get("counts", {})
        return value if isinstance(value, dict) else {}


def raise_alert(
    session: Session,
    *,
    user: User,
    token_id: int | None,
    session_id: str | None,
    rule: str,
    response: str,
    detail: dict[str, Any],
    channel: str = "api",
) -> SecurityAlert:
    """Record an open alert about ``user`` and audit ``guard.<response>`` (caller's transaction)."""
    alert = SecurityAlert(
        org_id=user.org_id,
        user_id=user.id,
        token_id=token_id,
        session_id=session_id,
        rule=rule,
        response=response,
        detail=detail,
        status="open",
    )
    session.add(alert)
    session.flush()
    audit.record(
        session,
        f"guard.{response}",
        Actor.of_user(user, channel),
        target_kind="security_alert",
        target_id=str(alert.id),
        detail={
            "rule": rule,
            "api_key_id": token_id,  # (a key named "token" would be masked by audit.record)
            "session": session_id[:16] if session_id else None,
        },
    )
    return alert


def admin_recipients(session: Session, org_id: int | None, *, exclude_user: int | None = None) -> list[str]:
    """E-mail addresses of the active admins of ``org_id`` and of the national agency (sorted)."""
    national = session.scalar(
        select(Organisation.id).where(Organisation.slug == administration.NATIONAL_AGENCY_SLUG)
    )
    orgs = [o for o in (org_id, national) if o is not None]
    if not orgs:
        return []
    query = select(User.email).where(
        User.role == administration.ADMIN_ROLE, User.active.is_(True), User.org_id.in_(orgs)
    )
    if exclude_user is not None:
        query = query.where(User.id != exclude_user)
    return sorted(set(session.scalars(query)))


def _mail_for(settings: Settings, alert: SecurityAlert, user: User | None, to: str) -> Mail:
    who = user.email if user else f"utilisateur {alert.user_id}"
    what = RULE_LABELS.get(alert.rule, alert.rule)
    response = {
        "suspended": "Le jeton ou la session concerné est suspendu jusqu'à votre revue.",
        "notified": "Aucune mesure automatique n'a été prise : vérifiez cet usage.",
        "throttled": "Le compte est ralenti (réponses 429).",
    }.get(alert.response, "")
    lines = [
        "Bonjour,",
        "",
        f"Le garde-fou contre l'exfiltration a relevé un usage inhabituel du compte {who} :",
        f"« {what} ».",
        str(alert.detail.get("explanation", "")),
        "",
        response,
        f"Alerte n° {alert.id}, le {alert.created_at.strftime('%d/%m/%Y à %H:%M')} (UTC).",
        "",
        f"Examinez-la, puis levez-la ou confirmez-la : {settings.public_url.rstrip('/')}/admin/securite",
        "",
        "-- Plateforme Team France Export (message automatique)",
    ]
    return Mail(to=to, subject=f"[TFE] Alerte de sécurité : {what} ({who})", text="\n".join(lines))


def notify_admins(settings: Settings, factory: sessionmaker[Session], alert_id: int) -> dict[str, Any]:
    """Mail the alert to its administrators; the outcome goes into ``detail["mail"]`` (never raises)."""
    outcome: dict[str, Any] = {"sent": [], "failed": {}}
    try:
        with factory() as session:
            alert = session.get(SecurityAlert, alert_id)
            if alert is None:
                return outcome
            user = session.get(User, alert.user_id) if alert.user_id else None
            recipients = admin_recipients(session, alert.org_id, exclude_user=alert.user_id)
            mails = [_mail_for(settings, alert, user, to) for to in recipients]
        for mail in mails:
            try:
                send_mail(settings, mail)
                outcome["sent"].append(mail.to)
            except TfeError as exc:  # MailError, MailNotConfigured: recorded, never raised
                outcome["failed"][mail.to] = exc.message[:200]
        if not mails:
            outcome["failed"]["-"] = "no administrator to notify"
        with factory() as session:
            alert = session.get(SecurityAlert, alert_id)
            if alert is not None:
                alert.detail = {**alert.detail, "mail": outcome}
                if outcome["failed"]:
                    audit.record(
                        session,
                        "guard.mail_failed",
                        Actor.system(org_id=alert.org_id),
                        target_kind="security_alert",
                        target_id=str(alert.id),
                        detail={"failed": len(outcome["failed"]), "sent": len(outcome["sent"])},
                    )
                session.commit()
    except Exception:  # the guard's response must not depend on the mail: log and go on
        log.exception("security alert %s: notifying the administrators failed", alert_id)
    return outcome


def notify_in_background(
    settings: Settings, factory: sessionmaker[Session], alert_id: int
) -> threading.Thread:
    """``notify_admins`` in a daemon thread (returned, so tests may join it)."""
    thread = threading.Thread(
        target=notify_admins, args=(settings, factory, alert_id), name=f"guard-mail-{alert_id}", daemon=True
    )
    thread.start()
    return thread


def _views(session: Session, alerts: list[SecurityAlert]) -> list[AlertView]:
    user_ids = {a.user_id for a in alerts if a.user_id is not None}
    org_ids = {a.org_id for a in alerts if a.org_id is not None}
    token_ids = {a.token_id for a in alerts if a.token_id is not None}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    orgs = (
        {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))}
        if org_ids
        else {}
    )
    prefixes: dict[int, str] = {}
    if token_ids:
        query = select(ApiToken.id, ApiToken.prefix).where(ApiToken.id.in_(token_ids))
        prefixes = {int(token_id): str(prefix) for token_id, prefix in session.execute(query)}
    return [
        AlertView(
            alert=a,
            user=users.get(a.user_id) if a.user_id is not None else None,
            org=orgs.get(a.org_id) if a.org_id is not None else None,
            token_prefix=prefixes.get(a.token_id) if a.token_id is not None else None,
        )
        for a in alerts
    ]


def list_alerts(
    session: Session, admin: User, *, status: str | None = "open", limit: int = 200
) -> list[AlertView]:
    """Alerts of the organisations ``admin`` manages, newest first (``status`` None: all)."""
    managed = administration.managed_org_id(session, admin)
    if status is not None and status not in STATUSES:
        raise ValidationError(f"unknown alert status {status!r}; expected one of {', '.join(STATUSES)}")
    query = select(SecurityAlert).order_by(SecurityAlert.created_at.desc(), SecurityAlert.id.desc())
    if status is not None:
        query = query.where(SecurityAlert.status == status)
    if managed is not None:
        query = query.where(SecurityAlert.org_id == managed)
    return _views(session, list(session.scalars(query.limit(limit))))


def get_alert(session: Session, admin: User, alert_id: int) -> AlertView:
    """One alert ``admin`` may see, or ``NotFoundError`` (another organisation's: 404 too)."""
    managed = administration.managed_org_id(session, admin)
    alert = session.get(SecurityAlert, alert_id)
    if alert is None or (managed is not None and alert.org_id != managed):
        raise NotFoundError(f"unknown security alert {alert_id}")
    return _views(session, [alert])[0]


def _credential_rows(session: Session, alert: SecurityAlert) -> tuple[ApiToken | None, UserSession | None]:
    token = session.get(ApiToken, alert.token_id) if alert.token_id is not None else None
    row = session.get(UserSession, alert.session_id) if alert.session_id is not None else None
    return token, row


def _other_suspending_alerts(session: Session, alert: SecurityAlert) -> int:
    """Open suspensions of the same token or session besides ``alert`` (a lift keeps them suspended)."""
    conditions = []
    if alert.token_id is not None:
        conditions.append(SecurityAlert.token_id == alert.token_id)
    if alert.session_id is not None:
        conditions.append(SecurityAlert.session_id == alert.session_id)
    if not conditions:
        return 0
    query = select(SecurityAlert.id).where(
        SecurityAlert.id != alert.id,
        SecurityAlert.status == "open",
        SecurityAlert.response == "suspended",
        or_(*conditions),
    )
    return len(list(session.scalars(query)))


def holds_sign_in(session: Session, user_id: int) -> bool:
    """Whether a session of this user is suspended by an open alert: until an admin lifts or confirms it,
    the account may not open a new session (else signing in again would undo the suspension)."""
    query = select(SecurityAlert.id).where(
        SecurityAlert.user_id == user_id,
        SecurityAlert.status == "open",
        SecurityAlert.response == "suspended",
        SecurityAlert.session_id.is_not(None),
    )
    return session.scalar(query.limit(1)) is not None


def review(
    session: Session,
    admin: User,
    alert_id: int,
    decision: str,
    *,
    note: str = "",
    deactivate: bool = False,
    channel: str = "web",
    on_lift: LiftHook | None = None,
) -> AlertView:
    """Lift or confirm an open alert (see the module docstring); ``ConflictError`` once reviewed."""
    if decision not in DECISIONS:
        raise ValidationError(f"unknown decision {decision!r}; expected lift or confirm")
    if len(note) > 2000:
        raise ValidationError("review note too long (2000 characters at most)")
    if deactivate and decision != "confirm":
        raise ValidationError("only a confirmed alert may deactivate the account")
    view = get_alert(session, admin, alert_id)
    alert = view.alert
    if alert.status != "open":
        raise ConflictError(f"security alert {alert_id} was already reviewed ({alert.status})")
    token, row = _credential_rows(session, alert)
    effects: dict[str, Any] = {}
    if decision == "lift":
        if alert.response == "suspended" and not _other_suspending_alerts(session, alert):
            if token is not None and token.suspended_at is not None:
                token.suspended_at = None
                effects["unsuspended"] = "api_key"
            if row is not None and row.suspended_at is not None:
                row.suspended_at = None
                effects["unsuspended"] = "session"
        if on_lift is not None:
            on_lift(alert.user_id, alert.token_id, alert.session_id)
        alert.status = "lifted"
    else:
        if token is not None and token.revoked_at is None:
            token.revoked_at = utcnow()
            token.revoked_reason = f"security alert {alert.id} confirmed"
            effects["revoked"] = "api_key"
        if row is not None and row.revoked_at is None:
            sessions.revoke(session, row, f"security alert {alert.id} confirmed")
            effects["revoked"] = "session"
        if deactivate and alert.user_id is not None:
            administration.set_active(session, admin, alert.user_id, False, channel=channel)
            effects["user_deactivated"] = True
        alert.status = "confirmed"
    alert.reviewed_by = admin.id
    alert.reviewed_at = utcnow()
    alert.review_note = note.strip() or None
    session.flush()
    audit.record(
        session,
        "guard.alert_lifted" if decision == "lift" else "guard.alert_confirmed",
        Actor.of_user(admin, channel),
        target_kind="security_alert",
        target_id=str(alert.id),
        detail={"rule": alert.rule, "user_id": alert.user_id, "note": bool(note.strip()), **effects},
    )
    return view
