"""A small SMTP mailer for the kernel and the GED (expiry reminders): one plain-text French message at a time.

The relay is ``TFE_SMTP_URL`` (``smtp://[user:pass@]host[:port][?starttls=true]`` or ``smtps://host:465``),
the sender ``TFE_SMTP_FROM``, the time limit ``TFE_SMTP_TIMEOUT_S``. ``send_mail`` raises
``MailNotConfigured`` without a relay and ``MailError`` when the relay cannot be reached or refuses the
message; the password never appears in an error or a log line.

``parse_relay``, ``is_address`` and ``deliver`` are the one SMTP path of the installation: the watch's alert
channel (``veille.channels.email``) composes its own multipart message and judges smtplib's exceptions
itself (temporary / permanent) but reaches the relay through ``deliver``.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from tfe.core.errors import BackendError, ConfigurationError
from tfe.core.settings import Settings

__all__ = [
    "Mail",
    "MailError",
    "MailNotConfigured",
    "Relay",
    "deliver",
    "is_address",
    "parse_relay",
    "send_mail",
]


class MailNotConfigured(ConfigurationError):
    """No (or an invalid) ``TFE_SMTP_URL``; ``reason``: unset, syntax, scheme or host."""

    code = "mail_not_configured"

    def __init__(self, message: str, *, reason: str = "unset") -> None:
        super().__init__(message)
        self.reason = reason


class MailError(BackendError):
    """The relay could not be reached or refused the message."""

    code = "mail_failed"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    tls: bool
    starttls: bool
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never the password
        return f"Relay({self.host}:{self.port}, tls={self.tls}, starttls={self.starttls})"

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def parse_relay(url: str | None) -> Relay:
    """The relay of ``TFE_SMTP_URL``; ``MailNotConfigured`` when unset or not an SMTP URL."""
    if not url:
        raise MailNotConfigured("TFE_SMTP_URL is not set: no SMTP relay to send e-mails")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise MailNotConfigured("TFE_SMTP_URL is invalid (port or syntax)", reason="syntax") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise MailNotConfigured(
            "TFE_SMTP_URL is invalid: expected smtp://host[:port] or smtps://host[:port]", reason="scheme"
        )
    if not parts.hostname:
        raise MailNotConfigured(
            "TFE_SMTP_URL is invalid: expected smtp://host[:port] or smtps://host[:port]", reason="host"
        )
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    tls = parts.scheme == "smtps"
    return Relay(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        tls=tls,
        starttls=not tls and query.get("starttls", "false") in ("1", "true", "yes", "on"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def _message(mail: Mail, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = " ".join(mail.subject.split())
    message["From"] = settings.smtp_from
    message["To"] = mail.to
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "tfe.local"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text, subtype="plain", charset="utf-8")
    return message


def is_address(recipient: str) -> bool:
    """A usable envelope address: not empty, an ``@``, no white space (no header can be broken)."""
    return bool(recipient) and "@" in recipient and not any(c.isspace() for c in recipient)


def _connect(relay: Relay, timeout: float) -> smtplib.SMTP:
    client: smtplib.SMTP
    if relay.tls:
        client = smtplib.SMTP_SSL(
            relay.host, relay.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(relay.host, relay.port, timeout=timeout)
    try:
        client.ehlo_or_helo_if_needed()
        if relay.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if relay.username:
            client.login(relay.username, relay.password or "")
    except BaseException:
        client.close()
        raise
    return client


def deliver(
    relay: Relay, message: EmailMessage, recipient: str, *, timeout: float
) -> dict[str, tuple[int, bytes]]:
    """Hand ``message`` to the relay for ``recipient`` (TLS or STARTTLS as the relay says, login when it
    has a user) and return the recipients it refused; smtplib's exceptions and ``OSError`` propagate."""
    client = _connect(relay, timeout)
    try:
        return client.send_message(message, to_addrs=[recipient])
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def send_mail(settings: Settings, mail: Mail) -> None:
    """Send one message through the relay; ``MailError`` / ``MailNotConfigured`` on failure."""
    relay = parse_relay(settings.smtp_url)
    recipient = mail.to.strip()
    if not is_address(recipient):
        raise MailError(f"not an e-mail address: {recipient[:100]!r}")
    try:
        refused = deliver(relay, _message(mail, settings), recipient, timeout=settings.smtp_timeout_s)
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"the SMTP relay {relay.where} refused the message ({exc.smtp_code})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"the SMTP relay {relay.where} cannot be reached ({type(exc).__name__})") from None
    if refused:
        raise MailError(f"the SMTP relay refused the recipient {recipient}")
