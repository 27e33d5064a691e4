"""crawl_listing against a real local HTTP server: robots.txt, selectors and fallbacks, known URLs, the SSRF
guard on redirects, the hard time limit, a crashing worker, and config errors (no child started)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import make_settings
from tfe.core.errors import ValidationError
from tfe.core.settings import Settings
from veille.crawl import crawl_listing, scrapy_settings, validate_crawl_config

ARTICLE = (Path(__file__).parent / "fixtures" / "article.html").read_bytes()
LISTING = b"""<html><head><title>Actualites</title></head><body>
<nav><a href="/about">A propos</a></nav>
<ul class="news">
  <li><a href="/a/1">Vins au Japon</a></li>
  <li><a href="/a/2#haut">Textile en Inde</a></li>
  <li><a href="/private/3">Reserve</a></li>
  <li><a href="/old/4">Ancienne adresse</a></li>
  <li><a href="/a/1">Vins au Japon (doublon)</a></li>
</ul></body></html>"""
ARTICLE_2 = b"""<html><head><title>Textile en Inde</title></head><body>
<div class="post"><h2 class="headline">Le textile technique en Inde</h2>
<span class="when">2025-02-20T09:00:00Z</span>
<div class="content"><p>Le marche indien du textile technique croit de 8 % par an.</p>
<p>Les industriels francais y trouvent des partenaires.</p></div></div>
<div class="footer">Pied de page</div></body></html>"""


@dataclass
class Site:
    base: str
    requests: list[str] = field(default_factory=list)

    def count(self, path: str) -> int:
        return self.requests.count(path)


class _Handler(BaseHTTPRequestHandler):
    site: Site
    release: threading.Event

    def _send(self, status: int, body: bytes = b"", content_type: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path  # a proxied request carries the absolute URL
        self.site.requests.append(path)
        if path == "/robots.txt":
            self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        elif path == "/news":
            self._send(200, LISTING)
        elif path == "/a/1":
            self._send(200, ARTICLE)
        elif path == "/old/4":
            self.send_response(301)
            self.send_header("Location", "/a/4")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/a/4":
            self._send(200, ARTICLE_2.replace(b"Inde", b"Inde (suite)"))
        elif path == "/a/2":
            self._send(200, ARTICLE_2)
        elif path == "/slow-news":
            self._send(
                200, b'<html><body><a class="x" href="/a/2">a</a><a class="x" href="/hang">b</a></body>'
            )
        elif path == "/hang":
            self.release.wait(30)
            self._send(200, ARTICLE)
        elif path == "/to-loopback":  # seen through the proxy: a public address redirecting inside
            self.send_response(302)
            self.send_header("Location", f"{self.site.base}/secret")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"<html><body>introuvable</body></html>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[Site]:
    release = threading.Event()
    handler: type[_Handler] = type("Handler", (_Handler,), {"release": release})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    handler.site = Site(base=f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield handler.site
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, fetch_allow_private=True, poll_host_delay_s=0.0, fulltext_timeout_s=5.0)


def test_listing_obeys_robots_and_falls_back_to_page_metadata(site: Site, settings: Settings) -> None:
    result = crawl_listing(f"{site.base}/news", {"links": "ul.news a"}, settings)
    assert result.listing_status == 200
    assert result.robots_refused is True
    assert any("robots.txt" in error and "/private/3" in error for error in result.errors)
    assert site.count("/private/3") == 0  # never fetched
    assert site.count("/a/1") == 1  # the duplicate link is fetched once
    by_url = {article.url: article for article in result.articles}
    # fragment dropped; a redirected link keeps the listing's URL, so known_urls matches it next time
    assert set(by_url) == {f"{site.base}/a/1", f"{site.base}/a/2", f"{site.base}/old/4"}
    assert site.count("/a/4") == 1 and by_url[f"{site.base}/old/4"].title == "Textile en Inde (suite)"
    wine = by_url[f"{site.base}/a/1"]
    assert wine.title == "Vins français : les exportations vers le Japon progressent"  # og:title
    assert wine.published_at == dt.datetime(2025, 3, 4, 7, 30, tzinfo=dt.UTC)
    assert "progressé de 12 %" in wine.text  # trafilatura's main text, without the boilerplate
    assert "Mentions légales" not in wine.text and "cookies" not in wine.text


def test_selectors_in_xpath_and_max_articles(site: Site, settings: Settings) -> None:
    config = {
        "selector_type": "xpath",
        "links": "//ul[@class='news']//a/@href",
        "title": "//h2[@class='headline']",
        "body": "//div[@class='content']",
        "date": "//span[@class='when']",
        "max_articles": 2,
    }
    known = {f"{site.base}/a/1"}
    result = crawl_listing(f"{site.base}/news", config, settings, known_urls=known)
    assert site.count("/a/1") == 0  # known: not fetched again
    assert site.count("/private/3") == 0  # beyond max_articles, not even asked of robots.txt
    assert result.robots_refused is False and result.errors == []
    [article] = result.articles
    assert article.title == "Le textile technique en Inde"
    assert article.text == (
        "Le marche indien du textile technique croit de 8 % par an.\n"
        "Les industriels francais y trouvent des partenaires."
    )
    assert article.published_at == dt.datetime(2025, 2, 20, 9, 0, tzinfo=dt.UTC)


def test_listing_errors_come_back_in_the_result(site: Site, settings: Settings) -> None:
    result = crawl_listing(f"{site.base}/missing", {"links": "a"}, settings)
    assert result.listing_status == 404
    assert result.articles == []
    assert any("HTTP 404" in error for error in result.errors)


def test_redirect_to_loopback_is_refused(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A public address (reached through a local proxy) redirects to 127.0.0.1: the guard drops the hop."""
    monkeypatch.setenv("http_proxy", site.base)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    strict = make_settings(tmp_path, fetch_allow_private=False, poll_host_delay_s=0.0, fulltext_timeout_s=5.0)
    result = crawl_listing("http://93.184.215.14/to-loopback", {"links": "a"}, strict)
    assert site.count("/to-loopback") == 1  # the public URL was allowed
    assert site.count("/secret") == 0  # its redirect into loopback was not
    assert result.listing_status is None and result.articles == []
    assert any("URL refused" in error and "127.0.0.1" in error for error in result.errors)
    direct = crawl_listing(f"{site.base}/news", {"links": "a"}, strict)
    assert any("URL refused" in error for error in direct.errors)
    assert site.count("/news") == 0


