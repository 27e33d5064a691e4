"""OPML 2.0 reading and writing for the source catalogue (feed readers' export format).

Reading: every ``<outline>`` with an ``xmlUrl`` is a feed; its ``category`` attribute (comma-separated,
``/a/b`` paths and bare tags, as RSS 2.0 categories) and the text of the folder outlines it sits in become
its tags, folders first. The parser is ``xml.etree``'s with a target that refuses any DOCTYPE, and the
bytes are checked for DOCTYPE/ENTITY declarations first: no entity expansion, no external fetch.
Writing: one folder per first tag (feeds without tags at the top level), every tag in ``category``, so
that reading an export gives back the same URLs, titles and tags.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tfe.core.errors import ValidationError

__all__ = ["OpmlFeed", "parse_opml", "split_categories", "write_opml"]

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


@dataclass
class OpmlFeed:
    """One feed outline: its URL, title, tags (folders then categories) and language."""

    url: str
    title: str = ""
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    html_url: str | None = None


class _NoDoctype(ET.TreeBuilder):
    """A tree builder that refuses DOCTYPE declarations (where entities would be declared)."""

    def doctype(self, name: str, pubid: str, system: str) -> None:
        raise ValidationError("OPML refusé : les déclarations DOCTYPE/ENTITY ne sont pas acceptées")


def _check_declarations(data: bytes) -> None:
    texts = [data]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        texts.append(data.decode("utf-16", errors="replace").encode("utf-8"))
    if any(_DECLARATION.search(t) for t in texts):
        raise ValidationError("OPML refusé : les déclarations DOCTYPE/ENTITY ne sont pas acceptées")


def split_categories(value: str | None) -> list[str]:
    """The tags of a ``category`` attribute: comma-separated, stripped, empty ones dropped."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _dedup(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def _walk(element: ET.Element, folders: list[str], out: list[OpmlFeed]) -> None:
    for outline in element.findall("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        label = (outline.get("title") or outline.get("text") or "").strip()
        if url:
            out.append(
                OpmlFeed(
                    url=url,
                    title=label,
                    tags=_dedup([*folders, *split_categories(outline.get("category"))]),
                    language=(outline.get("language") or "").strip() or None,
                    html_url=(outline.get("htmlUrl") or "").strip() or None,
                )
            )
        folder = [label.replace(",", " ").strip()] if label and not url else []
        _walk(outline, [*folders, *folder], out)


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document; ``ValidationError`` (one line) when it is not OPML."""
    _check_declarations(data)
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        root = parser.close()
    except ET.ParseError as exc:
        raise ValidationError(f"OPML illisible : XML mal formé ({exc})") from exc
    if root.tag != "opml":
        raise ValidationError(f"OPML illisible : l'élément racine est <{root.tag[:50]}>, pas <opml>")
    body = root.find("body")
    if body is None:
        raise ValidationError("OPML illisible : pas d'élément <body>")
    feeds: list[OpmlFeed] = []
    _walk(body, [], feeds)
    return feeds


def _outline(parent: ET.Element, feed: OpmlFeed) -> None:
    attrs: dict[str, Any] = {"type": "rss", "text": feed.title or feed.url, "title": feed.title or feed.url}
    attrs["xmlUrl"] = feed.url
    if feed.html_url:
        attrs["htmlUrl"] = feed.html_url
    if feed.language:
        attrs["language"] = feed.language
    if feed.tags:
        attrs["category"] = ",".join(feed.tags)
    ET.SubElement(parent, "outline", attrs)


def write_opml(feeds: Iterable[OpmlFeed], title: str = "Catalogue de sources TFE") -> bytes:
    """An OPML 2.0 document: a folder per first tag, every tag also in ``category``."""
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in feeds:
        if not feed.tags:
            _outline(body, feed)
            continue
        first = feed.tags[0]
        if first not in folders:
            folders[first] = ET.SubElement(body, "outline", {"text": first, "title": first})
        _outline(folders[first], feed)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
