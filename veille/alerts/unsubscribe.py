"""Signed one-click unsubscribe tokens (the ``List-Unsubscribe`` URL of every alert e-mail).

A token is ``<subscription id>.<mac>``, the MAC being HMAC-SHA256 with ``TFE_SECRET_KEY`` over the id and
a per-subscription nonce (kept in ``Subscription.channel_state["unsubscribe"]["nonce"]``, made on the
first ``make_token``), base64url without padding. It names one subscription and nothing else; giving the
subscription a new nonce (``revoke_tokens``) invalidates every link already sent.

Decision: unsubscribing *pauses* the subscription (``paused = True``, the instant in
``channel_state["unsubscribe"]["at"]``) rather than deleting it: the dispatcher skips paused
subscriptions, so nothing more is sent, while the history and the delivery ledger stay, and the user can
resume it in « Mes alertes » without being sent old stories again. Deleting remains the user's choice
there (and the GDPR erasure). Every effective unsubscription is audited ``subscription.unsubscribe``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import Any

from sqlalchemy.orm import Session

from search.models import SavedSearch
from tfe.core.db import utcnow
from tfe.core.errors import NotFoundError
from tfe.core.models import User
from tfe.core.security import audit
from tfe.core.settings import Settings
from veille.alerts.models import Subscription

__all__ = [
    "TOKEN_PATTERN",
    "UNSUBSCRIBE_PATH",
    "make_token",
    "revoke_tokens",
    "subscription_name",
    "unsubscribe",
    "unsubscribe_url",
    "verify_token",
]

UNSUBSCRIBE_PATH = "/alertes/desabonnement/"
TOKEN_PATTERN = r"^[0-9]{1,12}\.[A-Za-z0-9_-]{20,64}$"
_TOKEN = re.compile(TOKEN_PATTERN)
_STATE_KEY = "unsubscribe"
_CONTEXT = b"tfe-alert-unsubscribe\x00"


def _state(subscription: Subscription) -> dict[str, Any]:
    value = (subscription.channel_state or {}).get(_STATE_KEY)
    return dict(value) if isinstance(value, dict) else {}


def _set_state(subscription: Subscription, **changes: Any) -> None:
    # a new dict: SQLAlchemy notices a reassigned JSON column, not an in-place change
    subscription.channel_state = {
        **(subscription.channel_state or {}),
        _STATE_KEY: {**_state(subscription), **changes},
    }


def _mac(secret_key: str, subscription_id: int, nonce: str) -> str:
    digest = hmac.new(
        secret_key.encode(), _CONTEXT + f"{subscription_id}:{nonce}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(secret_key: str, subscription: Subscription) -> str:
    """The token of ``subscription`` (the subscription must have an id; the caller commits a new nonce)."""
    if subscription.id is None:
        raise ValueError("the subscription must be flushed before its unsubscribe token is made")
    nonce = _state(subscription).get("nonce")
    if not isinstance(nonce, str) or not nonce:
        nonce = secrets.token_hex(8)
        _set_state(subscription, nonce=nonce)
    return f"{subscription.id}.{_mac(secret_key, subscription.id, nonce)}"


def unsubscribe_url(settings: Settings, subscription: Subscription) -> str:
    """The absolute one-click URL for ``subscription`` (``Digest.unsubscribe_url``)."""
    return settings.public_url.rstrip("/") + UNSUBSCRIBE_PATH + make_token(settings.secret_key, subscription)


def revoke_tokens(subscription: Subscription) -> None:
    """Invalidate every token of ``subscription`` made so far (the next ``make_token`` is a new one)."""
    _set_state(subscription, nonce=secrets.token_hex(8))


def verify_token(session: Session, secret_key: str, token: str) -> Subscription:
    """The subscription ``token`` names, or ``NotFoundError`` (malformed, forged, revoked, gone)."""
    unknown = NotFoundError("lien de désabonnement inconnu ou expiré")
    if not _TOKEN.match(token or ""):
        raise unknown
    raw_id, _, mac = token.partition(".")
    subscription = session.get(Subscription, int(raw_id))
    if subscription is None:
        raise unknown
    nonce = _state(subscription).get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise unknown
    if not hmac.compare_digest(_mac(secret_key, subscription.id, nonce).encode(), mac.encode()):
        raise unknown
    return subscription


def subscription_name(session: Session, subscription: Subscription) -> str:
    """The name the subscriber gave the alert (its saved search's)."""
    saved = session.get(SavedSearch, subscription.saved_search_id)
    return saved.name if saved is not None else f"alerte {subscription.id}"


def unsubscribe(session: Session, secret_key: str, token: str, *, method: str) -> tuple[Subscription, bool]:
    """Pause the subscription ``token`` names; ``(subscription, True)`` if it was active until now.

    ``method`` says how (``one_click``: a mail client's RFC 8058 POST; ``form``: the confirmation page).
    """
    subscription = verify_token(session, secret_key, token)
    if subscription.paused:
        return subscription, False
    subscription.paused = True
    _set_state(subscription, at=utcnow().isoformat(timespec="seconds"), method=method)
    user = session.get(User, subscription.user_id)
    audit.record(
        session,
        "subscription.unsubscribe",
        audit.Actor(subscription.user_id, user.org_id if user is not None else None, "web"),
        target_kind="subscription",
        target_id=str(subscription.id),
        detail={"method": method},
    )
    session.flush()
    return subscription, True