def test_hard_time_limit_keeps_what_was_gathered(site: Site, settings: Settings) -> None:
    started = time.monotonic()
    config = {"links": "a.x", "body": "div.content"}
    # 10 s: enough for the worker process to start and reach /hang on a loaded machine (at 4 s it
    # sometimes had not yet asked for it), well under the 30 s the hanging article would hold it
    result = crawl_listing(f"{site.base}/slow-news", config, settings, timeout_s=10.0)
    assert time.monotonic() - started < 25.0
    assert site.count("/hang") >= 1  # asked for (a retry after the per-request timeout may ask again)
    assert [article.url for article in result.articles] == [f"{site.base}/a/2"]
    assert any("time" in error for error in result.errors)


def test_worker_crash_is_a_result_not_an_exception(site: Site, settings: Settings) -> None:
    result = crawl_listing(f"{site.base}/news", {"links": "a"}, settings, memory_mb=16)
    assert result.articles == [] and result.listing_status is None
    # the reason varies with where memory ran out (the child may report its own error first); the
    # parent always records that the worker failed
    assert result.errors and any(error.startswith("crawl worker failed") for error in result.errors)
    assert site.count("/news") == 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "links est obligatoire"),
        ({"links": "a", "selector_type": "regex"}, "selector_type"),
        ({"links": "a[", "selector_type": "css"}, "links invalide"),
        ({"links": "//a[", "selector_type": "xpath"}, "links invalide"),
        ({"links": "a", "body": ""}, "body est obligatoire"),
        ({"links": "a", "max_articles": 0}, "max_articles"),
        ({"links": "a", "max_articles": "20"}, "max_articles"),
    ],
)
def test_bad_config_is_a_validation_error(
    config: dict[str, object], message: str, settings: Settings
) -> None:
    with pytest.raises(ValidationError, match=message):
        crawl_listing("http://127.0.0.1:9/", config, settings)


def test_the_parent_never_imports_twisted() -> None:
    code = (
        "import sys, veille.crawl, veille.pagewatch, veille.fulltext;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('twisted', 'scrapy')))"
    )
    answer = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert answer.stdout.strip() == "[]"


def test_scrapy_settings_follow_the_platform_settings(settings: Settings) -> None:
    values = scrapy_settings(settings, timeout_s=60.0)
    assert values["TELNETCONSOLE_ENABLED"] is False and values["REMOTE_CONTROL_ENABLED"] is False
    assert values["ROBOTSTXT_OBEY"] is True and values["COOKIES_ENABLED"] is False
    assert values["USER_AGENT"] == settings.user_agent
    assert values["DOWNLOAD_MAXSIZE"] == settings.max_page_bytes
    assert values["CONCURRENT_REQUESTS_PER_DOMAIN"] == settings.poll_host_concurrency
    assert values["REDIRECT_MAX_TIMES"] == settings.max_redirects
    assert values["CLOSESPIDER_TIMEOUT"] < 60.0
    assert validate_crawl_config({"links": "a"})["max_articles"] == 20
