"""The e-mail channel: a digest as a French multipart message (text + HTML) sent over SMTP.

``compose`` builds the message from the templates in ``veille/channels/templates`` (also used by the
outbox, so what an admin reads there is what a relay would have received): subject « [Veille TFE] <nom> :
3 actualités », a link to each story and document in the platform, « Gérer mes alertes » and
« Se désabonner », and the headers of a well-behaved bulk sender: ``List-Unsubscribe`` with the signed
one-click URL, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058), ``Message-ID``,
``Date``, ``From`` (``TFE_SMTP_FROM``) and ``Auto-Submitted: auto-generated`` (RFC 3834).

``EmailChannel`` talks to the relay named by ``TFE_SMTP_URL`` (``smtp://user:pass@host:587?starttls=true``
or ``smtps://host:465``) through the kernel's SMTP path (``tfe.core.mailer.deliver``), within
``TFE_SMTP_TIMEOUT_S``. Outcomes: a 4xx reply, a timeout, a
refused or dropped connection, a refused login → ``temporary`` (retried); a 5xx reply or no recipient
address → ``permanent``. The relay's password never appears in a log line or a result.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tfe.core.mailer import MailNotConfigured, Relay, deliver, is_address, parse_relay
from tfe.core.settings import Settings
from veille.alerts.digest import Digest
from veille.channels.base import NotConfigured, SendResult

__all__ = ["EmailChannel", "compose", "parse_smtp_url", "subject_of"]

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_FREQUENCY_FR = {
    "instant": "Alerte immédiate",
    "daily": "Synthèse quotidienne",
    "weekly": "Synthèse hebdomadaire",
}
_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def _date_fr(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {_MONTHS_FR[value.month - 1]} {value.year}"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


_env.filters["date_fr"] = _date_fr
_env.globals["plural"] = _plural


def subject_of(digest: Digest) -> str:
    """« [Veille TFE] agroalimentaire × Vietnam : 3 actualités » (stories, then documents)."""
    stories = sum(1 for e in digest.entries if e.kind == "story")
    documents = len(digest.entries) - stories
    parts = []
    if stories:
        parts.append(_plural(stories, "actualité", "actualités"))
    if documents:
        parts.append(_plural(documents, "document", "documents"))
    name = " ".join(digest.name.split())[:200]
    return f"[Veille TFE] {name} : {', '.join(parts)}"


def _render(digest: Digest) -> tuple[str, str]:
    context = {
        "digest": digest,
        "entries": digest.entries,
        "frequency": _FREQUENCY_FR.get(digest.frequency, "Alerte"),
        "subject": subject_of(digest),
        "story_count": sum(1 for e in digest.entries if e.kind == "story"),
        "document_count": sum(1 for e in digest.entries if e.kind == "document"),
    }
    return _env.get_template("email.txt").render(context), _env.get_template("email.html").render(context)


def _domain(address: str) -> str:
    _name, addr = parseaddr(address)
    return addr.rpartition("@")[2] or "tfe.local"


def compose(digest: Digest, settings: Settings, recipient: str) -> EmailMessage:
    """The full message for ``recipient``; ``ValueError`` for an empty digest (never sent)."""
    if not digest.entries:
        raise ValueError("an empty digest is never sent")
    text, html = _render(digest)
    message = EmailMessage()
    message["Subject"] = subject_of(digest)
    message["From"] = settings.smtp_from
    name = " ".join(digest.recipient_name.split())  # no line break can reach a header
    message["To"] = formataddr((name, recipient)) if name else recipient
    generated = digest.generated_at
    if generated.tzinfo is None:
        generated = generated.replace(tzinfo=dt.UTC)
    message["Date"] = format_datetime(generated)
    message["Message-ID"] = make_msgid(
        idstring=f"alert{digest.subscription_id}", domain=_domain(settings.smtp_from)
    )
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["List-Id"] = f"Veille TFE <alerte-{digest.subscription_id}.{_domain(settings.smtp_from)}>"
    message["List-Unsubscribe"] = f"<{digest.unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


_INVALID_URL_FR = {
    "syntax": "TFE_SMTP_URL invalide (port ou syntaxe)",
    "host": "TFE_SMTP_URL invalide : il manque le nom du serveur",
}


def parse_smtp_url(url: str) -> Relay:
    """``smtp://[user:pass@]host[:port][?starttls=true]`` or ``smtps://...`` (the kernel's ``parse_relay``);
    else ``NotConfigured`` with a French message."""
    try:
        return parse_relay(url)
    except MailNotConfigured as exc:
        if exc.reason == "scheme":
            scheme = urlsplit(url.strip()).scheme
            message = (
                "TFE_SMTP_URL invalide : le schéma doit être smtp:// ou smtps:// "
                f"(reçu {scheme or 'aucun'}://)"
            )
        else:
            message = _INVALID_URL_FR.get(exc.reason, _INVALID_URL_FR["syntax"])
        raise NotConfigured(message) from None


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"SMTP {code} {' '.join(text.split())[:200]}".strip()


def _judge(code: int, text: bytes | str) -> SendResult:
    return SendResult("permanent" if 500 <= code < 600 else "temporary", _reply(code, text))


class EmailChannel:
    """Sends digests through the SMTP relay of ``TFE_SMTP_URL`` (``NotConfigured`` without one)."""

    name = "email"

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_url:
            raise NotConfigured(
                "TFE_SMTP_URL n'est pas défini : aucun relais SMTP pour envoyer les alertes par e-mail"
            )
        self.settings = settings
        self.relay = parse_smtp_url(settings.smtp_url)

    def send(self, digest: Digest, *, target: str | None, secret: str | None = None) -> SendResult:
        """Deliver ``digest`` to the address ``target``; see the module docstring for the outcomes."""
        if not digest.entries:
            raise ValueError("an empty digest is never sent")
        recipient = (target or "").strip()
        if not is_address(recipient):
            return SendResult("permanent", "aucune adresse e-mail valide pour ce destinataire")
        message = compose(digest, self.settings, recipient)
        try:
            refused = deliver(self.relay, message, recipient, timeout=self.settings.smtp_timeout_s)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
            result = _judge(code, text)
        except smtplib.SMTPAuthenticationError as exc:
            result = SendResult(
                "temporary", f"authentification SMTP refusée ({_reply(exc.smtp_code, exc.smtp_error)})"
            )
        except smtplib.SMTPResponseException as exc:  # sender refused, data refused, helo refused...
            result = _judge(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPNotSupportedError as exc:
            result = SendResult("temporary", f"le relais SMTP ne propose pas STARTTLS ({exc})")
        except TimeoutError:
            result = SendResult("temporary", f"délai SMTP dépassé ({self.settings.smtp_timeout_s:g} s)")
        except smtplib.SMTPServerDisconnected as exc:  # smtplib reports a silent greeting this way
            if "timed out" in str(exc):
                result = SendResult("temporary", f"délai SMTP dépassé ({self.settings.smtp_timeout_s:g} s)")
            else:
                result = SendResult("temporary", f"connexion SMTP interrompue ({str(exc)[:200]})")
        except (smtplib.SMTPException, OSError) as exc:
            result = SendResult(
                "temporary", f"relais SMTP injoignable ({type(exc).__name__}: {str(exc)[:200]})"
            )
        else:
            if refused:
                code, text = next(iter(refused.values()))
                result = _judge(code, text)
            else:
                result = SendResult("sent", str(message["Message-ID"]))
        log.info(
            "alert email subscription=%s relay=%s outcome=%s detail=%s",
            digest.subscription_id,
            self.relay.where,
            result.outcome,
            result.detail,
        )
        return result
