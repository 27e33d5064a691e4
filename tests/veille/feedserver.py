"""A real local HTTP server for the watch tests and benchmarks that counts what it is asked.

Routes map a path to a ``Route`` (body, validators, status, Retry-After, delay, content type, gzip,
redirect, drop); every request is recorded with its headers, so tests assert what the poller sent.
Conditional GET is honoured like a well-behaved server: a matching ``If-None-Match`` or
``If-Modified-Since`` answers 304.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    gzip: bool = False  # send ``body`` gzip-compressed (Content-Encoding: gzip)
    location: str | None = None  # with a 3xx status
    drop: bool = False  # close the connection without answering


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    at: float


class FeedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self.active: dict[str, int] = {}
        self.max_active: dict[str, int] = {}
        self._httpd = ThreadingHTTPServer((host, 0), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://{host}:{self._httpd.server_address[1]}"

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def last(self, path: str) -> Request:
        with self._lock:
            return [r for r in self.requests if r.path == path][-1]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path
                with server._lock:
                    server.requests.append(
                        Request(path, {k.lower(): v for k, v in self.headers.items()}, time.time())
                    )
                    server.active[path] = server.active.get(path, 0) + 1
                    server.max_active[path] = max(server.max_active.get(path, 0), server.active[path])
                try:
                    self._answer(server.routes.get(path))
                finally:
                    with server._lock:
                        server.active[path] -= 1

            def _answer(self, route: Route | None) -> None:
                if route is None:
                    self.send_error(404)
                    return
                if route.delay_s:
                    time.sleep(route.delay_s)
                if route.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                matches_etag = route.etag and self.headers.get("If-None-Match") == route.etag
                matches_date = (
                    route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified
                )
                if route.status == 200 and (matches_etag or matches_date):
                    self.send_response(304)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = gzip.compress(route.body) if route.gzip else route.body
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                if route.gzip:
                    self.send_header("Content-Encoding", "gzip")
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                if route.location:
                    self.send_header("Location", route.location)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def start(self) -> FeedServer:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def feed_server(host: str = "127.0.0.1") -> Iterator[FeedServer]:
    server = FeedServer(host).start()
    try:
        yield server
    finally:
        server.stop()


def rss(title: str, entries: list[tuple[str, str, str]], *, ttl: int | None = None) -> bytes:
    """An RSS 2.0 document; ``entries`` are ``(guid, title, description)``."""
    items = "".join(
        f"<item><guid>{guid}</guid><title>{t}</title><link>https://example.org/{guid}</link>"
        f"<description>{d}</description><pubDate>Tue, 01 Dec 2026 08:00:00 GMT</pubDate></item>"
        for guid, t, d in entries
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.org/</link>{ttl_tag}{items}</channel></rss>"
    ).encode()
