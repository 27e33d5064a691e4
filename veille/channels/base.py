"""The one protocol every delivery channel implements, and what a delivery attempt can end as.

A channel that is not configured raises ``NotConfigured`` when built (Scrapy's pattern): the dispatcher
leaves it out with its message, and a subscription asking for it gets that message in its history. A
delivery ends ``sent``, ``temporary`` (retried with backoff: SMTP 4xx, timeouts, webhook 5xx) or
``permanent`` (recorded, shown to the user, not retried: SMTP 5xx, no address, webhook 4xx).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from tfe.core.errors import ConfigurationError
from veille.alerts.digest import Digest

__all__ = ["Channel", "NotConfigured", "SendResult"]


class NotConfigured(ConfigurationError):
    """The channel cannot run here (e.g. no ``TFE_SMTP_URL``); the message says what to set."""


@dataclass(frozen=True)
class SendResult:
    outcome: Literal["sent", "temporary", "permanent"]
    detail: str = ""  # the reason of a failure, or a receipt (message id, HTTP status)


class Channel(Protocol):
    name: str  # "email", "atom", "webhook"

    def send(self, digest: Digest, *, target: str | None, secret: str | None = None) -> SendResult:
        """Deliver ``digest`` to ``target`` (an e-mail address, a webhook URL; ``None`` for Atom)."""
        ...
