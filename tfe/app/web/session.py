"""Signed cookie sessions (HMAC-SHA256 over a JSON payload with an issue time), no extra dependency.

Works like Starlette's ``SessionMiddleware`` (``request.session`` is a dict, saved when modified), but signs
with the standard library so the app does not need ``itsdangerous``. The cookie holds the secret id of the
server-side session (``sid``, see ``tfe.core.security.sessions``: the row it names says whether the
session still works, so a copied cookie dies with its row), the CSRF token and a one-shot notice; never the
user id alone. It is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` when ``https_only`` is set (the same
flags when it is cleared). The signature only stops forged cookies; the row is what ends a session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "tfe_session"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Encode and verify session payloads; a payload older than ``max_age`` seconds is refused."""

    def __init__(self, secret_key: str, max_age: int) -> None:
        self._key = hashlib.sha256(b"tfe-session:" + secret_key.encode()).digest()
        self.max_age = max_age

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def dumps(self, data: dict[str, Any]) -> str:
        body = _b64(json.dumps({"t": int(time.time()), "d": data}, separators=(",", ":")).encode())
        return f"{body}.{self._sign(body)}"

    def loads(self, value: str) -> dict[str, Any]:
        """The session dict, or an empty one when the value is forged, corrupt or expired."""
        body, _, signature = value.partition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return {}
        try:
            payload = json.loads(_unb64(body))
        except ValueError:
            return {}
        if not isinstance(payload, dict) or time.time() - float(payload.get("t", 0)) > self.max_age:
            return {}
        data = payload.get("d")
        return data if isinstance(data, dict) else {}


class SignedSessionMiddleware:
    """Put ``scope["session"]`` in place for ``request.session`` and write it back when it changed."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_key: str,
        max_age: int = 8 * 3600,
        https_only: bool = False,
        same_site: str = "lax",
        cookie_name: str = COOKIE_NAME,
    ) -> None:
        self.app = app
        self.signer = SessionSigner(secret_key, max_age)
        self.cookie_name = cookie_name
        secure = "; Secure" if https_only else ""
        self.flags = f"; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
        self.clear_flags = f"; Path=/; Max-Age=0; HttpOnly; SameSite={same_site}{secure}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        initial: dict[str, Any] = {}
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookie: SimpleCookie = SimpleCookie()
                try:
                    cookie.load(value.decode("latin-1"))
                except Exception:  # a malformed Cookie header only means "no session"
                    continue
                if self.cookie_name in cookie:
                    initial = self.signer.loads(cookie[self.cookie_name].value)
        had_cookie = bool(initial)
        scope["session"] = dict(initial)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = scope["session"]
                headers = MutableHeaders(scope=message)
                if current and current != initial:
                    headers.append(
                        "Set-Cookie", f"{self.cookie_name}={self.signer.dumps(current)}{self.flags}"
                    )
                elif not current and had_cookie:
                    headers.append("Set-Cookie", f"{self.cookie_name}=null{self.clear_flags}")
            await send(message)

        await self.app(scope, receive, send_wrapper)
