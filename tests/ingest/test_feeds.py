"""read_feed on fixture files and through a real local HTTP server (redirects, 304, size cap)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest.feeds import strip_html
from tests.conftest import make_settings
from tests.paths import SHARED_DATA
from tfe.core.errors import ValidationError
from tfe.core.settings import Settings
from veille.feeds import read_feed

FEEDS = SHARED_DATA / "fixtures" / "feeds"
FT = FEEDS / "economic_news_en" / "ft-home.xml"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, feed_timeout_s=5.0)


def test_rss_file(settings: Settings) -> None:
    result = read_feed(str(FT), settings)
    assert result.title == "myFT following"
    assert len(result.entries) == 20
    entry = result.entries[0]
    assert entry.kind == "item" and entry.doc_type == "doctype:news"
    assert entry.title.startswith("Chart of the Week")
    assert entry.text and entry.text.startswith(entry.title)
    assert "<" not in entry.text  # HTML stripped
    assert entry.guid and entry.url and entry.url.startswith("https://")
    assert entry.key == f"{result.url}#{entry.guid}"
    assert entry.meta["feed_url"] == result.url
    assert len({e.key for e in result.entries}) == len(result.entries)


def test_atom_file_via_file_url_with_dates(settings: Settings) -> None:
    path = FEEDS / "assorted" / "heise.atom"
    result = read_feed(path.as_uri(), settings)
    assert len(result.entries) == 15
    assert all(e.published_at is not None and e.published_at.tzinfo for e in result.entries)


def test_bozo_feed_with_entries_is_accepted(settings: Settings) -> None:
    assert read_feed(str(FEEDS / "assorted" / "uolNoticias.rss"), settings).entries


def test_not_a_feed(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"^not an RSS/Atom/JSON feed"):
        read_feed(str(FEEDS / "assorted" / "unrecognized.rss"), settings)
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>Bonjour</p></body></html>")
    with pytest.raises(ValidationError, match=r"^not an RSS/Atom/JSON feed"):
        read_feed(str(page), settings)


def test_missing_file(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read feed"):
        read_feed(str(tmp_path / "nope.xml"), settings)


def test_strip_html() -> None:
    assert strip_html("<p>Un &amp; deux</p><script>x()</script><br/>trois") == "Un & deux\ntrois"


class _FeedHandler(BaseHTTPRequestHandler):
    body = FT.read_bytes()
    etag = '"v1"'

    def do_GET(self) -> None:
        if self.path == "/old":
            self.send_response(301)
            self.send_header("Location", "/feed.xml")
            self.end_headers()
            return
        if self.path == "/big.xml":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.end_headers()  # no Content-Length: the cap must hold while streaming
            self.wfile.write(self.body * 50)
            return
        if self.path != "/feed.xml":
            self.send_error(404)
            return
        if self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("ETag", self.etag)
        self.send_header("Last-Modified", "Sat, 21 Feb 2026 16:18:50 GMT")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _FeedHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_http_feed_with_redirect_and_conditional_get(server: str, settings: Settings) -> None:
    result = read_feed(f"{server}/old", settings)
    assert len(result.entries) == 20
    assert result.url == f"{server}/feed.xml"
    assert result.etag == '"v1"' and result.last_modified
    again = read_feed(f"{server}/feed.xml", settings, etag=result.etag, last_modified=result.last_modified)
    assert again.not_modified and again.entries == []


def test_http_size_cap_and_errors(server: str, tmp_path: Path) -> None:
    capped = make_settings(tmp_path, max_feed_bytes=len(_FeedHandler.body) * 2)
    with pytest.raises(ValidationError, match="too large"):
        read_feed(f"{server}/big.xml", capped)
    with pytest.raises(ValidationError, match="HTTP 404"):
        read_feed(f"{server}/missing.xml", capped)
