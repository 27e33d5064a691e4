"""extract_fulltext through a real local HTTP server: the main text without boilerplate; failures are None."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_settings
from tfe.core.settings import Settings
from veille.fetch import make_client
from veille.fulltext import extract_fulltext

ARTICLE = (Path(__file__).parent / "fixtures" / "article.html").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path in ("/article", "/article?token=secret-value"):
            self._send(200, ARTICLE, "text/html; charset=utf-8")
        elif self.path == "/latin":
            self._send(
                200, ARTICLE.decode("utf-8").encode("latin-1", "replace"), "text/html; charset=latin-1"
            )
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/article")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/report.pdf":
            self._send(200, b"%PDF-1.4 not html", "application/pdf")
        elif self.path == "/big":
            self._send(200, ARTICLE * 20, "text/html; charset=utf-8")
        elif self.path == "/empty":
            self._send(200, b"<html><body><nav>Accueil</nav></body></html>", "text/html")
        else:
            self._send(404, b"<html><body><p>Page introuvable</p></body></html>", "text/html")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, fetch_allow_private=True, max_page_bytes=len(ARTICLE) * 4)


@pytest.fixture
def client(settings: Settings) -> Iterator[httpx.Client]:
    with make_client(settings, settings.fulltext_timeout_s) as client:
        yield client


def test_main_text_without_boilerplate(server: str, settings: Settings, client: httpx.Client) -> None:
    full = extract_fulltext(client, f"{server}/moved", settings)  # redirects are followed
    assert full is not None
    assert "progressé de 12 %" in full.text
    assert "accord de partenariat économique" in full.text
    for boilerplate in ("Accueil", "Abonnez-vous", "cookies", "Mentions légales", "Le cognac en Chine"):
        assert boilerplate not in full.text
    assert "analytics" not in full.text and "font-family" not in full.text
    assert full.title == "Vins français : les exportations vers le Japon progressent"
    assert full.language == "fr"


def test_declared_charset_is_used(server: str, settings: Settings, client: httpx.Client) -> None:
    full = extract_fulltext(client, f"{server}/latin", settings)
    assert full is not None and "Les délais de paiement" in full.text


def test_min_chars_keeps_the_better_summary(server: str, settings: Settings, client: httpx.Client) -> None:
    full = extract_fulltext(client, f"{server}/article", settings)
    assert full is not None
    assert extract_fulltext(client, f"{server}/article", settings, min_chars=len(full.text) + 1) is None
    assert extract_fulltext(client, f"{server}/empty", settings) is None  # nothing but navigation


@pytest.mark.parametrize("path", ["/report.pdf", "/missing", "/big"])
def test_failures_are_none(path: str, server: str, settings: Settings, client: httpx.Client) -> None:
    assert extract_fulltext(client, f"{server}{path}", settings) is None


def test_network_and_guard_failures_are_none_and_keep_secrets_out_of_logs(
    server: str, tmp_path: Path, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    strict = make_settings(tmp_path, fetch_allow_private=False)
    caplog.set_level("DEBUG", logger="veille.fulltext")
    assert (
        extract_fulltext(client, f"{server}/article?token=secret-value", strict) is None
    )  # loopback refused
    assert (
        extract_fulltext(
            client, "http://127.0.0.1:9/closed", make_settings(tmp_path, fetch_allow_private=True)
        )
        is None
    )
    assert caplog.records and all("secret-value" not in r.getMessage() for r in caplog.records)
    assert any("kind=unsafe" in r.getMessage() for r in caplog.records)


def test_fetch_errors_quoting_urls_lose_their_query_strings(
    server: str, settings: Settings, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="veille.fulltext")
    assert extract_fulltext(client, "ftp://example.test/file?token=secret-value", settings) is None
    assert caplog.records and all("secret-value" not in r.getMessage() for r in caplog.records)
