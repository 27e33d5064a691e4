"""Real SMTP servers on loopback for the alert tests: aiosmtpd collecting or refusing, and a silent one.

``smtp_server(...)`` runs an aiosmtpd ``Controller`` on a free port: ``Collecting`` keeps every message
(``envelope.content`` parsed with the ``email`` package), ``Refusing(code)`` answers each RCPT with that
reply (451: try later, 550: no such mailbox). ``silent_server()`` accepts TCP connections and never
greets, so a client waits until its timeout. ``closed_port()`` is a port nobody listens on.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

__all__ = ["Collecting", "Refusing", "closed_port", "silent_server", "smtp_server"]


class Collecting:
    """Accepts every message and keeps it, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class Refusing(Collecting):
    """Answers every RCPT TO with ``reply`` (e.g. ``451 4.3.0 Try again later``)."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        return self.reply


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    return _free_port()


@contextmanager
def smtp_server(handler: Collecting, *, credentials: tuple[str, str] | None = None) -> Iterator[int]:
    """Run ``handler`` on a free loopback port (login required when ``credentials`` are given)."""
    kwargs: dict[str, Any] = {}
    if credentials is not None:

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and (data.login.decode(), data.password.decode()) == credentials
            )
            return AuthResult(success=ok, handled=False)  # the server answers 235 or 535

        kwargs = {"authenticator": authenticate, "auth_required": True, "auth_require_tls": False}
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """Accepts connections and says nothing (an SMTP server that hangs)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()
