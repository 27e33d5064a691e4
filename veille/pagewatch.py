"""Watched pages: the text of one region of a page, compared with the last poll's, with a unified diff.

A ``watch`` source names a region of a page (``config["selector"]``, CSS or XPath per
``config["selector_type"]``, CSS by default). Each poll decodes the page (the charset of the
``Content-Type`` header, else a BOM or ``<meta charset>``, else UTF-8 when it decodes, else windows-1252
as browsers do when a Western reading is plausible, else charset_normalizer's guess), selects the region
with parsel, and reduces it to normalised text: one line per block element, source whitespace collapsed,
``script``/``style``/``noscript``/``template`` dropped. The text is compared with the text kept from the
previous poll: the first poll is a baseline (``changed`` false), a later one is a change only when the
normalised text differs, so a page that only re-indents its HTML is not a change. ``diff`` is a unified
diff of the changed lines, capped at ``DIFF_MAX_CHARS``.

A selector that matches nothing raises ``ValidationError("le sélecteur ne trouve rien sur la page")``:
the poller records the poll as failed with that reason. The text helpers here (``decode_html``,
``node_text``, ``normalise_lines``) are also used by the crawl worker and the full-text extractor.
"""

from __future__ import annotations

import codecs
import difflib
import re
from dataclasses import dataclass
from typing import Any

from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from tfe.core.errors import ValidationError

__all__ = [
    "DIFF_MAX_CHARS",
    "REGION_MAX_CHARS",
    "SELECTOR_TYPES",
    "WatchOutcome",
    "decode_html",
    "html_language",
    "node_text",
    "normalise_lines",
    "page_title",
    "select",
    "validate_selector",
    "validate_watch_config",
    "watch_region",
]

DIFF_MAX_CHARS = 20_000
REGION_MAX_CHARS = 200_000  # the text kept per poll (and compared with the next one)
SELECTOR_TYPES = ("css", "xpath")

_SKIPPED = frozenset({"script", "style", "noscript", "template", "head"})
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "dialog", "div"),
        *("dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5"),
        *("h6", "header", "hr", "li", "main", "nav", "ol", "option", "p", "pre", "section", "summary"),
        *("table", "tbody", "tfoot", "thead", "tr", "ul"),
    }
)
_CELLS = frozenset({"td", "th"})
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
# a plausible Western single-byte reading: the network's languages, so windows-1252 as browsers do
_WESTERN = frozenset({"cp1252", "cp1250", "latin_1", "iso8859_15", "iso8859_2", "mac_roman", "mac_latin2"})
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class WatchOutcome:
    text: str  # the region's normalised text, to keep for the next poll
    changed: bool  # false on the first poll (baseline) and when the text is the same
    diff: str  # unified diff from the previous text ("" when unchanged), capped at DIFF_MAX_CHARS
    title: str  # the page's title (or its URL when it has none)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """``body`` as text: header charset, BOM, ``<meta charset>``, UTF-8, windows-1252 or a guess."""
    declared = _HEADER_CHARSET.search(content_type or "")
    candidates: list[str | None] = [_codec(declared.group(1)) if declared else None]
    candidates += [codec for bom, codec in _BOMS if body.startswith(bom)]
    meta = _META_CHARSET.search(body[:4096])
    candidates.append(_codec(meta.group(1).decode("ascii", "replace")) if meta else None)
    for codec in candidates:
        if codec:
            try:
                return body.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(body[:1_000_000]))
    if matches and not any(match.encoding in _WESTERN for match in matches):
        return body.decode(matches[0].encoding, errors="replace")  # Cyrillic, Greek, CJK, ...
    return body.decode("windows-1252", errors="replace")  # the web's default for undeclared legacy pages


