"""A source's preview: fetch it once and describe what it would yield (nothing is saved).

A feed's entries (an HTML page's advertised feed is followed), a listing page's articles (crawled by its
selectors), a watched page's region and whether it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tfe.core.errors import ValidationError
from tfe.core.settings import Settings
from veille.source_views import iso

PREVIEW_ENTRIES = 10


@dataclass
class PreviewView:
    """What a source would yield now (fetched once, nothing saved)."""

    url: str
    kind: str
    title: str
    entries: list[dict[str, Any]] = field(default_factory=list)
    discovery: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    changed: bool | None = None  # watch: whether the region differs from the stored snapshot

    def as_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "kind": self.kind,
            "title": self.title,
            "entries": self.entries,
            "discovery": self.discovery,
            "errors": self.errors,
            "changed": self.changed,
        }


def preview(url: str, kind: str, config: dict[str, Any], settings: Settings) -> PreviewView:
    """Fetch once and describe what the source yields: a feed's entries, a listing's articles, a region."""
    if kind == "feed":
        from ingest.feeds import parse_feed
        from veille.discovery import resolve_feed

        resolved = resolve_feed(url, settings)
        parsed = parse_feed(resolved.body, resolved.url)
        entries = [
            {"title": e.title, "url": e.url, "published_at": iso(e.published_at), "text": ""}
            for e in parsed.entries[:PREVIEW_ENTRIES]
        ]
        return PreviewView(
            url=resolved.url, kind=kind, title=parsed.title, entries=entries, discovery=resolved.discovery()
        )
    if kind == "page":
        from veille.crawl import crawl_listing

        crawled = crawl_listing(url, config, settings)
        entries = [
            {
                "title": a.title,
                "url": a.url,
                "published_at": iso(a.published_at),
                "text": (a.text or "")[:500],
            }
            for a in crawled.articles[:PREVIEW_ENTRIES]
        ]
        return PreviewView(
            url=url, kind=kind, title="", entries=entries, errors=[str(e) for e in crawled.errors]
        )
    from veille.fetch import HTML_ACCEPT, fetch, make_client
    from veille.pagewatch import watch_region

    with make_client(settings) as client:
        page = fetch(client, url, settings, accept=HTML_ACCEPT, max_bytes=settings.max_page_bytes)
    if page.status >= 300:
        raise ValidationError(f"{url[:200]} : le serveur a répondu HTTP {page.status}")
    outcome = watch_region(page.body, page.url, config, None)
    entries = [{"title": "", "url": page.url, "published_at": None, "text": (outcome.text or "")[:2000]}]
    return PreviewView(url=page.url, kind=kind, title="", entries=entries, changed=bool(outcome.changed))
