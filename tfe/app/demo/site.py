"""The demo's web site: the bundled feeds and pages served over real HTTP on 127.0.0.1 for ``tfe demo``.

A small threaded HTTP server (standard library) serves, under ``/demo-site/``:

- ``flux/<file>``: the three bundled feeds (``tfe/app/demo/feeds``), with an ETag (a conditional GET
  answers 304, as a well-behaved publisher does);
- ``actualites/`` and ``actualites/<slug>.html``: the listing « Actualités de l'export » and its
  articles (``tfe/app/demo/site``), read by the demo's page source with CSS selectors;
- ``appels-d-offres``: the watched page. Its N-th request gets version ``etape-N`` (the last one once
  they run out), each version adding one tender on top: the first poll is the watch's baseline, the
  next ones show the page "moving". The count is kept in the data dir, so it goes on across restarts;
- ``/robots.txt`` allowing everything (the crawler obeys robots.txt).

The server runs in a daemon thread of the demo process, on the port it used last time (kept in
``<data dir>/demo-site.json``) or, when that port is taken, on a free one: the demo then moves its
sources to the new address (``tfe.app.demo.loader``). Requests are logged at debug level only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tfe.app.demo import DEMO_DIR, FEEDS_DIR

__all__ = ["PREFIX", "SITE_DIR", "DemoSite", "ensure_site", "stop_site"]

log = logging.getLogger(__name__)

SITE_DIR: Path = DEMO_DIR / "site"
PREFIX = "/demo-site"
STATE_FILE = "demo-site.json"
HOST = "127.0.0.1"
_PAGE = re.compile(r"^[a-z0-9-]+\.html$")
_FEED = re.compile(r"^[a-z0-9-]+\.(rss|atom|xml)$")
_FEED_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml", ".xml": "application/xml"}
_ROBOTS = b"User-agent: *\nAllow: /\n"
_NOT_FOUND = (
    '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Page introuvable</title></head>'
    "<body><p>Cette page n'existe pas sur le site de démonstration.</p></body></html>\n"
).encode()


class DemoSite:
    """The demo site of one data dir: ``start()`` binds and serves, ``stop()`` shuts down."""

    def __init__(self, data_dir: Path, *, root: Path = SITE_DIR, feeds: Path = FEEDS_DIR) -> None:
        self.root = root
        self.feeds = feeds
        self.state_path = data_dir / STATE_FILE
        self._lock = threading.Lock()
        self._state: dict[str, Any] = self._read_state()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stages = sorted((root / "appels-d-offres").glob("etape-*.html"), key=_stage_number)

    # -- state --------------------------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def _write_state(self) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._state), encoding="utf-8")
        os.replace(tmp, self.state_path)

    @property
    def tender_requests(self) -> int:
        """How many times the watched page was asked for (kept across restarts)."""
        with self._lock:
            return int(self._state.get("tender_requests", 0))

    def next_tender_page(self) -> Path:
        """The version of the watched page this request gets (and count the request)."""
        with self._lock:
            count = int(self._state.get("tender_requests", 0)) + 1
            self._state["tender_requests"] = count
            self._write_state()
        return self.stages[min(count, len(self.stages)) - 1]

    # -- server -------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("demo site not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/demo-site``: what the demo's source URLs start with."""
        return f"http://{HOST}:{self.port}{PREFIX}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def start(self) -> DemoSite:
        if self._server is not None:
            return self
        handler = _handler(self)
        wanted = int(self._state.get("port") or 0)
        try:
            server = ThreadingHTTPServer((HOST, wanted), handler)
        except OSError:  # last run's port is taken now: a free one (the loader moves the sources)
            server = ThreadingHTTPServer((HOST, 0), handler)
        server.daemon_threads = True
        self._server = server
        with self._lock:
            self._state["port"] = self.port
            self._write_state()
        self._thread = threading.Thread(target=server.serve_forever, name="tfe-demo-site", daemon=True)
        self._thread.start()
        log.info("demo site on %s", self.base_url)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- routes -------------------------------------------------------------------------------------

    def resolve(self, path: str) -> tuple[bytes, str, bool] | None:
        """(body, content type, cacheable) for a request path, ``None`` when there is no such page."""
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path == "/robots.txt":
            return _ROBOTS, "text/plain; charset=utf-8", True
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            return None
        rel = path[len(PREFIX) :].strip("/")
        html = "text/html; charset=utf-8"
        if rel in ("", "actualites"):
            return (self.root / rel / "index.html").read_bytes(), html, True
        if rel == "appels-d-offres":
            return self.next_tender_page().read_bytes(), html, False
        folder, _, name = rel.partition("/")
        if folder == "actualites" and _PAGE.match(name) and (self.root / folder / name).is_file():
            return (self.root / folder / name).read_bytes(), html, True
        if folder == "flux" and _FEED.match(name) and (self.feeds / name).is_file():
            kind = _FEED_TYPES[Path(name).suffix]
            return (self.feeds / name).read_bytes(), f"{kind}; charset=utf-8", True
        return None


def _stage_number(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


def _handler(site: DemoSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "tfe-demo-site"

        def do_GET(self) -> None:
            self._answer(head=False)

        def do_HEAD(self) -> None:
            self._answer(head=True)

        def _answer(self, *, head: bool) -> None:
            try:
                found = site.resolve(self.path)
            except OSError:
                log.exception("demo site: cannot read %s", self.path)
                found = None
            if found is None:
                self._send(404, _NOT_FOUND, "text/html; charset=utf-8", {}, head)
                return
            body, content_type, cacheable = found
            headers = {"Cache-Control": "no-cache"}
            if cacheable:
                etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
                headers["ETag"] = etag
                if etag in (self.headers.get("If-None-Match") or ""):
                    self._send(304, b"", None, headers, head=True)
                    return
            self._send(200, body, content_type, headers, head)

        def _send(
            self, status: int, body: bytes, content_type: str | None, headers: dict[str, str], head: bool
        ) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head and body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("demo site: " + format, *args)

    return Handler


_sites: dict[Path, DemoSite] = {}
_sites_lock = threading.Lock()


def ensure_site(data_dir: Path) -> DemoSite:
    """The running demo site of ``data_dir`` (started on first call; one per data dir and process)."""
    key = data_dir.resolve()
    with _sites_lock:
        site = _sites.get(key)
        if site is None or not site.running:
            site = _sites[key] = DemoSite(key).start()
        return site


def stop_site(data_dir: Path) -> None:
    """Stop the demo site of ``data_dir`` if this process runs it (tests; the demo's process just exits)."""
    with _sites_lock:
        site = _sites.pop(data_dir.resolve(), None)
    if site is not None:
        site.stop()
