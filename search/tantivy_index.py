"""The text half of the embedded backend: a Tantivy index with a French analyzer, storing no text.

Text fields go through lowercase -> French stop words (Snowball's, plus the question words and elided
conjunctions of ``EXTRA_STOP_WORDS``) -> French Snowball stemmer -> ASCII folding, so "vins" finds "vin"
and "energie" finds "énergie". The ``text`` field indexes the title followed by the text (one BM25 length
norm over both); the ``title`` field indexes the title alone, mildly boosted (``TITLE_BOOST``). Measured
on PIAF (dev), see docs/benchmarks.md "Ranking quality decisions, 2026-12-02". The meta values are
indexed for filtering in two JSON fields (``search.tantivy_filters``); ``date`` is a raw fast field to
browse newest first; ``key`` links each document to its row in the vector table. Only ``id``, ``key``
and ``parent_id`` are stored: titles, texts and meta live sealed in ``search.passage_store`` (layout 4:
the analyzer's name ``ANALYZER`` is part of the schema, so an index written with an older analyzer no
longer matches and ``search.upgrade`` rebuilds it from the store). Snippets are cut from the passage text
read from the store (``snippet_html``), with the same highlighter. User query text, in the syntax of
``search.query_syntax`` (phrases, exclusions, AND/OR), is parsed by Tantivy's query parser (hyphens and
apostrophes inside a word separate words rather than make a phrase; quotes still do); text of stop words
and signs only matches nothing, text that only excludes matches everything else, and what the parser
cannot take falls back to the plain words less the excluded ones, so nothing a user types raises.
"""

from __future__ import annotations

import functools
import html
import itertools
import re
from pathlib import Path

import tantivy

from search import query_syntax, tantivy_filters
from search.filters import SORT_FIELD, filter_values, keyword
from search.types import Passage

ANALYZER = "fr_stem_v4"  # renamed whenever the analyzer changes: the schema changes, the index is rebuilt
EXACT_ANALYZER = "fr_exact_v4"  # the same chain without the stemmer
TEXT_FIELDS = ["title", "text"]  # the stemmed fields (spelling suggestions look terms up in these)
EXACT_FIELD = "text_exact"  # title and text again, unstemmed: the exact form of a word ranks higher
# PIAF (dev) BM25 nDCG@10 by exact-field boost: 0 -> 0.809, 0.2 -> 0.820, 0.5 -> 0.825 (docs/benchmarks.md)
EXACT_BOOST = 0.5
# mild: the text field already holds the title; on PIAF (titles shared by many paragraphs) 0.2 beats 0.5
TITLE_BOOST = 0.2
# words of questions that carry no topic (rare in documents, so a high IDF would make them noise), and the
# elided conjunctions the tokenizer leaves (« jusqu'à » -> « jusqu »); PIAF (dev): +0.6 nDCG points;
# and « a », « est » (avoir, être: Snowball's list has their other forms)
EXTRA_STOP_WORDS = [
    *("comment", "combien", "pourquoi", "quand", "quoi", "où"),
    *("jusqu", "lorsqu", "puisqu", "quoiqu"),
    *("a", "est"),
]
# adjacent query words found close together in a passage rank it higher: each pair is a phrase query with
# this slop (words between them), its score weighted; PIAF (dev) BM25 nDCG@10 0.826 -> 0.829 (slop 1 / 3 /
# 6 / 10: 0.8281 / 0.8292 / 0.8286 / 0.8275; weight 0.1 / 0.25 / 0.5 / 1: 0.8283 / 0.8292 / 0.8283 / 0.8209,
# a first cut that let a pair loosen a quoted phrase; as built, the query alone decides the matches: 0.8285)
PROXIMITY_SLOP = 3
PROXIMITY_BOOST = 0.25
KEYWORD_QUERY_MAX_WORDS = 3  # up to this many words, every term is required (falls back to any term)
SNIPPET_CHARS = 240
_SPECIAL = re.compile(r'[+\-&|!(){}\[\]^"~*?:\\/<>=\'`]')
_OPERATORS = re.compile(r"\b(AND|OR|NOT|IN|TO)\b")
_INNER_JOIN = re.compile(r"(?<=\w)[-'’](?=\w)")  # « États-Unis », « l'origine »: two words, not a phrase


