"""Request body caps for upload routes: refuse early on ``Content-Length``, then count bytes as they arrive.

A client may lie about (or omit) ``Content-Length``, so the byte count of the streamed body is enforced too;
both paths end in the same 413 JSON error.
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _too_large_body(limit: int) -> bytes:
    message = f"request body over the {limit}-byte upload limit"
    return json.dumps({"error": {"code": "too_large", "message": message}}).encode()


class BodySizeLimitMiddleware:
    """Cap the body of unsafe requests whose path starts with one of ``prefixes``."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, prefixes: tuple[str, ...] = ("/api/documents",)
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefixes = prefixes

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
                if declared < 0 or declared > self.max_bytes:
                    await self._refuse(send, 400 if declared < 0 else 413)
                    return
        received = 0
        limit = self.max_bytes

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(
                        status_code=413, detail=f"request body over the {limit}-byte upload limit"
                    )
            return message

        await self.app(scope, counting_receive, send)

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
