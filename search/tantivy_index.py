"""The text half of the embedded backend: a Tantivy index with a French analyzer.

Text fields (``title`` boosted over ``text``) go through lowercase -> French stop words -> French Snowball
stemmer -> ASCII folding, so "vins" finds "vin" and "energie" finds "énergie". Keyword fields (raw
tokenizer, fast) carry the filter and facet values; ``key`` links each document to its row in the vector
table. User query text is parsed by Tantivy's query parser; syntax it cannot take falls back to the
plain words, so nothing a user types raises.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import tantivy

from search.filters import KEYWORD_FIELDS, field_name, keyword, keyword_values
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
    sb.add_text_field("title", stored=True, tokenizer_name=ANALYZER)
    sb.add_text_field("text", stored=True, tokenizer_name=ANALYZER)
    sb.add_integer_field("position", stored=True)
    sb.add_bytes_field("meta_json", stored=True)
    for name in KEYWORD_FIELDS:
        sb.add_text_field(name, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
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
    doc.add_integer("position", int(passage.position))
    doc.add_bytes("meta_json", json.dumps(passage.meta, default=keyword, ensure_ascii=False).encode("utf-8"))
    for name in KEYWORD_FIELDS:
        for value in keyword_values(passage.meta, name):
            doc.add_text(name, value)
    return doc


def from_document(doc: tantivy.Document) -> Passage:
    d = doc.to_dict()
    raw = d.get("meta_json", [b"{}"])[0]
    meta = json.loads(bytes(raw).decode("utf-8")) if raw else {}
    return Passage(
        id=d["id"][0],
        parent_id=d["parent_id"][0],
        title=(d.get("title") or [""])[0],
        text=(d.get("text") or [""])[0],
        position=int((d.get("position") or [0])[0]),
        meta=meta,
    )


def doc_key(doc: tantivy.Document) -> int:
    return int(doc.to_dict()["key"][0])


# ---------------------------------------------------------------------- queries
def _must(*queries: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


def _not(query: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, query)]
    )


def filter_query(
    schema: tantivy.Schema, node: dict[str, Any] | None, values_for: Any = None
) -> tantivy.Query:
    """A Haystack filter as a Tantivy query over the keyword fields (``None`` matches everything).

    ``values_for(field, op, value)`` lists the stored values satisfying an order comparison
    (``>``, ``>=``, ``<``, ``<=``), which then become a term set; keyword fields are strings.
    """
    if node is None:
        return tantivy.Query.all_query()
    op = node["operator"]
    if "conditions" in node:
        subs = [filter_query(schema, c, values_for) for c in node["conditions"]]
        if op == "AND":
            return _must(*subs) if subs else tantivy.Query.all_query()
        if op == "OR":
            if not subs:
                return tantivy.Query.empty_query()
            return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in subs])
        return _not(_must(*subs) if subs else tantivy.Query.all_query())
    name = field_name(node["field"])
    value = node["value"]
    if op in ("==", "!="):
        if value is None:
            exists = tantivy.Query.exists_query(name)
            return _not(exists) if op == "==" else exists
        term = tantivy.Query.term_query(schema, name, keyword(value))
        return term if op == "==" else _not(term)
    if op in ("in", "not in"):
        terms = [keyword(v) for v in value if v is not None]
        q = tantivy.Query.term_set_query(schema, name, terms) if terms else tantivy.Query.empty_query()
        return q if op == "in" else _not(q)
    matching = list(values_for(name, op, value)) if values_for else []
    if not matching:
        return tantivy.Query.empty_query()
    return tantivy.Query.term_set_query(schema, name, matching)


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


def snippet_html(generator: tantivy.SnippetGenerator | None, doc: tantivy.Document, text: str) -> str:
    """An HTML-safe excerpt with ``<mark>`` around matched terms (the head of the text when none match)."""
    if generator is not None:
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
