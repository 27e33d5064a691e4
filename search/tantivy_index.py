"""The text half of the embedded backend: a Tantivy index with a French analyzer, storing no text.

Text fields (``title`` boosted over ``text``) go through lowercase -> French stop words -> French Snowball
stemmer -> ASCII folding, so "vins" finds "vin" and "energie" finds "énergie". The meta values are
indexed for filtering in two JSON fields (``search.tantivy_filters``); ``date`` is a raw fast field to
browse newest first; ``key`` links each document to its row in the vector table. Only ``id``, ``key``
and ``parent_id`` are stored: titles, texts and meta live sealed in ``search.passage_store`` (layout 3;
``search.upgrade`` moves the texts of an older index there). Snippets are cut from the passage text read
from the store (``snippet_html``), with the same highlighter. User query text is
parsed by Tantivy's query parser; syntax it cannot take falls back to the plain words, so nothing a user
types raises.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import tantivy

from search import tantivy_filters
from search.filters import SORT_FIELD, filter_values, keyword
from search.types import Passage

ANALYZER = "fr_stem"
TEXT_FIELDS = ["title", "text"]
# mild: on PIAF (titles shared by many paragraphs) 1.2 costs 2.5 and 2.0 costs 5 nDCG points
TITLE_BOOST = 0.5
KEYWORD_QUERY_MAX_WORDS = 3  # up to this many words, every term is required (falls back to any term)
SNIPPET_CHARS = 240
_SPECIAL = re.compile(r'[+\-&|!(){}\[\]^"~*?:\\/<>=\'`]')
_OPERATORS = re.compile(r"\b(AND|OR|NOT|IN|TO)\b")


def french_analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stopword("french"))
        .filter(tantivy.Filter.stemmer("french"))
        .filter(tantivy.Filter.ascii_fold())
        .build()
    )


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("key", stored=True, indexed=True, fast=True)
    sb.add_text_field("parent_id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("title", stored=False, tokenizer_name=ANALYZER)  # indexed, never stored
    sb.add_text_field("text", stored=False, tokenizer_name=ANALYZER)
    sb.add_text_field(SORT_FIELD, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    tantivy_filters.add_fields(sb)
    return sb.build()


def open_index(directory: Path) -> tantivy.Index:
    """Open (or create) the index under ``directory`` and register the French analyzer on it."""
    directory.mkdir(parents=True, exist_ok=True)
    schema = build_schema()
    index = tantivy.Index(schema, path=str(directory), reuse=True)
    index.register_tokenizer(ANALYZER, french_analyzer())
    return index


def to_document(passage: Passage, key: int) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", passage.id)
    doc.add_unsigned("key", key)
    doc.add_text("parent_id", passage.parent_id)
    doc.add_text("title", passage.title or "")
    doc.add_text("text", passage.text or "")
    sort_value = passage.meta.get(SORT_FIELD)
    if sort_value is not None and not isinstance(sort_value, list | dict):
        doc.add_text(SORT_FIELD, keyword(sort_value))
    tantivy_filters.add_values(doc, filter_values(passage.meta))
    return doc


def doc_id(doc: tantivy.Document) -> str:
    """The passage id of a stored document (the only text-like value the index stores, with the parent)."""
    return str(doc.to_dict()["id"][0])


def doc_key(doc: tantivy.Document) -> int:
    return int(doc.to_dict()["key"][0])


# ---------------------------------------------------------------------- queries
def sanitize(text: str) -> str:
    """User text with query syntax removed: plain words only (the fallback when parsing fails)."""
    return " ".join(_OPERATORS.sub(" ", _SPECIAL.sub(" ", text)).split())


def text_query(index: tantivy.Index, text: str, *, conjunction: bool = False) -> tantivy.Query:
    """Parse user text over title (boosted) and text; fields named in the text are not honoured.

    ``conjunction`` requires every term (keyword queries such as "vins Allemagne"); otherwise any term
    matches and BM25 ranks (natural-language questions).
    """
    boosts = {"title": TITLE_BOOST}
    escaped = text.replace("\\", " ").replace(":", " ")
    try:
        return index.parse_query(
            escaped, TEXT_FIELDS, field_boosts=boosts, conjunction_by_default=conjunction
        )
    except ValueError:
        pass
    words = sanitize(text)
    if not words:
        return tantivy.Query.empty_query()
    query, _errors = index.parse_query_lenient(
        words, TEXT_FIELDS, field_boosts=boosts, conjunction_by_default=conjunction
    )
    return query


def is_keyword_query(text: str) -> bool:
    """Short queries (at most three words) are keyword lists whose terms must all match."""
    return len(sanitize(text).split()) <= KEYWORD_QUERY_MAX_WORDS


# ---------------------------------------------------------------------- snippets
def make_snippet_generator(
    searcher: tantivy.Searcher, query: tantivy.Query | None, schema: tantivy.Schema
) -> tantivy.SnippetGenerator | None:
    if query is None:
        return None
    gen = tantivy.SnippetGenerator.create(searcher, query, schema, "text")
    gen.set_max_num_chars(SNIPPET_CHARS)
    return gen


def snippet_html(generator: tantivy.SnippetGenerator | None, text: str) -> str:
    """An HTML-safe excerpt of ``text`` (the passage text from the store) with ``<mark>`` around matched
    terms (the head of the text when none match)."""
    if generator is not None:
        doc = tantivy.Document()
        doc.add_text("text", text)
        snippet = generator.snippet_from_doc(doc)
        fragment = snippet.fragment()
        ranges = snippet.highlighted()
        if fragment and ranges:
            raw = fragment.encode("utf-8")
            out, pos = [], 0
            for r in sorted(ranges, key=lambda r: r.start):
                if r.start < pos:
                    continue
                out.append(html.escape(raw[pos : r.start].decode("utf-8", "replace"), quote=False))
                marked = html.escape(raw[r.start : r.end].decode("utf-8", "replace"), quote=False)
                out.append(f"<mark>{marked}</mark>")
                pos = r.end
            out.append(html.escape(raw[pos:].decode("utf-8", "replace"), quote=False))
            return "".join(out).strip()
    head = " ".join(text.split())
    if len(head) > SNIPPET_CHARS:
        cut = head.rfind(" ", 0, SNIPPET_CHARS)
        head = head[: cut if cut > 0 else SNIPPET_CHARS] + "…"
    return html.escape(head, quote=False)
