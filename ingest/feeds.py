"""Reading one RSS/Atom feed into ``IngestItem``s.

Local files (a path or a ``file://`` URL) are read directly; ``http(s)`` URLs are fetched with httpx
(timeout, streamed size cap, redirects, conditional GET with ETag/Last-Modified). feedparser only ever
parses bytes: it has no timeout, so it must never fetch.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import feedparser
import httpx

from ingest.item import IngestItem
from tfe.core.errors import TooLargeError, ValidationError
from tfe.core.settings import Settings

__all__ = ["NEWS_DOCTYPE", "FeedResult", "entry_to_item", "read_feed", "strip_html"]

NEWS_DOCTYPE = "doctype:news"
USER_AGENT = "tfe-veille/0.1 (+https://tfe.example.org)"

_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.S | re.I)
_BLOCK = re.compile(r"</?(p|div|br|li|h[1-6]|tr|blockquote)\b[^>]*>", re.I)


@dataclass
class FeedResult:
    """A parsed feed: its title and link, its entries, and the validators for the next conditional GET."""

    title: str
    url: str
    entries: list[IngestItem] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # the server answered 304: nothing new since etag/last_modified


def strip_html(value: str) -> str:
    """Plain text of an HTML fragment (block tags become line breaks, entities decoded)."""
    text = _BLOCK.sub("\n", value or "")
    text = html.unescape(_TAGS.sub(" ", text))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _fetch(url: str, settings: Settings, etag: str | None, last_modified: str | None) -> tuple[bytes, Any]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/atom+xml, application/rss+xml, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        with (
            httpx.Client(timeout=settings.feed_timeout_s, follow_redirects=True, headers=headers) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code == 304:
                return b"", response
            if response.status_code >= 400:
                raise ValidationError(f"feed fetch failed: HTTP {response.status_code} for {url}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > settings.max_feed_bytes:
                raise TooLargeError(f"feed too large ({declared} bytes > {settings.max_feed_bytes})")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > settings.max_feed_bytes:
                    raise TooLargeError(f"feed too large (over {settings.max_feed_bytes} bytes)")
                chunks.append(chunk)
            return b"".join(chunks), response
    except httpx.HTTPError as exc:
        raise ValidationError(f"feed fetch failed: {type(exc).__name__}: {exc} ({url})") from exc


def _published(entry: Any) -> dt.datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed") or entry.get("created_parsed")
    if not parsed:
        return None
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)


def entry_to_item(entry: Any, feed_url: str, feed_title: str) -> IngestItem:
    """One feedparser entry as an ``IngestItem`` (text = title + summary/content, HTML stripped)."""
    title = strip_html(entry.get("title") or "").replace("\n", " ")
    summary = strip_html(entry.get("summary") or entry.get("description") or "")
    contents = [strip_html(c.get("value") or "") for c in entry.get("content") or []]
    body = max([summary, *contents], key=len)
    text = "\n\n".join(part for part in (title, body) if part)
    link = entry.get("link") or None
    guid = entry.get("id") or link or hashlib.sha256(text.encode("utf-8")).hexdigest()
    author = entry.get("author") or None
    return IngestItem(
        key=f"{feed_url}#{guid}",
        kind="item",
        filename="",
        data=None,
        text=text,
        title=title,
        url=link,
        published_at=_published(entry),
        author=author,
        visibility="network",
        doc_type=NEWS_DOCTYPE,
        guid=str(guid),
        meta={"feed_url": feed_url, "feed_title": feed_title, "summary": summary[:5000]},
    )


def read_feed(
    url_or_path: str, settings: Settings, *, etag: str | None = None, last_modified: str | None = None
) -> FeedResult:
    """Fetch (or read) and parse one feed; ``ValidationError`` if it is not an RSS/Atom feed."""
    parsed_url = urlparse(url_or_path)
    etag_out = modified_out = None
    if parsed_url.scheme in ("http", "https"):
        data, response = _fetch(url_or_path, settings, etag, last_modified)
        etag_out = response.headers.get("etag")
        modified_out = response.headers.get("last-modified")
        if response.status_code == 304:
            return FeedResult(
                title="",
                url=url_or_path,
                etag=etag or etag_out,
                last_modified=last_modified or modified_out,
                not_modified=True,
            )
        feed_url = str(response.url)
    else:
        path = Path(unquote(parsed_url.path) if parsed_url.scheme == "file" else url_or_path)
        try:
            size = path.stat().st_size
            if size > settings.max_feed_bytes:
                raise TooLargeError(f"feed too large ({size} bytes > {settings.max_feed_bytes})")
            data = path.read_bytes()
        except OSError as exc:
            raise ValidationError(f"cannot read feed {url_or_path}: {exc.strerror or exc}") from exc
        feed_url = path.absolute().as_uri()
    parsed = feedparser.parse(data)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception") or "no RSS/Atom root element"
        raise ValidationError(f"not an RSS/Atom feed: {url_or_path} ({str(problem)[:200]})")
    title = strip_html(parsed.feed.get("title") or "").replace("\n", " ")
    entries = [entry_to_item(e, feed_url, title) for e in parsed.entries]
    return FeedResult(title=title, url=feed_url, entries=entries, etag=etag_out, last_modified=modified_out)
