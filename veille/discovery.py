"""Feed discovery: from a URL given as a feed, the feed itself or the feeds its HTML page advertises.

A page advertises its feeds with ``<link rel="alternate" type="application/rss+xml|atom+xml|feed+json"
href="...">`` (hrefs resolved against the page URL, ``<base href>`` honoured). ``resolve_feed`` fetches the
URL once through ``veille.fetch`` (SSRF guard, caps); when it answers HTML it takes the first advertised
feed, fetches that, and reports the others as alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx
from parsel import Selector

from tfe.core.errors import ValidationError
from tfe.core.settings import Settings
from veille.fetch import FEED_ACCEPT, FetchResult, fetch, make_client

__all__ = ["FEED_TYPES", "FeedLink", "ResolvedFeed", "advertised_feeds", "looks_like_html", "resolve_feed"]

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class FeedLink:
    """One feed a page advertises."""

    url: str
    type: str
    title: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "type": self.type, "title": self.title}


@dataclass
class ResolvedFeed:
    """The feed a URL leads to: its URL and bytes, and the page it was found on (when it was)."""

    url: str
    body: bytes
    page_url: str | None = None  # set when ``url`` was discovered on an HTML page
    alternatives: list[FeedLink] = field(default_factory=list)  # the page's other feeds

    def discovery(self) -> dict[str, Any] | None:
        """What discovery did, for the caller's report (``None`` when the URL was a feed already)."""
        if self.page_url is None:
            return None
        return {
            "page_url": self.page_url,
            "feed_url": self.url,
            "alternatives": [a.as_dict() for a in self.alternatives],
        }


def looks_like_html(content_type: str, body: bytes) -> bool:
    """Whether an answer is an HTML page (by its media type, or by its first bytes when the type is vague)."""
    if content_type in _HTML_TYPES:
        return True
    if any(content_type.endswith(t) for t in ("xml", "json", "rss", "atom")):
        return False
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _decode(body: bytes, content_type_header: str) -> str:
    charset = "utf-8"
    for part in content_type_header.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"')
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def advertised_feeds(html: str, page_url: str) -> list[FeedLink]:
    """The feeds an HTML page advertises, in page order, without duplicates, as absolute URLs."""
    selector = Selector(text=html or "<html></html>")
    base = selector.css("base::attr(href)").get()
    root = urljoin(page_url, base.strip()) if base else page_url
    links: list[FeedLink] = []
    seen: set[str] = set()
    for link in selector.css("link[href]"):
        rel = (link.attrib.get("rel") or "").lower().split()
        kind = (link.attrib.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rel or kind not in FEED_TYPES:
            continue
        url = urljoin(root, link.attrib["href"].strip())
        if not url.startswith(("http://", "https://")) or url in seen:
            continue
        seen.add(url)
        links.append(FeedLink(url=url, type=kind, title=(link.attrib.get("title") or "").strip()))
    return links


def _get(client: httpx.Client, url: str, settings: Settings) -> FetchResult:
    result = fetch(client, url, settings, accept=FEED_ACCEPT)
    if result.status >= 400:
        raise ValidationError(f"{url[:200]} : le serveur a répondu HTTP {result.status}")
    if result.status >= 300 or not result.body:
        raise ValidationError(f"{url[:200]} : réponse vide (HTTP {result.status})")
    return result


def resolve_feed(url: str, settings: Settings, client: httpx.Client | None = None) -> ResolvedFeed:
    """Fetch ``url``; if it answers HTML, follow its first advertised feed. ``ValidationError`` otherwise.

    A page that advertises no feed is refused with a hint to catalogue it as a ``page`` or ``watch``
    source instead (unless its bytes parse as a feed anyway: servers do mislabel feeds as HTML).
    """
    own = client is None
    http = client or make_client(settings)
    try:
        first = _get(http, url, settings)
        if not looks_like_html(first.content_type, first.body):
            return ResolvedFeed(url=first.permanent_url or url, body=first.body)
        feeds = advertised_feeds(_decode(first.body, first.headers.get("content-type", "")), first.url)
        if not feeds:
            if not first.body.lstrip()[:100].lower().startswith((b"<?xml", b"<rss", b"<feed")):
                raise ValidationError(
                    f'{url[:200]} est une page HTML qui n\'annonce aucun flux (<link rel="alternate">) :'
                    " cataloguez-la comme source « page » ou « watch »"
                )
            return ResolvedFeed(url=url, body=first.body)
        chosen = _get(http, feeds[0].url, settings)
        return ResolvedFeed(
            url=chosen.permanent_url or feeds[0].url,
            body=chosen.body,
            page_url=first.url,
            alternatives=feeds[1:],
        )
    finally:
        if own:
            http.close()
