"""One feed read once, from a file or over HTTP: ``tfe ingest --feed`` and the catalogue's previews.

HTTP goes through ``veille.fetch`` (SSRF guard, caps, conditional GET); the poller judges statuses
itself, this one-shot reader turns a non-200 answer into a ``ValidationError`` with the status.
"""

from __future__ import annotations

from urllib.parse import urlparse

from ingest.feeds import FeedResult, parse_feed, read_feed_file
from tfe.core.errors import ValidationError
from tfe.core.settings import Settings
from veille.fetch import fetch, make_client

__all__ = ["read_feed"]


def read_feed(
    url_or_path: str, settings: Settings, *, etag: str | None = None, last_modified: str | None = None
) -> FeedResult:
    """Fetch (or read) and parse one feed; ``ValidationError`` if it cannot be read or is not a feed."""
    if urlparse(url_or_path).scheme not in ("http", "https"):
        return read_feed_file(url_or_path, settings)
    with make_client(settings) as client:
        result = fetch(client, url_or_path, settings, etag=etag, last_modified=last_modified)
    etag_out = result.headers.get("etag") or etag
    modified_out = result.headers.get("last-modified") or last_modified
    if result.status == 304:
        return FeedResult(
            title="", url=url_or_path, etag=etag_out, last_modified=modified_out, not_modified=True
        )
    if result.status != 200:
        raise ValidationError(f"feed fetch failed: HTTP {result.status} for {url_or_path}")
    feed = parse_feed(result.body, result.url)
    feed.etag, feed.last_modified = etag_out, modified_out
    return feed
