"""Article full text: fetch the page an item links to and keep its main text (trafilatura).

``extract_fulltext`` fetches with ``veille.fetch.fetch`` (SSRF guard on every hop, redirects, the
``max_page_bytes`` cap on the wire and once decompressed), keeps only a ``200`` answer of an HTML type,
decodes it (``veille.pagewatch.decode_html``) and hands it to trafilatura's main-text extraction, which
drops navigation, footers and comments. It returns ``None`` (logged at debug level, the URL without its
query string) when the fetch fails, the answer is not a 200 HTML page, extraction fails, or the text is
shorter than ``min_chars`` (the caller passes the length of the feed's summary, so a paywall stub never
replaces a better summary) or than ``MIN_TEXT_CHARS`` (a page of navigation only). It never raises for
network or extraction problems.

Time: trafilatura has no timeout of its own (its ``EXTRACTION_TIMEOUT`` only applies to its CLI, through
signals that worker threads cannot use). Its running time grows with the size of the page, so the input
is bounded instead: the fetch stops at ``max_page_bytes`` (5 MiB by default), the decoded text is cut at
``HTML_MAX_CHARS``, and ``MAX_TREE_SIZE`` makes trafilatura give up on bodies with more elements than
``TREE_MAX_ELEMENTS``. The fetch itself is bounded by the client's timeout: give it one made with
``make_client(settings, settings.fulltext_timeout_s)``.
"""

from __future__ import annotations

import logging
import re
from configparser import ConfigParser
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import httpx

from tfe.core.settings import Settings
from veille.fetch import HTML_ACCEPT, FetchError, fetch
from veille.pagewatch import decode_html, html_language, page_title

__all__ = [
    "HTML_MAX_CHARS",
    "HTML_TYPES",
    "MIN_TEXT_CHARS",
    "TREE_MAX_ELEMENTS",
    "FullText",
    "extract_fulltext",
    "main_text",
]

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
HTML_MAX_CHARS = 5_000_000
TREE_MAX_ELEMENTS = 100_000
TEXT_MAX_CHARS = 200_000
_QUERY = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#]*)[?#]\S*")
MIN_TEXT_CHARS = 100  # below this, what trafilatura found is a menu or a stub, not an article


@dataclass(frozen=True)
class FullText:
    text: str
    title: str
    language: str | None  # two-letter code the page declares (``<html lang>``), if any


@lru_cache(maxsize=1)
def _trafilatura_config() -> ConfigParser:
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MAX_TREE_SIZE", str(TREE_MAX_ELEMENTS))
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def main_text(html: str, url: str) -> str:
    """The main text of an HTML page (trafilatura, precision first, no comments); "" when none."""
    import trafilatura

    text = trafilatura.extract(
        html[:HTML_MAX_CHARS],
        url=url,
        include_comments=False,
        favor_precision=True,
        include_tables=True,
        deduplicate=False,
        config=_trafilatura_config(),
    )
    return (text or "").strip()[:TEXT_MAX_CHARS]


def _safe(url: str) -> str:
    """The URL for logs: scheme, host and path, no query string (it may carry tokens)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{parts.path}"[:200]


def _safe_message(message: str) -> str:
    """A fetch error's reason for logs, query strings of the URLs it quotes removed."""
    return _QUERY.sub(r"\1", message)[:300]


def _is_html(content_type: str, body: bytes) -> bool:
    if content_type:
        return content_type in HTML_TYPES
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def extract_fulltext(
    client: httpx.Client, url: str, settings: Settings, *, min_chars: int = 0
) -> FullText | None:
    """The main text of the article at ``url``, or None (see the module docstring)."""
    try:
        response = fetch(client, url, settings, accept=HTML_ACCEPT, max_bytes=settings.max_page_bytes)
    except FetchError as exc:
        log.debug(
            "fulltext fetch failed url=%s kind=%s reason=%s", _safe(url), exc.kind, _safe_message(exc.message)
        )
        return None
    if response.status != 200 or not _is_html(response.content_type, response.body):
        log.debug(
            "fulltext skipped url=%s status=%s type=%s", _safe(url), response.status, response.content_type
        )
        return None
    try:
        from parsel import Selector

        html = decode_html(response.body, response.headers.get("content-type"))[:HTML_MAX_CHARS]
        text = main_text(html, response.url)
        document = Selector(text=html, base_url=response.url)
        title, language = page_title(document), html_language(document)
    except Exception as exc:  # trafilatura and lxml raise many kinds of errors on odd pages
        log.debug("fulltext extraction failed url=%s error=%s", _safe(url), type(exc).__name__)
        return None
    if len(text) < max(MIN_TEXT_CHARS, min_chars):
        log.debug("fulltext too short url=%s chars=%d min=%d", _safe(url), len(text), min_chars)
        return None
    return FullText(text=text, title=title, language=language)
