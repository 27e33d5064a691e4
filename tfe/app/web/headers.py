"""Security headers on every answer: pages, API, static files, error pages and unhandled 500s.

``install_security_headers(app, settings)`` wraps the whole middleware stack (outside Starlette's
``ServerErrorMiddleware``, so even a 500 carries them). A header a route set itself wins: the document
download keeps its ``default-src 'none'; sandbox`` policy, the outbox's message frame its own framing rule.

The policy forbids inline code (no ``<script>`` bodies, ``on*=`` attributes, ``style=`` attributes or
``<style>`` blocks): pages load ``/static/*.js`` and ``/static/*.css`` only. Two exceptions, both narrow:

- the offline API docs (``/docs``, its OAuth2 redirect page, ``/redoc``, from fastapi-offline) start their
  viewer with one inline script: that page's policy allows exactly that script by its SHA-256 hash
  (computed from the answer itself), plus inline styles, which Swagger UI and ReDoc inject at run time;
- ``form-action`` also allows the origins of the configured OIDC providers, because signing out of a
  provider (RP-initiated logout) is a redirect that follows the ``POST /logout`` form.

``Strict-Transport-Security`` is sent in production only (a development server on plain HTTP must not
pin a browser to HTTPS for a year).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tfe.app.web.header_limits import HeaderLimitMiddleware
from tfe.core.settings import Settings

__all__ = [
    "DOCS_PATHS",
    "HSTS",
    "SecurityHeadersMiddleware",
    "content_security_policy",
    "install_security_headers",
    "provider_origins",
    "secure_cookies",
]

HSTS = "max-age=31536000; includeSubDomains"
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
_BASE_POLICY = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data:"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("frame-ancestors", "'none'"),
    ("form-action", "'self'"),
)
_FIXED = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL | re.IGNORECASE)
_DOCS_MAX_BYTES = 256 * 1024  # the docs pages are a few kilobytes; never buffer more than this


def content_security_policy(
    *, form_origins: Iterable[str] = (), script_hashes: Iterable[str] = (), inline_styles: bool = False
) -> str:
    """The page policy; ``script_hashes`` and ``inline_styles`` only for the API docs pages."""
    directives = dict(_BASE_POLICY)
    extra_forms = " ".join(sorted(set(form_origins)))
    if extra_forms:
        directives["form-action"] += " " + extra_forms
    hashes = " ".join(f"'sha256-{h}'" for h in script_hashes)
    if hashes:
        directives["script-src"] += " " + hashes
    if inline_styles:
        directives["style-src"] += " 'unsafe-inline'"
        directives["worker-src"] = "'self' blob:"  # ReDoc's search runs in a worker built from a blob
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def provider_origins(providers_file: Path | None) -> list[str]:
    """The origins of every URL in the OIDC providers file (issuer, end-session endpoint...).

    Read once at start, whatever the file's keys are called: any ``http(s)://`` string value of a provider
    counts. A missing or unreadable file gives none (the sign-in module reports it).
    """
    if providers_file is None:
        return []
    try:
        data = json.loads(Path(providers_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    providers = data.get("providers", data) if isinstance(data, dict) else data
    found: set[str] = set()
    for provider in providers if isinstance(providers, list) else []:
        values = provider.values() if isinstance(provider, dict) else ()
        for value in values:
            origin = _origin(value) if isinstance(value, str) else None
            if origin:
                found.add(origin)
    return sorted(found)


def _script_hashes(body: bytes) -> list[str]:
    return [
        base64.b64encode(hashlib.sha256(script).digest()).decode("ascii")
        for script in _INLINE_SCRIPT.findall(body)
    ]


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp, *, production: bool, form_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.form_origins = tuple(form_origins)
        self.policy = content_security_policy(form_origins=self.form_origins)
        self.fixed = _FIXED + ((("Strict-Transport-Security", HSTS),) if production else ())

    def _apply(self, message: Message, policy: str) -> None:
        headers = MutableHeaders(scope=message)
        for name, value in (("Content-Security-Policy", policy), *self.fixed):
            if name not in headers:
                headers[name] = value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope.get("path") in DOCS_PATHS:
            await self._docs_page(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._apply(message, self.policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer the (small) docs page to allow its own inline scripts by hash, and nothing else."""
        start: Message | None = None
        body: list[bytes] = []
        size = 0

        async def buffer(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            body.append(chunk)
            if message.get("more_body", False) and size <= _DOCS_MAX_BYTES:
                return
            data = b"".join(body)
            hashes = _script_hashes(data) if size <= _DOCS_MAX_BYTES else []
            policy = content_security_policy(
                form_origins=self.form_origins, script_hashes=hashes, inline_styles=True
            )
            self._apply(start, policy)
            await send(start)
            await send({**message, "body": data})
            start = None  # anything after an oversized page passes as it comes

        await self.app(scope, receive, buffer)


def install_security_headers(app: FastAPI, settings: Settings) -> None:
    """Wrap ``app``'s whole middleware stack (errors included) in ``SecurityHeadersMiddleware``, with the
    request header caps (``header_limits``) just inside it."""
    build = app.build_middleware_stack
    production = settings.environment == "production"
    origins = provider_origins(settings.oidc_providers_file)

    def build_with_headers() -> ASGIApp:
        capped = HeaderLimitMiddleware(build())  # oversized headers get a 4xx, with these headers too
        return SecurityHeadersMiddleware(capped, production=production, form_origins=origins)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]


def secure_cookies(settings: Settings) -> bool:
    """Whether the session cookie is ``Secure``: in production (wherever the server listens: behind a
    TLS proxy it listens on loopback) and whenever the public address is HTTPS. A test or development
    server on plain ``http://`` keeps it off, or no browser nor test client would send it back."""
    return settings.environment == "production" or settings.public_url.lower().startswith("https://")
