"""The webhook channel: the digest as a signed JSON POST to a partner's URL (a regional CRM, ...).

The body is ``Digest.as_dict()`` as compact UTF-8 JSON. Two headers let the receiver check it came from
us and is fresh (``docs/api.md``, « Webhooks »)::

    X-TFE-Timestamp: <unix seconds>
    X-TFE-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

The URL passes ``tfe.core.netguard.check_url`` (http(s), no private address unless
``TFE_FETCH_ALLOW_PRIVATE=true``) and may not be the platform itself; redirects are not followed; one
request within ``TFE_FEED_TIMEOUT_S``. Outcomes: 2xx → ``sent``; 5xx, 408, 429, timeouts and network
errors → ``temporary``; other 4xx, a redirect, a refused URL or no secret → ``permanent``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import time
from urllib.parse import urlsplit

import httpx

from tfe.core.netguard import UnsafeURLError, check_url
from tfe.core.settings import Settings
from veille.alerts.digest import Digest
from veille.channels.base import SendResult

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookChannel", "body_of", "sign"]

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-TFE-Timestamp"
SIGNATURE_HEADER = "X-TFE-Signature"
_RETRYABLE_4XX = (408, 425, 429)


def body_of(digest: Digest) -> bytes:
    """The POST body: the digest as compact, key-sorted UTF-8 JSON."""
    return json.dumps(digest.as_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` over ``f"{timestamp}.".encode() + body``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


def _short(url: str) -> str:
    """The URL without query string or credentials, for logs and results (a query may hold a key)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"[:200]


class WebhookChannel:
    """Posts signed digests; always available (each subscription brings its URL and secret)."""

    name = "webhook"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _refusal(self, url: str) -> SendResult | None:
        if _origin(url) == _origin(self.settings.public_url):
            return SendResult("permanent", "l'adresse du webhook désigne la plateforme elle-même")
        try:
            check_url(url, allow_private=self.settings.fetch_allow_private)
        except UnsafeURLError as exc:
            if isinstance(exc.__cause__, socket.gaierror):  # DNS may answer next time
                return SendResult("temporary", exc.message)
            return SendResult("permanent", exc.message)
        return None

    def send(self, digest: Digest, *, target: str | None, secret: str | None = None) -> SendResult:
        """POST ``digest`` to the URL ``target`` signed with ``secret``; see the module docstring."""
        if not digest.entries:
            raise ValueError("an empty digest is never sent")
        url = (target or "").strip()
        if not url:
            return SendResult("permanent", "aucune adresse de webhook")
        if not secret:
            return SendResult("permanent", "aucun secret pour signer le webhook")
        refused = self._refusal(url)
        if refused is not None:
            result = refused
        else:
            body = body_of(digest)
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": self.settings.user_agent,
                "X-TFE-Event": "digest",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(secret, timestamp, body),
            }
            result = self._post(url, body, headers)
        log.info(
            "alert webhook subscription=%s url=%s outcome=%s detail=%s",
            digest.subscription_id,
            _short(url),
            result.outcome,
            result.detail,
        )
        return result

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        timeout = self.settings.feed_timeout_s
        try:
            with (
                httpx.Client(
                    timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), follow_redirects=False
                ) as client,
                client.stream("POST", url, content=body, headers=headers) as response,
            ):
                status = response.status_code
        except httpx.TimeoutException:
            return SendResult("temporary", f"délai dépassé ({timeout:g} s)")
        except (httpx.HTTPError, OSError) as exc:
            return SendResult("temporary", f"webhook injoignable ({type(exc).__name__}: {str(exc)[:200]})")
        if 200 <= status < 300:
            return SendResult("sent", f"HTTP {status}")
        if 300 <= status < 400:
            return SendResult("permanent", f"HTTP {status} : redirection non suivie")
        if status >= 500 or status in _RETRYABLE_4XX:
            return SendResult("temporary", f"HTTP {status}")
        return SendResult("permanent", f"HTTP {status}")
