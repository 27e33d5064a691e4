"""Request body caps for upload routes: refuse early on ``Content-Length``, then count bytes as they arrive.

A client may lie about (or omit) ``Content-Length``, so the byte count of the streamed body is enforced too;
both paths end in the same 413 JSON error. The cap is the configured ``TFE_MAX_UPLOAD_BYTES`` plus a fixed
allowance for the multipart envelope (boundaries, part headers, the other form fields), so that a file of
exactly the configured size passes; every message states the configured setting, never the internal cap.
A refused request of an authenticated user is recorded like any refused upload (``uploads.record_refusal``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MULTIPART_OVERHEAD", "BodySizeLimitMiddleware", "too_large_message"]

log = logging.getLogger(__name__)

MULTIPART_OVERHEAD = 64 * 1024
OnRefused = Callable[[Scope, str], Awaitable[None]]


def too_large_message(limit: int, setting: str = "TFE_MAX_UPLOAD_BYTES") -> str:
    """The one wording of a 413: the configured limit, and the setting that holds it."""
    return f"upload over the {limit}-byte limit ({setting})"


def _too_large_body(limit: int) -> bytes:
    return json.dumps({"error": {"code": "too_large", "message": too_large_message(limit)}}).encode()


class BodySizeLimitMiddleware:
    """Cap the body of unsafe requests whose path starts with one of ``prefixes``.

    ``max_bytes`` is the configured upload limit (``Settings.max_upload_bytes``); ``on_refused`` (scope,
    message) is awaited before a 413 is answered, to record the refusal.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        prefixes: tuple[str, ...] = ("/api/documents",),
        on_refused: OnRefused | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.cap = max_bytes + MULTIPART_OVERHEAD
        self.prefixes = prefixes
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in ("GET", "HEAD", "OPTIONS")
            or not scope["path"].startswith(self.prefixes)
        ):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > self.cap:
                    if declared > self.cap:
                        await self._refused(scope)
                    await self._refuse(send, 400 if declared < 0 else 413)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.cap:
                    await self._refused(scope)
                    raise HTTPException(status_code=413, detail=too_large_message(self.max_bytes))
            return message

        await self.app(scope, counting_receive, send)

    async def _refused(self, scope: Scope) -> None:
        if self.on_refused is None:
            return
        try:
            await self.on_refused(scope, too_large_message(self.max_bytes))
        except Exception:  # recording must never turn a 413 into a 500
            log.exception("could not record a refused upload")

    async def _refuse(self, send: Send, status: int) -> None:
        if status == 413:
            body = _too_large_body(self.max_bytes)
        else:
            body = json.dumps({"error": {"code": "invalid", "message": "invalid Content-Length"}}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