def normalise_lines(text: str) -> str:
    """One line per non-empty line of ``text``, inner whitespace collapsed to one space."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _flat(text: str, pre: bool) -> str:
    """Text as rendered: line breaks in the source are spaces, except inside ``<pre>``."""
    return text if pre else _SPACES.sub(" ", text)


def _walk(root: Any, out: list[str]) -> None:
    """Append the text of ``root`` (not its tail) to ``out``: a line break around each block element,
    source whitespace collapsed; iterative, so deep trees do not recurse."""
    stack: list[tuple[Any, bool, bool]] = [(root, False, False)]  # (element, closing, inside <pre>)
    while stack:
        element, closing, pre = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""  # comments and PIs have no string tag
        name = tag.rsplit("}", 1)[-1].lower()
        shown = bool(tag) and name not in _SKIPPED
        if closing:
            if shown and name in _BLOCKS:
                out.append("\n")
            if element is not root and element.tail:
                out.append(_flat(element.tail, pre))
            continue
        stack.append((element, True, pre))
        if not shown:
            continue
        inner = pre or name == "pre"
        out.append("\n" if name in _BLOCKS else " " if name in _CELLS else "")
        if element.text:
            out.append(_flat(element.text, inner))
        stack.extend((child, False, inner) for child in reversed(element))


def node_text(selection: Selector) -> str:
    """The normalised text of one parsel selection (an element, or a text/attribute result)."""
    root = selection.root
    if isinstance(root, str):
        return normalise_lines(root)
    out: list[str] = []
    _walk(root, out)  # the text after the region is not part of it
    return normalise_lines("".join(out))


def validate_selector(selector: object, selector_type: object = "css", *, field: str = "selector") -> str:
    """``selector`` if it is a non-empty, well-formed CSS or XPath selector, else ``ValidationError``."""
    if selector_type not in SELECTOR_TYPES:
        raise ValidationError(f"selector_type doit valoir css ou xpath (reçu {selector_type!r})")
    if not isinstance(selector, str) or not selector.strip():
        raise ValidationError(f"le sélecteur {field} est obligatoire (texte CSS ou XPath)")
    try:
        if selector_type == "css":
            HTMLTranslator().css_to_xpath(selector)
        else:
            Selector(text="<html></html>").xpath(selector)
    except Exception as exc:  # cssselect and lxml raise their own error classes
        raise ValidationError(f"sélecteur {field} invalide ({selector_type}) : {selector[:200]}") from exc
    return selector


def validate_watch_config(config: object) -> dict[str, Any]:
    """The watch config checked (``selector``, ``selector_type``), for ``tfe source add`` and the poller."""
    if not isinstance(config, dict):
        raise ValidationError("la configuration d'une page surveillée doit être un objet JSON")
    selector_type = config.get("selector_type", "css")
    selector = validate_selector(config.get("selector"), selector_type)
    return {**config, "selector": selector, "selector_type": selector_type}


def select(document: Selector, selector: str, selector_type: str) -> list[Selector]:
    """The nodes ``selector`` matches in ``document``."""
    return list(document.css(selector) if selector_type == "css" else document.xpath(selector))


def page_title(document: Selector, default: str = "") -> str:
    """``og:title``, else ``<title>``, else the first ``<h1>``, else ``default``."""
    for query in ('//meta[@property="og:title"]/@content', "//title", "//h1"):
        found = document.xpath(query)
        if found:
            title = " ".join(node_text(found[0]).split())
            if title:
                return title[:500]
    return default


def html_language(document: Selector) -> str | None:
    """The two-letter language the page declares (``<html lang>``, ``content-language``), if any."""
    for query in ("/html/@lang", '//meta[@http-equiv="content-language"]/@content', "//html/@xml:lang"):
        try:
            value = document.xpath(query).get()
        except ValueError:
            continue
        code = (value or "").strip().replace("_", "-").split("-")[0].lower()
        if len(code) == 2 and code.isalpha():
            return code
    return None


def _diff(previous: str, text: str) -> str:
    lines = difflib.unified_diff(
        previous.splitlines(), text.splitlines(), fromfile="avant", tofile="après", lineterm="", n=1
    )
    diff = "\n".join(lines)
    if len(diff) > DIFF_MAX_CHARS:
        cut = diff.rfind("\n", 0, DIFF_MAX_CHARS)
        diff = diff[: cut if cut > 0 else DIFF_MAX_CHARS] + "\n… (différences tronquées)"
    return diff


def watch_region(
    body: bytes, url: str, config: dict[str, Any], previous: str | None, *, content_type: str | None = None
) -> WatchOutcome:
    """The region's text and whether it changed since ``previous`` (None: first poll, a baseline).

    ``content_type`` is the response's ``Content-Type`` header (its charset wins when given).
    Raises ``ValidationError`` for a bad config and when the selector matches nothing."""
    checked = validate_watch_config(config)
    document = Selector(text=decode_html(body, content_type), base_url=url)
    nodes = select(document, checked["selector"], checked["selector_type"])
    parts = [part for part in (node_text(node) for node in nodes) if part]
    if not parts:
        raise ValidationError("le sélecteur ne trouve rien sur la page")
    text = "\n".join(parts)[:REGION_MAX_CHARS]
    title = page_title(document, default=url)
    if previous is None:
        return WatchOutcome(text=text, changed=False, diff="", title=title)
    before = normalise_lines(previous)
    if before == text:
        return WatchOutcome(text=text, changed=False, diff="", title=title)
    return WatchOutcome(text=text, changed=True, diff=_diff(before, text), title=title)
