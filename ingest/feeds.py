"""Reading one RSS, Atom or JSON feed into ``IngestItem``s.

``parse_feed`` reads RSS and Atom (feedparser) and JSON Feed bytes; ``read_feed_file`` reads a local file.
Fetching over HTTP is the watch's job (``veille.fetch``: SSRF guard, caps, conditional GET): feedparser
only ever parses bytes, it has no timeout, so it must never fetch.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import feedparser

from ingest.item import IngestItem
from tfe.core.errors import TooLargeError, ValidationError
from tfe.core.settings import Settings

__all__ = ["NEWS_DOCTYPE", "FeedResult", "entry_to_item", "parse_feed", "read_feed_file", "strip_html"]

NEWS_DOCTYPE = "doctype:news"

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
    link: str | None = None  # the site the feed belongs to
    publisher_interval_s: int | None = None  # from <ttl> or sy:updatePeriod, when the feed says


def strip_html(value: str) -> str:
    """Plain text of an HTML fragment (block tags become line breaks, entities decoded)."""
    text = _BLOCK.sub("\n", value or "")
    text = html.unescape(_TAGS.sub(" ", text))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


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


def _seconds(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400, "yearly": 365 * 86400}


def _publisher_interval(feed: Any) -> int | None:
    """The interval the publisher asks for: RSS ``<ttl>`` (minutes) or ``sy:updatePeriod``/``Frequency``."""
    ttl = _seconds(feed.get("ttl"))
    if ttl:
        return ttl * 60
    period = _PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    if period:
        frequency = _seconds(feed.get("sy_updatefrequency")) or 1
        return max(1, period // max(1, frequency))
    return None


def _json_feed(data: bytes) -> Any | None:
    """A JSON Feed (jsonfeed.org 1.x) as feedparser-like dicts, or ``None`` if ``data`` is not one."""
    if data.lstrip()[:1] != b"{":
        return None
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    if not isinstance(doc, dict) or "jsonfeed.org" not in str(doc.get("version", "")):
        return None
    entries = []
    for raw in doc.get("items") or []:
        if not isinstance(raw, dict):
            continue
        published = raw.get("date_published") or raw.get("date_modified")
        parsed_date = None
        if isinstance(published, str):
            try:
                parsed_date = dt.datetime.fromisoformat(published.replace("Z", "+00:00")).utctimetuple()
            except ValueError:
                parsed_date = None
        authors = raw.get("authors") or ([raw["author"]] if isinstance(raw.get("author"), dict) else [])
        entries.append(
            {
                "id": raw.get("id"),
                "link": raw.get("url") or raw.get("external_url"),
                "title": raw.get("title") or "",
                "summary": raw.get("summary") or raw.get("content_html") or raw.get("content_text") or "",
                "content": [{"value": raw.get("content_html") or raw.get("content_text") or ""}],
                "published_parsed": parsed_date,
                "author": (authors[0].get("name") if authors and isinstance(authors[0], dict) else None),
            }
        )
    return {"title": str(doc.get("title") or ""), "link": doc.get("home_page_url"), "entries": entries}


def parse_feed(data: bytes, feed_url: str) -> FeedResult:
    """Parse RSS, Atom or JSON Feed bytes; ``ValidationError`` if they are none of them."""
    as_json = _json_feed(data)
    if as_json is not None:
        title = strip_html(as_json["title"]).replace("\n", " ")
        entries = [entry_to_item(e, feed_url, title) for e in as_json["entries"]]
        return FeedResult(title=title, url=feed_url, entries=entries, link=as_json["link"])
    parsed = feedparser.parse(data)
    if not parsed.get("version") and not parsed.entries:
        problem = parsed.get("bozo_exception") or "no RSS/Atom root element"
        raise ValidationError(f"not an RSS/Atom/JSON feed: {feed_url} ({str(problem)[:200]})")
    title = strip_html(parsed.feed.get("title") or "").replace("\n", " ")
    entries = [entry_to_item(e, feed_url, title) for e in parsed.entries]
    return FeedResult(
        title=title,
        url=feed_url,
        entries=entries,
        link=parsed.feed.get("link") or None,
        publisher_interval_s=_publisher_interval(parsed.feed),
    )


def read_feed_file(path_or_uri: str, settings: Settings) -> FeedResult:
    """Read and parse a feed file (a path or a ``file://`` URL), within ``max_feed_bytes``."""
    parsed_url = urlparse(path_or_uri)
    path = Path(unquote(parsed_url.path) if parsed_url.scheme == "file" else path_or_uri)
    try:
        size = path.stat().st_size
        if size > settings.max_feed_bytes:
            raise TooLargeError(f"feed too large ({size} bytes > {settings.max_feed_bytes})")
        data = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read feed {path_or_uri}: {exc.strerror or exc}") from exc
    return parse_feed(data, path.absolute().as_uri())
