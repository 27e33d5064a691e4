"""The two demo watch feeds (RSS 2.0 and Atom 1.0), from ``data/feeds.json``."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from .content import load


def _feed_dt(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=8, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def rss(feed: dict[str, Any], base: str) -> str:
    items = []
    for item in feed["items"]:
        link = f"{base}/{feed['path']}/{item['slug']}"
        items.append(
            "    <item>\n"
            f"      <title>{escape(item['title'])}</title>\n"
            f"      <link>{link}</link>\n"
            f'      <guid isPermaLink="true">{link}</guid>\n'
            f"      <pubDate>{format_datetime(_feed_dt(item['date']))}</pubDate>\n"
            f"      <description>{escape(item['summary'])}</description>\n"
            "    </item>\n"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n  <channel>\n'
        f"    <title>{escape(feed['title'])}</title>\n"
        f"    <link>{base}/{feed['path']}</link>\n"
        f"    <description>{escape(feed['description'])}</description>\n"
        f"    <language>{feed['language']}</language>\n"
        f"    <lastBuildDate>{format_datetime(_feed_dt(feed['items'][-1]['date']))}</lastBuildDate>\n"
        + "".join(items) + "  </channel>\n</rss>\n"
    )


def atom(feed: dict[str, Any], base: str) -> str:
    entries = []
    for item in feed["items"]:
        link = f"{base}/{feed['path']}/{item['slug']}"
        entries.append(
            "  <entry>\n"
            f"    <title>{escape(item['title'])}</title>\n"
            f'    <link rel="alternate" href="{link}"/>\n'
            f"    <id>{link}</id>\n"
            f"    <updated>{_feed_dt(item['date']).isoformat()}</updated>\n"
            f'    <summary type="text">{escape(item["summary"])}</summary>\n'
            "  </entry>\n"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{feed["language"]}">\n'
        f"  <title>{escape(feed['title'])}</title>\n"
        f"  <subtitle>{escape(feed['subtitle'])}</subtitle>\n"
        f'  <link rel="self" href="{base}/{feed["path"]}.atom"/>\n'
        f'  <link rel="alternate" href="{base}/{feed["path"]}"/>\n'
        f"  <id>{base}/{feed['path']}</id>\n"
        f"  <updated>{_feed_dt(feed['items'][-1]['date']).isoformat()}</updated>\n"
        f"  <author><name>{escape(feed['author'])}</name></author>\n"
        + "".join(entries) + "</feed>\n"
    )


def build_feeds(feeds_dir: Path) -> list[Path]:
    """Write both feeds into feeds_dir; return their paths."""
    data = load("feeds.json")
    feeds_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, render in (("rss", rss), ("atom", atom)):
        path = feeds_dir / data[kind]["file"]
        path.write_text(render(data[kind], data["base"]), encoding="utf-8")
        paths.append(path)
    return paths