def french_analyzer(stem: bool = True) -> tantivy.TextAnalyzer:
    """The French chain of the text fields; ``stem=False``: the exact field's (no stemmer)."""
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stopword("french"))
        .filter(tantivy.Filter.custom_stopword(EXTRA_STOP_WORDS))
    )
    if stem:
        builder = builder.filter(tantivy.Filter.stemmer("french"))
    return builder.filter(tantivy.Filter.ascii_fold()).build()


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("key", stored=True, indexed=True, fast=True)
    sb.add_text_field("parent_id", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("title", stored=False, tokenizer_name=ANALYZER)  # indexed, never stored
    sb.add_text_field("text", stored=False, tokenizer_name=ANALYZER)
    sb.add_text_field(EXACT_FIELD, stored=False, tokenizer_name=EXACT_ANALYZER)
    sb.add_text_field(SORT_FIELD, stored=False, fast=True, tokenizer_name="raw", index_option="basic")
    tantivy_filters.add_fields(sb)
    return sb.build()


def open_index(directory: Path) -> tantivy.Index:
    """Open (or create) the index under ``directory`` and register the French analyzer on it."""
    directory.mkdir(parents=True, exist_ok=True)
    schema = build_schema()
    index = tantivy.Index(schema, path=str(directory), reuse=True)
    index.register_tokenizer(ANALYZER, french_analyzer())
    index.register_tokenizer(EXACT_ANALYZER, french_analyzer(stem=False))
    return index


def to_document(passage: Passage, key: int) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", passage.id)
    doc.add_unsigned("key", key)
    doc.add_text("parent_id", passage.parent_id)
    doc.add_text("title", passage.title or "")
    body = indexed_text(passage)
    doc.add_text("text", body)
    doc.add_text(EXACT_FIELD, body)
    sort_value = passage.meta.get(SORT_FIELD)
    if sort_value is not None and not isinstance(sort_value, list | dict):
        doc.add_text(SORT_FIELD, keyword(sort_value))
    tantivy_filters.add_values(doc, filter_values(passage.meta))
    return doc


def indexed_text(passage: Passage) -> str:
    """What the ``text`` field indexes: the title, then the text."""
    return "\n".join(part for part in (passage.title, passage.text) if part)


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
    boosts = {"title": TITLE_BOOST, EXACT_FIELD: EXACT_BOOST}
    fields = [*TEXT_FIELDS, EXACT_FIELD]
    normalised = query_syntax.normalise(text)  # the supported syntax only (search.query_syntax)
    if not _query_analyzer().analyze(query_syntax.plain_words(normalised)):
        if not query_syntax.has_exclusions(normalised):  # stop words, signs: nothing to look for
            return tantivy.Query.empty_query()
        normalised = f"* {normalised}"  # only exclusions: everything else
    escaped = _INNER_JOIN.sub(" ", normalised)
    try:
        query = index.parse_query(escaped, fields, field_boosts=boosts, conjunction_by_default=conjunction)
    except ValueError:
        words = query_syntax.plain_words(normalised)  # never the excluded words
        if not _query_analyzer().analyze(words):
            return tantivy.Query.empty_query()
        query, _errors = index.parse_query_lenient(
            words, fields, field_boosts=boosts, conjunction_by_default=conjunction
        )
    return query if conjunction else with_proximity(index, query, normalised)


def word_pairs(text: str) -> list[tuple[str, str]]:
    """The adjacent pairs of ``text``'s searchable words (not excluded, not stop words), as typed, each
    pair once, a word next to itself left out."""
    return [(first, second) for (first, _), (second, _) in _adjacent_words(text)]


def _adjacent_words(text: str) -> list[tuple[tuple[str, list[str]], tuple[str, list[str]]]]:
    """``word_pairs`` with each word's analysed terms (every word analysed once)."""
    analyzer = _query_analyzer()
    analysed = [(word, analyzer.analyze(word)) for word in query_syntax.plain_words(text).split()]
    searchable = [(word, terms) for word, terms in analysed if terms]
    pairs: dict[tuple[str, str], tuple[tuple[str, list[str]], tuple[str, list[str]]]] = {}
    for first, second in itertools.pairwise(searchable):
        if first[0].lower() != second[0].lower():
            pairs.setdefault((first[0], second[0]), (first, second))
    return list(pairs.values())


def with_proximity(index: tantivy.Index, query: tantivy.Query, text: str) -> tantivy.Query:
    """``query`` (which alone decides what matches) scoring higher where adjacent words of ``text`` occur
    within ``PROXIMITY_SLOP`` words of each other in the ``text`` field (``PROXIMITY_BOOST``)."""
    phrases = []
    for (_, first), (_, second) in _adjacent_words(text):
        terms: list[str | tuple[int, str]] = [*first, *second]
        if len(terms) == 2 and terms[0] != terms[1]:
            phrase = tantivy.Query.phrase_query(index.schema, "text", terms, PROXIMITY_SLOP)
            phrases.append((tantivy.Occur.Should, tantivy.Query.boost_query(phrase, PROXIMITY_BOOST)))
    if not phrases:
        return query
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query), *phrases])


_PLAIN = re.compile(r"[^\W_]+(?:\s+[^\W_]+)*")


def plain_words_only(text: str) -> bool:
    """Whether ``text_query`` makes one term query per word and field of ``text``: words of letters and
    digits only (a « - » or « ' » between letters splits two words), no operator word, no phrase."""
    normalised = _INNER_JOIN.sub(" ", query_syntax.normalise(text)).strip()
    return bool(_PLAIN.fullmatch(normalised)) and not _OPERATORS.search(normalised)  # AND OR NOT IN TO


@functools.cache
def _query_analyzer() -> tantivy.TextAnalyzer:
    """The text fields' analyzer, to tell query text with words from text of stop words only."""
    return french_analyzer()


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
