"""Which delivery channels run here: built from the settings, each switching itself off when unusable.

``available(settings, session_factory)`` maps a channel name (``email``, ``atom``, ``webhook``) to a
ready ``Channel``; ``unavailable(settings, session_factory)`` maps each channel left out to its
``NotConfigured`` message (for a subscription's history and the operator). Atom and webhooks always run
(each subscription brings its own token, URL and secret). E-mail goes through the SMTP relay of
``TFE_SMTP_URL``; without one it goes to the local outbox (``veille.channels.outbox``) when a session
factory is given, and is unavailable otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from tfe.core.settings import Settings
from veille.channels.atom import AtomChannel
from veille.channels.base import Channel, NotConfigured
from veille.channels.email import EmailChannel
from veille.channels.outbox import OutboxChannel
from veille.channels.webhook import WebhookChannel

__all__ = ["available", "unavailable"]

SessionFactory = Callable[[], Session]


def _email(settings: Settings, session_factory: SessionFactory | None) -> Channel:
    if not settings.smtp_url and session_factory is not None:
        return OutboxChannel(settings, session_factory)
    return EmailChannel(settings)


_BUILDERS: dict[str, Callable[[Settings, SessionFactory | None], Channel]] = {
    "email": _email,
    "atom": lambda settings, _factory: AtomChannel(settings),
    "webhook": lambda settings, _factory: WebhookChannel(settings),
}


def _build(
    settings: Settings, session_factory: SessionFactory | None
) -> tuple[dict[str, Channel], dict[str, str]]:
    ready: dict[str, Channel] = {}
    off: dict[str, str] = {}
    for name, build in _BUILDERS.items():
        try:
            ready[name] = build(settings, session_factory)
        except NotConfigured as exc:
            off[name] = exc.message
    return ready, off


def available(settings: Settings, session_factory: SessionFactory | None = None) -> dict[str, Channel]:
    """The channels that can deliver here, by name."""
    return _build(settings, session_factory)[0]


def unavailable(settings: Settings, session_factory: SessionFactory | None = None) -> dict[str, str]:
    """The channels left out, with the message that says what to configure."""
    return _build(settings, session_factory)[1]
